"""Feishu/Lark custom bot: settings (stdlib only) and notifier."""
