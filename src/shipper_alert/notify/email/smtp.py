"""Email over SMTP: one session an attempt, and how its failures are classified.

4xx replies, refused or dropped connections and timeouts are retryable; 5xx replies, a
certificate that does not verify and a missing STARTTLS are not
(https://www.rfc-editor.org/rfc/rfc5321#section-4.2.1).
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
import ssl
from email.message import EmailMessage

from shipper_alert import watchdog
from shipper_alert.notify.base import DeliveryFailure
from shipper_alert.notify.email.message import envelope_address, wire_bytes, without_attachment
from shipper_alert.notify.email.settings import EmailSettings
from shipper_alert.redact import SecretScrubber

SMTP_MAX_RECIPIENTS = 100  # https://www.rfc-editor.org/rfc/rfc5321#section-4.5.3.1.8
# smtplib's default EHLO name, socket.getfqdn(), is a DNS lookup no timeout bounds.
EHLO_NAME = "localhost"

log = logging.getLogger(__name__)


def where(settings: EmailSettings) -> str:
    return f"email (smtp {settings.smtp_host}:{settings.smtp_port})"


def reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}".strip()


def _retryable_code(code: int) -> bool:
    """SMTP: 4xx is transient, 5xx permanent (RFC 5321 §4.2.1); anything else odd: retry."""
    return not 500 <= code < 600


def smtp_failure(exc: BaseException, where: str) -> DeliveryFailure:
    """Classify what smtplib (or the socket under it) raised during one attempt."""
    if isinstance(exc, smtplib.SMTPException):
        return _protocol_failure(exc, where)
    if isinstance(exc, OSError):  # ssl.SSLError, TimeoutError and socket errors too
        return _transport_failure(exc, where)
    return DeliveryFailure(f"{where}: {type(exc).__name__}: {exc}", retryable=False)


def _protocol_failure(exc: smtplib.SMTPException, where: str) -> DeliveryFailure:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = exc.recipients
        text = "; ".join(f"{a}: {reply_text(c, r)}" for a, (c, r) in refused.items())
        retryable = any(_retryable_code(c) for c, _ in refused.values())
        return DeliveryFailure(f"{where}: every recipient refused: {text}", retryable=retryable)
    if isinstance(exc, smtplib.SMTPResponseException):  # connect, HELO, MAIL, AUTH, DATA
        reply = reply_text(exc.smtp_code, exc.smtp_error)
        if isinstance(exc, smtplib.SMTPSenderRefused):
            reply = f"sender {exc.sender} refused: {reply}"
        elif isinstance(exc, smtplib.SMTPAuthenticationError):
            reply = f"authentication failed (check SMTP_USERNAME and SMTP_PASSWORD): {reply}"
        return DeliveryFailure(f"{where}: {reply}", retryable=_retryable_code(exc.smtp_code))
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib reports a read timeout this way too: "Connection unexpectedly closed:
        # timed out".
        return DeliveryFailure(f"{where}: connection lost ({exc or 'closed'})", retryable=True)
    # SMTPNotSupportedError (no AUTH offered...), "no suitable authentication method"
    return DeliveryFailure(f"{where}: {exc}", retryable=False)


def _transport_failure(exc: OSError, where: str) -> DeliveryFailure:
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or "verification failed"
        return DeliveryFailure(
            f"{where}: the server's TLS certificate was not accepted ({reason})",
            retryable=False,
        )
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return DeliveryFailure(f"{where}: connection closed during TLS", retryable=True)
    if isinstance(exc, ssl.SSLError):  # protocol mismatch: e.g. implicit TLS to a plain port
        reason = exc.reason or type(exc).__name__
        return DeliveryFailure(f"{where}: TLS failed ({reason})", retryable=False)
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError since 3.10
        return DeliveryFailure(f"{where}: no answer in time", retryable=True)
    if isinstance(exc, socket.gaierror):
        return DeliveryFailure(f"{where}: cannot resolve the host ({exc})", retryable=True)
    reason = exc.strerror or type(exc).__name__
    return DeliveryFailure(f"{where}: connection failed ({reason})", retryable=True)


def send(
    settings: EmailSettings,
    message: EmailMessage,
    recipients: list[str],
    timeout: float,
    context: ssl.SSLContext,
) -> dict[str, tuple[int, bytes]]:
    """One SMTP session within `timeout` as a whole; returns the recipients refused while
    others were accepted.

    `ssl` is implicit TLS; `starttls` requires the server to offer STARTTLS (never sent in
    clear); `none` is allowed by configuration only to a loopback host. Each read and write
    is bounded too, and `watchdog.run_within` shuts the socket down at the end: a server
    trickling its replies byte by byte trips no read timeout. AUTH only when SMTP_USERNAME
    is set.
    """
    session: dict[str, smtplib.SMTP] = {}
    try:
        return watchdog.run_within(
            timeout,
            # Each read's own timeout fires first, so a silent server says so.
            lambda: _session(settings, message, recipients, timeout * 0.9, context, session),
            # Not client.close(): it waits for the lock the blocked reader holds.
            cancel=lambda: watchdog.shutdown_socket(session.get("client")),
            what="SMTP session",
        )
    except watchdog.ExchangeTimeout as exc:
        raise DeliveryFailure(f"{where(settings)}: {exc}", retryable=True) from None


def _session(
    settings: EmailSettings,
    message: EmailMessage,
    recipients: list[str],
    timeout: float,
    context: ssl.SSLContext,
    session: dict[str, smtplib.SMTP],
) -> dict[str, tuple[int, bytes]]:
    s = settings
    host, port = s.smtp_host or "", s.smtp_port
    client: smtplib.SMTP | None = None
    try:
        # Connected after the client is handed to the watchdog, so that a greeting
        # trickled byte by byte can be cut off too.
        if s.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(local_hostname=EHLO_NAME, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(local_hostname=EHLO_NAME, timeout=timeout)
        session["client"] = client
        client._host = host  # what SMTP_SSL and starttls() verify the certificate against
        code, greeting = client.connect(host, port)
        if code != 220:
            raise smtplib.SMTPConnectError(code, greeting)
        client.ehlo()
        if s.smtp_security == "starttls":
            if not client.has_extn("starttls"):
                raise DeliveryFailure(
                    f"{where(s)}: the server does not offer STARTTLS; "
                    "not sending in clear (set SMTP_SECURITY=ssl if it speaks implicit TLS)",
                    retryable=False,
                )
            client.starttls(context=context)
            client.ehlo()
        if s.smtp_username:
            password = s.smtp_password.reveal() if s.smtp_password else ""
            # A server may echo the AUTH blob back in its reply.
            SecretScrubber.register_login(s.smtp_username, password)
            client.login(s.smtp_username, password)
        message = _within_size(client, message, where(s))
        try:
            refused = client.send_message(
                message, from_addr=envelope_address(s.sender), to_addrs=recipients
            )
        except smtplib.SMTPRecipientsRefused as exc:  # all of them: nothing was sent
            refused = exc.recipients
    except DeliveryFailure:
        _discard(client)
        raise
    except Exception as exc:
        _discard(client)
        failure = smtp_failure(exc, where(s))
        raise DeliveryFailure(
            SecretScrubber.scrub(failure.detail), retryable=failure.retryable
        ) from None
    # Sent: a failing QUIT must not turn a delivered message into a retry.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        _discard(client)
    return dict(refused)


def _within_size(client: smtplib.SMTP, message: EmailMessage, where: str) -> EmailMessage:
    """`message`, without its attachment when the server's declared SIZE is too small for
    it (https://www.rfc-editor.org/rfc/rfc1870#section-4; 0 is no limit): the alert
    itself then still goes out."""
    declared = client.esmtp_features.get("size", "")
    limit = int(declared) if declared.isdigit() else 0
    if not limit or message.get_content_type() != "multipart/mixed":
        return message
    if len(wire_bytes(message)) <= limit:
        return message
    log.warning(
        "%s: the server takes %d bytes a message; sent without the attachment", where, limit
    )
    return without_attachment(message)


def _discard(client: smtplib.SMTP | None) -> None:
    if client is not None:
        with contextlib.suppress(OSError):
            client.close()
