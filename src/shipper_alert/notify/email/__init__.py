"""Email: settings (stdlib only), message building, SMTP and SES transports, notifier."""
