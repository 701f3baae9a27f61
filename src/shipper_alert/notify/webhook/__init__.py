"""Generic JSON webhook (Alertmanager-shaped): settings (stdlib only) and notifier."""
