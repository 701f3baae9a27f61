"""DingTalk custom robot: settings (stdlib only) and notifier."""
