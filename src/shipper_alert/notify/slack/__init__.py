"""Slack incoming webhook: settings (stdlib only) and notifier."""
