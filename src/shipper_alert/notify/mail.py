"""Email: the alert as one multipart/alternative message, over SMTP or AWS SES.

(The module is `mail`, not `email`, so that it cannot shadow the standard library.)

The message (channels.md §3.1, "Sketch" and "Escaping"):
- `email.message.EmailMessage`, multipart/alternative: text/plain first, text/html last
  (the preferred alternative goes last, RFC 2046 §5.1.4), both UTF-8 and transfer-encoded
  to 7-bit (quoted-printable or base64), so no server needs 8BITMIME;
- Subject from `email.subject.j2` with CR/LF removed (a header must never carry them);
  From = EMAIL_FROM, To = EMAIL_TO; Date = the check's time in ALERT_TIMEZONE; a
  Message-ID at the sender's domain; `Auto-Submitted: auto-generated` (RFC 3834 §5) so
  that out-of-office robots do not answer an alert;
- the HTML part comes from `email.html.j2`, which Jinja autoescapes, so a task message
  such as `<script>` or `<a href=...>` arrives as text. (A mail client may still turn a
  bare URL inside a message into a link by itself; the markup cannot.)
`build` is pure: the date comes from the report, the Message-ID and MIME boundary are
digests of the content, so the same report gives byte-identical messages.

Size. Email has no tight limit (SES: 10 MB a message, §3.3), but an alert must open fast
on a phone and be visible in full: the whole message as it goes on the wire (CRLF line
ends, transfer-encoded, headers included: what an SMTP server's SIZE and DATA limits
count) is kept within `MAX_MESSAGE_BYTES` = 64 KiB, a few hundred task lines, more than
anyone reads at 3 a.m. (the result JSON lists every failed ID). It keeps the HTML part,
about half the message, far from the ~102 KB at which Gmail clips a message behind a
"view entire message" link and so hides its end (a widely reported threshold, not in
channels.md: **UNCERTAIN**). When the findings do not fit, `fit` leaves out task lines,
then groups, and the message says "and N more", with totals that are always complete.

Recipients. SES takes at most 50 recipients a message (§3.3); SMTP servers must accept at
least 100 (RFC 5321 §4.5.3.1.8). Longer EMAIL_TO lists are split into several messages.

SMTP (§3.1):
- SMTP_SECURITY `ssl`: implicit TLS (`SMTP_SSL`); `starttls`: plain connect, then
  STARTTLS, required (a server that does not offer it is refused, never sent to in clear);
  `none`: plain, allowed by config only to a loopback host;
- an `ssl.create_default_context()` is ALWAYS passed: without one smtplib verifies
  neither the certificate nor the host name;
- `timeout=` on the connection, which smtplib applies to the connect and to every read
  and write (it blocks forever without), and the whole session (and each SES call) under
  `transport.run_within`, whose watchdog shuts the socket down at the attempt's deadline:
  a server trickling its replies byte by byte trips no read timeout;
- AUTH (LOGIN/PLAIN, whatever smtplib and the server agree on) only when SMTP_USERNAME
  is set; the EHLO name is `localhost` (as Alertmanager's default), because smtplib's
  default, `socket.getfqdn()`, is a DNS lookup no timeout bounds.
Classification (§3.1 "Errors", §8 rules 2-3): a 4xx reply (421, 450, 451, 452, 454 ...),
a refused or dropped connection and a timeout are retryable; a 5xx reply (535 auth, 550,
552, 554 ...), a certificate that does not verify and a missing STARTTLS are not.

Recipients refused one by one (RCPT): the message still goes to those accepted, and the
notifier remembers, per message, who has it: a retry goes only to recipients still
pending, so nobody receives an alert twice. The message counts as delivered only when
every recipient accepted it: a recipient refused permanently (5xx) fails the channel
with an error naming the address and the server's reply, without retrying; one refused
temporarily (4xx) is retried.

SES (§3.3): `send_raw_email` of the same message (SES replaces Date and Message-ID with
its own; the recipients are those of its To header), in SES_REGION, with the standard
AWS credential chain. boto3 is an optional extra, imported only on this path. The client
has explicit connect/read timeouts and `total_max_attempts=1`, so that the delivery stage
alone retries. `Throttling`, `ThrottlingException`, `TooManyRequestsException` and any
5xx are retryable; `MessageRejected`, `MailFromDomainNotVerifiedException`,
`AccountSendingPausedException`, `ConfigurationSetSendingPausedException` and every other
4xx are not (§3.3, §8). Up to 50 recipients a message (§3.3, see "Recipients").

No error detail carries the SMTP password (it is never part of a reply, and is scrubbed
again besides) or an AWS credential.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import smtplib
import socket
import ssl
from binascii import b2a_base64, b2a_qp
from collections.abc import Sequence
from datetime import datetime, timezone
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, getaddresses, parseaddr
from typing import TYPE_CHECKING, Any, ClassVar

from shipper_alert import __version__, transport
from shipper_alert.config import EmailSettings
from shipper_alert.notify.base import DeliveryFailure, Notifier, Outgoing, fit
from shipper_alert.redact import SecretScrubber
from shipper_alert.render import Renderer, one_line
from shipper_alert.report import Report
from shipper_alert.view import MessageView

if TYPE_CHECKING:
    import boto3

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024
SES_MAX_RECIPIENTS = 50  # channels.md §3.3
SMTP_MAX_RECIPIENTS = 100  # RFC 5321 §4.5.3.1.8: the least a server must accept
SES_CONNECT_TIMEOUT = 3.05
EHLO_NAME = "localhost"
# CRLF line ends; non-ASCII bodies are quoted-printable or base64, never raw 8-bit.
POLICY = SMTP_POLICY.clone(cte_type="7bit")

SES_RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


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
    message["X-Mailer"] = f"shipper-alert/{__version__}"
    message.set_content(text, subtype="plain", charset="utf-8", cte=transfer_encoding(text))
    message.add_alternative(html, subtype="html", charset="utf-8", cte=transfer_encoding(html))
    for part in message.iter_parts():  # MIME-Version belongs to the top level only
        del part["MIME-Version"]
    # "=_" cannot occur in quoted-printable or base64 text, and a 7bit part would have
    # to contain the digest of its own content: the boundary cannot collide with a line.
    message.set_boundary(f"=_shipper-alert_{digest[32:56]}")
    return message


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}".strip()


def _retryable_code(code: int) -> bool:
    """SMTP: 4xx is transient, 5xx permanent (channels.md §3.1); anything else odd: retry."""
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
        text = "; ".join(f"{a}: {_reply_text(c, r)}" for a, (c, r) in refused.items())
        retryable = any(_retryable_code(c) for c, _ in refused.values())
        return DeliveryFailure(f"{where}: every recipient refused: {text}", retryable=retryable)
    if isinstance(exc, smtplib.SMTPResponseException):  # connect, HELO, MAIL, AUTH, DATA
        reply = _reply_text(exc.smtp_code, exc.smtp_error)
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


def ses_failure(exc: BaseException, where: str) -> DeliveryFailure:
    """Classify what boto3/botocore raised for one `send_raw_email` call."""
    from botocore import exceptions as boto_errors  # noqa: PLC0415 - optional extra

    if isinstance(exc, boto_errors.ClientError):
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(error.get("Code") or "Unknown")
        status = int(meta.get("HTTPStatusCode") or 0)
        detail = f"{where}: {code}"
        if status:
            detail += f" (HTTP {status})"
        if error.get("Message"):
            detail += f": {' '.join(str(error['Message']).split())}"
        if meta.get("RequestId"):
            detail += f" (request id {meta['RequestId']})"
        return DeliveryFailure(detail, retryable=code in SES_RETRYABLE_CODES or status >= 500)
    if isinstance(exc, boto_errors.NoCredentialsError):
        return DeliveryFailure(
            f"{where}: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or another source of the standard AWS credential chain)",
            retryable=False,
        )
    if isinstance(exc, boto_errors.SSLError):  # certificate or TLS failure: not transient
        return DeliveryFailure(f"{where}: TLS failed ({exc})", retryable=False)
    if isinstance(exc, (boto_errors.ConnectTimeoutError, boto_errors.ReadTimeoutError)):
        return DeliveryFailure(f"{where}: no answer in time", retryable=True)
    if isinstance(exc, (boto_errors.ConnectionError, boto_errors.HTTPClientError)):
        # EndpointConnectionError, ConnectionClosedError, proxy and SSL transport errors
        return DeliveryFailure(f"{where}: connection failed ({type(exc).__name__})", retryable=True)
    return DeliveryFailure(f"{where}: {type(exc).__name__}: {exc}", retryable=False)


class EmailNotifier(Notifier):
    """EMAIL_TO over SMTP or SES; see the module docstring."""

    name: ClassVar[str] = "email"

    def __init__(
        self,
        settings: EmailSettings,
        *,
        ssl_context: ssl.SSLContext | None = None,
        boto_session: boto3.session.Session | None = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        """`ssl_context` (tests only) replaces `ssl.create_default_context()`, e.g. to
        trust a test CA; it must verify. `boto_session` (tests only) is the boto3 session
        the SES client comes from."""
        self.settings = settings
        self.max_message_bytes = max_message_bytes
        if ssl_context is not None and ssl_context.verify_mode != ssl.CERT_REQUIRED:
            raise ValueError("the SMTP TLS context must verify certificates")
        self._ssl_context = ssl_context
        self._boto_session = boto_session
        self._ses_clients: dict[float, Any] = {}
        # Per Message-ID: recipients that have the message, and those refused for good.
        self._accepted: dict[str, set[str]] = {}
        self._rejected: dict[str, dict[str, str]] = {}

    # -- build (pure) ---------------------------------------------------------------------
    def build(self, report: Report, renderer: Renderer) -> list[Outgoing]:
        limit = SES_MAX_RECIPIENTS if self.settings.transport == "ses" else SMTP_MAX_RECIPIENTS
        to = self.settings.to
        batches = [to[i : i + limit] for i in range(0, len(to), limit)] or [()]
        at = report.checked_at or report.window.end
        date = datetime.fromtimestamp(at, report.timezone or timezone.utc)
        messages: list[Outgoing] = []
        for batch in batches:

            def render(view: MessageView, batch: tuple[str, ...] = batch) -> Outgoing:
                subject = one_line(renderer.render("email.subject.j2", view=view))
                text = renderer.render("email.text.j2", view=view)
                html = renderer.render("email.html.j2", view=view)
                identity = "|".join(
                    str(v)
                    for v in (
                        report.window.start,
                        report.window.end,
                        at,
                        report.request_id,
                        view.part,
                        view.parts,
                    )
                )
                message = compose(
                    subject=subject,
                    text=text,
                    html=html,
                    sender=self.settings.sender,
                    recipients=batch,
                    date=date,
                    identity=identity,
                )
                return Outgoing(self.name, subject, text, message)

            messages.extend(fit(report, render, self.fits))
        return messages

    def fits(self, outgoing: Outgoing) -> bool:
        return len(wire_bytes(outgoing.payload)) <= self.max_message_bytes

    # -- send (one attempt) -----------------------------------------------------------------
    def send(self, outgoing: Outgoing, timeout: float) -> None:
        message: EmailMessage = outgoing.payload
        key = str(message["Message-ID"])
        accepted = self._accepted.setdefault(key, set())
        rejected = self._rejected.setdefault(key, {})
        recipients = recipients_of(message)
        pending = [r for r in recipients if r not in accepted and r not in rejected]
        if pending:
            if self.settings.transport == "ses":
                self._send_ses(message, timeout)  # all or nothing: no partial refusal
                accepted.update(pending)
                return
            refused = self._send_smtp(message, pending, timeout)
            accepted.update(r for r in pending if r not in refused)
        else:
            refused = {}
        temporary = {a: _reply_text(c, r) for a, (c, r) in refused.items() if c < 500}
        rejected.update({a: _reply_text(c, r) for a, (c, r) in refused.items() if c >= 500})
        if not temporary and not rejected:
            return
        parts = [f"{self._where()}: delivered to {len(accepted)} of {len(recipients)} recipients"]
        if rejected:
            parts.append("refused: " + "; ".join(f"{a}: {r}" for a, r in rejected.items()))
        if temporary:
            parts.append("refused for now: " + "; ".join(f"{a}: {r}" for a, r in temporary.items()))
        raise DeliveryFailure(
            SecretScrubber.scrub("; ".join(parts)),
            retryable=bool(temporary),
            partial=bool(accepted),
        )

    def close(self) -> None:
        for client in self._ses_clients.values():
            client.close()
        self._ses_clients.clear()

    # -- SMTP -------------------------------------------------------------------------------
    def _where(self) -> str:
        s = self.settings
        if s.transport == "ses":
            return f"email (ses {s.ses_region})"
        return f"email (smtp {s.smtp_host}:{s.smtp_port})"

    def _send_smtp(
        self, message: EmailMessage, recipients: list[str], timeout: float
    ) -> dict[str, tuple[int, bytes]]:
        """One SMTP session within `timeout` as a whole (each read is bounded by it too,
        and a watchdog closes the socket at the end); returns the recipients refused.
        """
        session: dict[str, smtplib.SMTP] = {}
        try:
            return transport.run_within(
                timeout,
                # Each read's own timeout fires first, so a silent server says so.
                lambda: self._smtp_session(message, recipients, timeout * 0.9, session),
                # Not client.close(): it waits for the lock the blocked reader holds.
                cancel=lambda: transport.shutdown_socket(session.get("client")),
                what="SMTP session",
            )
        except transport.ExchangeTimeout as exc:
            raise DeliveryFailure(f"{self._where()}: {exc}", retryable=True) from None

    def _smtp_session(
        self,
        message: EmailMessage,
        recipients: list[str],
        timeout: float,
        session: dict[str, smtplib.SMTP],
    ) -> dict[str, tuple[int, bytes]]:
        s = self.settings
        host, port = s.smtp_host or "", s.smtp_port
        context = self._ssl_context or ssl.create_default_context()
        client: smtplib.SMTP | None = None
        try:
            # Connected after the client is handed to the watchdog, so that a greeting
            # trickled byte by byte can be cut off too.
            if s.smtp_security == "ssl":
                client = smtplib.SMTP_SSL(
                    local_hostname=EHLO_NAME, timeout=timeout, context=context
                )
            else:
                client = smtplib.SMTP(local_hostname=EHLO_NAME, timeout=timeout)
            session["client"] = client
            client._host = host
            code, greeting = client.connect(host, port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, greeting)
            client.ehlo()
            if s.smtp_security == "starttls":
                if not client.has_extn("starttls"):
                    raise DeliveryFailure(
                        f"{self._where()}: the server does not offer STARTTLS; "
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
            try:
                refused = client.send_message(
                    message, from_addr=envelope_address(s.sender), to_addrs=recipients
                )
            except smtplib.SMTPRecipientsRefused as exc:  # all of them: nothing was sent
                refused = exc.recipients
        except DeliveryFailure:
            self._discard(client)
            raise
        except Exception as exc:
            self._discard(client)
            failure = smtp_failure(exc, self._where())
            raise DeliveryFailure(
                SecretScrubber.scrub(failure.detail), retryable=failure.retryable
            ) from None
        # Sent: a failing QUIT must not turn a delivered message into a retry.
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            self._discard(client)
        return dict(refused)

    @staticmethod
    def _discard(client: smtplib.SMTP | None) -> None:
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()

    # -- SES --------------------------------------------------------------------------------
    def _ses_client(self, timeout: float) -> Any:
        key = round(timeout, 1)
        client = self._ses_clients.get(key)
        if client is None:
            import boto3  # noqa: PLC0415 - optional extra, only on the SES path
            from botocore.config import Config  # noqa: PLC0415

            if self._boto_session is None:
                # A session of our own: boto3's default session is not thread-safe, and
                # delivery runs each channel in its own thread.
                self._boto_session = boto3.session.Session()
            config = Config(
                region_name=self.settings.ses_region,
                connect_timeout=min(SES_CONNECT_TIMEOUT, timeout),
                read_timeout=timeout,
                retries={"mode": "standard", "total_max_attempts": 1},
                user_agent_extra=f"shipper-alert/{__version__}",
            )
            client = self._boto_session.client("ses", config=config)
            self._ses_clients[key] = client
        return client

    def _send_ses(self, message: EmailMessage, timeout: float) -> None:
        where = self._where()
        try:
            client = self._ses_client(timeout)
        except ImportError:
            raise DeliveryFailure(
                f"{where}: EMAIL_TRANSPORT=ses needs boto3 (pip install 'shipper-alert[ses]')",
                retryable=False,
            ) from None
        try:
            # No Destinations: SES then sends to the To header's addresses (this batch).
            response = transport.run_within(
                timeout,
                lambda: client.send_raw_email(
                    Source=envelope_address(self.settings.sender),
                    RawMessage={"Data": wire_bytes(message)},
                ),
                what="SES call",
            )
        except transport.ExchangeTimeout as exc:
            raise DeliveryFailure(f"{where}: {exc}", retryable=True) from None
        except Exception as exc:
            raise ses_failure(exc, where) from None
        if not (isinstance(response, dict) and response.get("MessageId")):
            raise DeliveryFailure(f"{where}: answer without a MessageId", retryable=True)
        log.debug("%s: accepted as %s", where, response["MessageId"])
