"""Email's variables, read into frozen settings; standard library only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipper_alert.addresses import is_loopback_host
from shipper_alert.redact import Secret

if TYPE_CHECKING:
    from shipper_alert.reader import Reader

TO = "EMAIL_TO"
FROM = "EMAIL_FROM"
SMTP_HOST = "SMTP_HOST"
SMTP_PORT = "SMTP_PORT"
SMTP_SECURITY = "SMTP_SECURITY"
SMTP_USERNAME = "SMTP_USERNAME"
SMTP_PASSWORD = "SMTP_PASSWORD"
TRANSPORT = "EMAIL_TRANSPORT"
SES_REGION = "SES_REGION"
# The first switches the channel on.
VARIABLES = (
    TO,
    FROM,
    SMTP_HOST,
    SMTP_PORT,
    SMTP_SECURITY,
    SMTP_USERNAME,
    SMTP_PASSWORD,
    TRANSPORT,
    SES_REGION,
)
SECRETS = frozenset({SMTP_PASSWORD})
SMTP_SECURITIES = ("ssl", "starttls", "none")
TRANSPORTS = ("smtp", "ses")
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


@dataclass(frozen=True)
class EmailSettings:
    to: tuple[str, ...]
    sender: str
    transport: str
    smtp_host: str | None
    smtp_port: int
    smtp_security: str
    smtp_username: str | None
    smtp_password: Secret | None
    ses_region: str | None


def read(reader: Reader) -> EmailSettings | None:
    recipients = reader.items(TO)
    sender = reader.text(FROM)
    transport = reader.choice(TRANSPORT, "smtp", TRANSPORTS) or "smtp"
    host = reader.text(SMTP_HOST)
    port = reader.integer(SMTP_PORT, 465, 1, 65535) or 465
    security = reader.choice(SMTP_SECURITY, None, SMTP_SECURITIES)
    username = reader.text(SMTP_USERNAME)
    password = reader.secret(SMTP_PASSWORD)
    region = reader.text(SES_REGION)
    ok = True
    for address in recipients:
        if not _ADDRESS.fullmatch(address):
            reader.problem(TO, f"{address!r} is not an email address")
            ok = False
    if sender is None:
        reader.problem(FROM, "not set, but EMAIL_TO is: email needs a sender address")
        ok = False
    elif not _ADDRESS.search(sender) or "\n" in sender or "\r" in sender:
        reader.problem(FROM, f"{sender!r} is not an email address")
        ok = False
    if security is None:
        security = "ssl" if port == 465 else "starttls"
        reader.show(SMTP_SECURITY, security, "default")
    if transport == "smtp":
        if host is None:
            reader.problem(SMTP_HOST, "not set, but EMAIL_TO is and EMAIL_TRANSPORT is smtp")
            ok = False
        elif security == "none" and not is_loopback_host(host):
            reader.problem(
                SMTP_SECURITY,
                "none is allowed only to a loopback SMTP host; use ssl or starttls",
            )
            ok = False
        if bool(username) != bool(password):
            missing = SMTP_PASSWORD if username else SMTP_USERNAME
            reader.problem(missing, "not set: SMTP_USERNAME and SMTP_PASSWORD go together")
            ok = False
    elif region is None:
        reader.problem(SES_REGION, "not set, but EMAIL_TRANSPORT is ses")
        ok = False
    if not ok:
        return None
    return EmailSettings(
        to=recipients,
        sender=sender or "",
        transport=transport,
        smtp_host=host,
        smtp_port=port,
        smtp_security=security,
        smtp_username=username,
        smtp_password=password,
        ses_region=region,
    )
