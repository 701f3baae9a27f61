"""Logging set-up shared by the FC handler and the command line.

FC's runtime installs a root handler that prefixes time, request id and level
(https://alibabacloud.com/help/en/functioncompute/logging-2); we only set our own logger's
level, keep chatty HTTP libraries at WARNING (urllib3 logs request lines, query strings
included, at DEBUG) and add the secret scrubber to every root handler.
"""

from __future__ import annotations

import logging

from shipper_alert.redact import SecretScrubber

PACKAGE_LOGGER = "shipper_alert"
QUIET_LOGGERS = ("urllib3", "requests", "botocore", "boto3", "s3transfer", "mail.log")


def configure_logging(level: str) -> None:
    logging.getLogger(PACKAGE_LOGGER).setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    SecretScrubber.install()
