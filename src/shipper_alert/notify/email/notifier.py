"""Email: one notifier, EMAIL_TO over SMTP or SES (the transports are `smtp` and `ses`).

Longer EMAIL_TO lists are split into several messages (the transport's recipient limit).
Recipients refused one by one (RCPT): the message still goes to those accepted, and a
retry goes only to recipients still pending, so nobody receives an alert twice. The
message counts as delivered only when every recipient accepted it; a permanent (5xx)
refusal fails the channel naming the address, a temporary (4xx) one is retried.
The CSV of every failed task (attachment.py) goes on each batch's first message; `fit`
sizes the message without it.
"""

from __future__ import annotations

import ssl
from dataclasses import replace
from datetime import datetime, timezone
from email.message import EmailMessage
from typing import TYPE_CHECKING, ClassVar

from shipper_alert.copysafe import one_line
from shipper_alert.notify.base import DeliveryFailure, Notifier, Outgoing, fit, within
from shipper_alert.notify.email import smtp
from shipper_alert.notify.email.attachment import failed_tasks_attachment
from shipper_alert.notify.email.message import (
    MAX_MESSAGE_BYTES,
    attach,
    compose,
    recipients_of,
)
from shipper_alert.notify.email.ses import SES_MAX_RECIPIENTS, SesSender
from shipper_alert.notify.email.settings import EmailSettings
from shipper_alert.notify.email.size import WireSize
from shipper_alert.notify.email.smtp import SMTP_MAX_RECIPIENTS
from shipper_alert.redact import SecretScrubber
from shipper_alert.render import Renderer
from shipper_alert.report import Report
from shipper_alert.view import MessageView

if TYPE_CHECKING:
    import boto3


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
        self._ses = SesSender(settings.ses_region, boto_session)
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
        attachment = failed_tasks_attachment(report, date)
        extra = {"attachment_note": attachment.note} if attachment else {}  # template context
        messages: list[Outgoing] = []
        size = WireSize()
        for batch in batches:

            def render(view: MessageView, batch: tuple[str, ...] = batch) -> Outgoing:
                subject = one_line(renderer.render("email.subject.j2", view=view))
                text = renderer.render("email.text.j2", view=view, **extra)
                html = renderer.render("email.html.j2", view=view, **extra)
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
                parts = {
                    "subject": subject,
                    "text": text,
                    "html": html,
                    "sender": self.settings.sender,
                    "recipients": batch,
                    "date": date,
                    "identity": identity,
                }
                return Outgoing(self.name, subject, text, parts)  # composed once chosen

            chosen = fit(
                report, render, *within(lambda o: size.of(o.payload), self.max_message_bytes)
            )
            batch_messages = [replace(m, payload=compose(**m.payload)) for m in chosen]
            if attachment:
                attach(batch_messages[0].payload, attachment.filename, attachment.data)
            messages.extend(batch_messages)
        return messages

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
                self._ses.send(message, self.settings.sender, timeout)
                accepted.update(pending)
                return
            context = self._ssl_context or ssl.create_default_context()
            refused = smtp.send(self.settings, message, pending, timeout, context)
            accepted.update(r for r in pending if r not in refused)
        else:
            refused = {}
        temporary = {a: smtp.reply_text(c, r) for a, (c, r) in refused.items() if c < 500}
        rejected.update({a: smtp.reply_text(c, r) for a, (c, r) in refused.items() if c >= 500})
        if not temporary and not rejected:
            return
        parts = [f"{self._where}: delivered to {len(accepted)} of {len(recipients)} recipients"]
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
        self._ses.close()

    @property
    def _where(self) -> str:
        if self.settings.transport == "ses":
            return self._ses.where
        return smtp.where(self.settings)
