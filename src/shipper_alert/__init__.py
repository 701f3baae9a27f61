"""shipper-alert: alerts on failed Alibaba Cloud SLS LogShipper tasks, from Function Compute."""

__version__ = "0.1.0"
# What every outgoing request and message names itself (HTTP, SMTP X-Mailer, SES).
USER_AGENT = f"shipper-alert/{__version__}"
