"""WeCom group robot: settings (stdlib only) and notifier."""
