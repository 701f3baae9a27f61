"""A real SMTP submission server on loopback (aiosmtpd), for the email tests and the demo.

It behaves as a submission server does (RFC 5321, RFC 8314):
- `security="ssl"`: implicit TLS from the first byte; `"starttls"`: STARTTLS offered and
  required before MAIL or AUTH (530 otherwise); `"none"`: plain text. The server side
  of TLS uses the `tls_context` given (e.g. a throwaway CA's certificate from trustme).
- With a `username`, AUTH (LOGIN and PLAIN, or those in `auth_mechanisms`) is required
  before MAIL (`530 5.7.0`), and a wrong login or password gets `535 5.7.8`. AUTH is
  refused over plain text (538) unless `auth_require_tls=False`, which a loopback test
  may set.
- A message above `max_message_bytes` is refused with 552 (aiosmtpd's own check: at MAIL
  when the client declares SIZE, and during DATA).
- A message without `From` or `Date` (required, RFC 5322 §3.6) or `Message-ID` (which
  large providers require) is refused with `550 5.6.0`.
Each accepted message is recorded in `received` (envelope, raw bytes, the parsed
`EmailMessage`, the authenticated login and whether TLS was on); `transactions` counts
every MAIL command, so a test can tell attempts from deliveries; `auth_attempts` records
logins (never passwords). `refuse_next(stage, reply, times)` refuses the next `times`
transactions at MAIL, RCPT or DATA with a chosen reply (a 451 to be retried, a 554 to be
given up on), and `refuse_recipient(address, reply, times)` refuses one address.
Only loopback addresses are ever bound.
"""

from __future__ import annotations

import ipaddress
import ssl
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

STAGES = ("MAIL", "RCPT", "DATA")
SECURITIES = ("none", "starttls", "ssl")
REQUIRED_HEADERS = ("From", "Date", "Message-ID")


@dataclass(frozen=True)
class ReceivedMail:
    """One message the server accepted (answered 250 to its DATA)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes  # the message as received, CRLF line ends, dot-unstuffed
    message: EmailMessage
    login: str | None  # the authenticated user, if any
    tls: bool

    @property
    def size(self) -> int:
        return len(self.data)

    def part(self, subtype: str) -> str:
        """The decoded text of the `text/<subtype>` alternative."""
        body = self.message.get_body(preferencelist=(subtype,))
        if body is None or body.get_content_subtype() != subtype:
            raise LookupError(f"no text/{subtype} part")
        return body.get_content()

    @property
    def attachments(self) -> dict[str, bytes]:
        """Each attached file's name and decoded bytes."""
        return {
            str(part.get_filename()): part.get_payload(decode=True)
            for part in self.message.iter_attachments()
        }

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")


@dataclass(frozen=True)
class AuthAttempt:
    mechanism: str
    login: str
    success: bool


@dataclass(frozen=True)
class Refusal:
    stage: str  # MAIL, RCPT or DATA
    reply: str  # e.g. "451 4.3.0 Try again later"


def _require_loopback(host: str) -> None:
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"the SMTP stand-in binds loopback addresses only, not {host!r}")


class _Controller(Controller):
    """aiosmtpd's Controller, able to listen on an ephemeral port (port 0)."""

    def _trigger_server(self) -> None:
        if self.server is not None and not self.port:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _Handler:
    def __init__(self, standin: SmtpStandIn) -> None:
        self.standin = standin

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        if self.standin.username and not session.authenticated:
            self.standin._begin_transaction(consume=False)
            return "530 5.7.0 Authentication required"
        refusal = self.standin._begin_transaction()
        if refusal is not None and refusal.stage == "MAIL":
            return refusal.reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        envelope.refusal = refusal  # lives as long as this transaction's envelope
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        reply = self.standin._recipient_reply(address)
        if reply is not None:
            return reply
        refusal = getattr(envelope, "refusal", None)
        if refusal is not None and refusal.stage == "RCPT":
            return refusal.reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        refusal = getattr(envelope, "refusal", None)
        if refusal is not None and refusal.stage == "DATA":
            return refusal.reply
        data = bytes(envelope.original_content or b"")
        message = BytesParser(policy=default_policy).parsebytes(data)
        missing = [name for name in REQUIRED_HEADERS if name not in message]
        if missing:
            return f"550 5.6.0 Message rejected: no {', '.join(missing)} header"
        auth = session.auth_data
        login = auth.login.decode("utf-8", "replace") if isinstance(auth, LoginPassword) else None
        mail = ReceivedMail(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=data,
            message=message,
            login=login,
            tls=self.standin.security == "ssl" or session.ssl is not None,
        )
        number = self.standin._record(mail)
        return f"250 2.0.0 OK: queued as standin-{number}"


class SmtpStandIn:
    """See the module docstring. Use as a context manager, or `start()` / `stop()`."""

    name = "smtp"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        security: str = "none",
        tls_context: ssl.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
        auth_require_tls: bool = True,
        auth_mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
        max_message_bytes: int | None = 10 * 1024 * 1024,
    ) -> None:
        _require_loopback(host)
        if security not in SECURITIES:
            raise ValueError(f"security must be one of {SECURITIES}")
        if security != "none" and tls_context is None:
            raise ValueError(f"security={security!r} needs the server's tls_context")
        if bool(username) != bool(password):
            raise ValueError("username and password go together")
        self.host = host
        self.security = security
        self.username = username
        self._password = password
        self.received: list[ReceivedMail] = []
        self.auth_attempts: list[AuthAttempt] = []
        self.transactions = 0
        self._refusals: deque[Refusal] = deque()
        self._recipient_refusals: dict[str, tuple[str, int | None]] = {}
        self._lock = threading.Lock()
        kwargs: dict[str, Any] = {
            "server_hostname": "standin.localhost",
            "data_size_limit": max_message_bytes,
            # Implicit TLS protects AUTH as much as STARTTLS does; aiosmtpd only knows
            # about the latter, so its check is on for STARTTLS and plain text only.
            "auth_require_tls": auth_require_tls and security != "ssl",
        }
        if security == "starttls":
            kwargs.update(tls_context=tls_context, require_starttls=True)
        if username:
            # "Authentication required" (530 before MAIL) is enforced by the handler:
            # aiosmtpd's own auth_required warns whenever auth_require_tls is off.
            excluded = [m for m in ("LOGIN", "PLAIN") if m not in auth_mechanisms]
            kwargs.update(authenticator=self._authenticate, auth_exclude_mechanism=excluded)
        self._controller = _Controller(
            _Handler(self),
            hostname=host,
            port=port,
            ssl_context=tls_context if security == "ssl" else None,
            **kwargs,
        )

    # -- test controls ------------------------------------------------------------------
    def refuse_next(self, stage: str, reply: str, times: int = 1) -> None:
        """Answer `reply` at `stage` in each of the next `times` transactions."""
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}")
        with self._lock:
            self._refusals.extend([Refusal(stage, reply)] * times)

    def refuse_recipient(self, address: str, reply: str, times: int | None = None) -> None:
        """Answer `reply` to RCPT TO `address`: the next `times` times, or always (None)."""
        with self._lock:
            self._recipient_refusals[address.lower()] = (reply, times)

    def delivered_to(self, address: str) -> list[ReceivedMail]:
        with self._lock:
            return [m for m in self.received if address in m.rcpt_tos]

    @property
    def port(self) -> int:
        return self._controller.port

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> SmtpStandIn:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- called from the server's thread ----------------------------------------------------
    def _begin_transaction(self, consume: bool = True) -> Refusal | None:
        with self._lock:
            self.transactions += 1
            return self._refusals.popleft() if consume and self._refusals else None

    def _recipient_reply(self, address: str) -> str | None:
        with self._lock:
            scripted = self._recipient_refusals.get(address.lower())
            if scripted is None:
                return None
            reply, left = scripted
            if left is not None:
                if left <= 1:
                    del self._recipient_refusals[address.lower()]
                else:
                    self._recipient_refusals[address.lower()] = (reply, left - 1)
            return reply

    def _record(self, mail: ReceivedMail) -> int:
        with self._lock:
            self.received.append(mail)
            return len(self.received)

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        ok = (
            self.username is not None
            and self._password is not None
            and auth_data.login == self.username.encode("utf-8")
            and auth_data.password == self._password.encode("utf-8")
        )
        with self._lock:
            self.auth_attempts.append(AuthAttempt(mechanism, login, ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data)
