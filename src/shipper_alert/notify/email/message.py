"""Email: the alert as one multipart/alternative message, byte-identical for one report.

With an attachment (the failed tasks' CSV, attachment.py) the message becomes
multipart/mixed: the alternative first, then the attachment, base64.

- text/plain first, text/html last (the preferred alternative goes last,
  https://www.rfc-editor.org/rfc/rfc2046#section-5.1.4), both UTF-8 and transfer-encoded
  to 7-bit, so no server needs 8BITMIME;
- `Auto-Submitted: auto-generated` (https://www.rfc-editor.org/rfc/rfc3834#section-5) so
  that out-of-office robots do not answer an alert;
- the Message-ID and MIME boundary are digests of the content.
The size limit (the message without its attachment) and why it is 64 KiB:
docs/vendors.md, "Email".
"""

from __future__ import annotations

import copy
import hashlib
import io
from binascii import b2a_base64, b2a_qp
from collections.abc import Sequence
from datetime import datetime
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, getaddresses, parseaddr

from shipper_alert import USER_AGENT
from shipper_alert.copysafe import one_line

MAX_MESSAGE_BYTES = 64 * 1024
# CRLF line ends; non-ASCII bodies are quoted-printable or base64, never raw 8-bit.
POLICY = SMTP_POLICY.clone(cte_type="7bit")


def wire_bytes(message: EmailMessage) -> bytes:
    """The message exactly as smtplib's `send_message` puts it on the wire (CRLF)."""
    buffer = io.BytesIO()
    BytesGenerator(buffer).flatten(message, linesep="\r\n")
    return buffer.getvalue()


def envelope_address(value: str) -> str:
    """The bare address of `Name <address>` (or of a bare address)."""
    return parseaddr(value)[1] or value.strip()


def recipients_of(message: EmailMessage) -> list[str]:
    return [address for _, address in getaddresses(message.get_all("To", [])) if address]


def transfer_encoding(text: str) -> str | None:
    """The shorter of quoted-printable and base64 for `text` (None: 7bit will do).

    Python's own choice looks at the first lines only, so a long CJK message further
    down would go out quoted-printable, 3 bytes for each of its bytes (9 a character)."""
    data = text.encode("utf-8")
    if data.isascii() and max(map(len, data.splitlines()), default=0) <= 998:
        return None
    return "base64" if len(b2a_base64(data)) < len(b2a_qp(data)) else "quoted-printable"


def compose(
    *,
    subject: str,
    text: str,
    html: str,
    sender: str,
    recipients: Sequence[str],
    date: datetime,
    identity: str,
) -> EmailMessage:
    """The multipart/alternative message; `identity` seeds Message-ID and boundary."""
    domain = envelope_address(sender).rpartition("@")[2] or "shipper-alert.invalid"
    digest = hashlib.sha256(
        "\0".join((identity, subject, text, html, *recipients)).encode("utf-8")
    ).hexdigest()
    message = EmailMessage(policy=POLICY)
    message["Subject"] = one_line(subject)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = f"<{digest[:32]}.shipper-alert@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Mailer"] = USER_AGENT
    message.set_content(text, subtype="plain", charset="utf-8", cte=transfer_encoding(text))
    message.add_alternative(html, subtype="html", charset="utf-8", cte=transfer_encoding(html))
    for part in message.iter_parts():  # MIME-Version belongs to the top level only
        del part["MIME-Version"]
    # "=_" cannot occur in quoted-printable or base64 text, and a 7bit part would have
    # to contain the digest of its own content: the boundary cannot collide with a line.
    message.set_boundary(f"=_shipper-alert_{digest[32:56]}")
    return message


def attach(message: EmailMessage, filename: str, data: bytes) -> None:
    """Make `message` multipart/mixed: its alternative, then `data` as a CSV attachment."""
    digest = hashlib.sha256(str(message["Message-ID"]).encode() + b"\0" + data).hexdigest()
    message.make_mixed()
    message.add_attachment(
        data, maintype="text", subtype="csv", filename=filename, params={"charset": "utf-8"}
    )
    for part in message.iter_parts():
        del part["MIME-Version"]
    # Unlike the alternative's "=_shipper-alert_" + hex, and "=_" is in no base64 text.
    message.set_boundary(f"=_shipper-alert-mixed_{digest[:24]}")


def without_attachment(message: EmailMessage) -> EmailMessage:
    """A copy of `message` with its alternative only: what the size limit bounds."""
    if message.get_content_type() != "multipart/mixed":
        return message
    plain = copy.deepcopy(message)
    alternative = next(plain.iter_parts())
    del plain["Content-Type"]
    plain["Content-Type"] = alternative["Content-Type"]
    plain.set_payload(alternative.get_payload())
    return plain
