"""The email channel without a network: the message it builds and how it classifies errors.

What a server receives, retries and TLS are tested against real servers in
tests/integration/test_notify_smtp.py and test_notify_ses.py.
"""

from __future__ import annotations

import dataclasses
import email
import html
import smtplib
import socket
import ssl
import sys
from datetime import timezone
from email.policy import default as default_policy
from zoneinfo import ZoneInfo

import pytest
from botocore import exceptions as boto_errors

import factories
from shipper_alert.notify.base import DeliveryFailure
from shipper_alert.notify.email.attachment import MAX_ATTACHMENT_BYTES
from shipper_alert.notify.email.message import (
    MAX_MESSAGE_BYTES,
    transfer_encoding,
    wire_bytes,
    without_attachment,
)
from shipper_alert.notify.email.notifier import EmailNotifier
from shipper_alert.notify.email.ses import ses_failure
from shipper_alert.notify.email.settings import EmailSettings
from shipper_alert.notify.email.smtp import smtp_failure
from shipper_alert.render import Renderer
from shipper_alert.report import ErrorInfo, RetryOutcome

WHERE = "email (smtp mail.example.com:465)"


def settings(transport: str = "smtp", to=("ops@example.com",), sender="Alerts <a@example.com>"):
    return EmailSettings(
        to=to,
        sender=sender,
        transport=transport,
        smtp_host="mail.example.com" if transport == "smtp" else None,
        smtp_port=465,
        smtp_security="ssl",
        smtp_username=None,
        smtp_password=None,
        ses_region="us-east-1" if transport == "ses" else None,
    )


def build(report, notifier=None, renderer=None):
    notifier = notifier or EmailNotifier(settings())
    return notifier.build(report, renderer or Renderer(None, report.timezone))


def parse(outgoing) -> email.message.EmailMessage:
    return email.message_from_bytes(wire_bytes(outgoing.payload), policy=default_policy)


def one_failure(**kwargs):
    return factories.report(factories.shipper(failures=[factories.failed("t-1")]), **kwargs)


def test_message_is_the_alternative_text_first_html_last_then_the_csv():
    [outgoing] = build(one_failure())
    message = parse(outgoing)

    assert message.get_content_type() == "multipart/mixed"
    assert message["MIME-Version"] == "1.0"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_filename() == "failed-tasks-20261128T0805.csv"
    assert attachment.get_content_disposition() == "attachment"
    assert alternative["MIME-Version"] is None
    assert attachment["MIME-Version"] is None
    parts = list(alternative.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in parts] == ["utf-8", "utf-8"]
    assert all(p["MIME-Version"] is None for p in parts)
    assert (
        outgoing.title
        == message["Subject"]
        == ("[shipper-alert] FIRING: proj-a/nginx/oss-archive — 1 failed task · UnAuthorized ×1")
    )
    assert outgoing.text == parts[0].get_content().replace("\r\n", "\n").strip()
    assert message["From"] == "Alerts <a@example.com>"
    assert message["To"] == "ops@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith(".shipper-alert@example.com>")
    assert b"\r\n" in wire_bytes(outgoing.payload)
    assert b"\n" not in wire_bytes(outgoing.payload).replace(b"\r\n", b"")
    assert wire_bytes(outgoing.payload).isascii()  # 7-bit on the wire: no 8BITMIME needed


def test_build_is_pure_and_identities_differ_between_checks():
    first = build(one_failure())[0]
    again = build(one_failure())[0]
    later = build(factories.report(factories.shipper(failures=[factories.failed("t-1")])))[0]

    assert wire_bytes(first.payload) == wire_bytes(again.payload)
    assert first.payload["Message-ID"] == later.payload["Message-ID"]  # same check, same id

    rerun = dataclasses.replace(one_failure(), checked_at=one_failure().checked_at + 300)
    assert build(rerun)[0].payload["Message-ID"] != first.payload["Message-ID"]


def test_date_is_the_check_time_in_the_alert_timezone():
    shanghai = ZoneInfo("Asia/Shanghai")
    report = one_failure(tz=shanghai, tz_name="Asia/Shanghai")

    message = parse(build(report)[0])

    assert message["Date"] == "Sat, 28 Nov 2026 16:05:05 +0800"
    assert message["Date"].datetime.timestamp() == report.checked_at


def test_subject_never_carries_a_line_break_even_from_a_custom_template(tmp_path):
    (tmp_path / "email.subject.j2").write_text("Alert\r\nBcc: evil@example.com\nX-Evil: 1")
    renderer = Renderer(tmp_path, timezone.utc)

    [outgoing] = build(one_failure(), renderer=renderer)
    message = parse(outgoing)

    assert message["Subject"] == "Alert Bcc: evil@example.com X-Evil: 1"
    assert message["Bcc"] is None
    assert message["X-Evil"] is None


def test_custom_html_template_is_still_autoescaped(tmp_path):
    (tmp_path / "email.html.j2").write_text(
        "{% for s in view.shippers %}{% for g in s.groups %}<p>{{ g.message }}</p>"
        "{% endfor %}{% endfor %}"
    )
    report = factories.report(
        factories.shipper(failures=[factories.failed("t-1", "<script>x()</script>")])
    )

    [outgoing] = build(report, renderer=Renderer(tmp_path, timezone.utc))
    page = parse(outgoing).get_body(("html",)).get_content()

    assert page.strip() == "<p>&lt;script&gt;x()&lt;/script&gt;</p>"


def test_api_text_in_retry_and_monitor_errors_is_escaped_in_html():
    report = factories.report(
        factories.shipper(
            failures=[factories.failed("t-1")],
            retry=RetryOutcome(("t-1",), requested=True, error="<b>retry</b> failed"),
        ),
        factories.shipper("p/l/s", error=ErrorInfo("E", "<a href='http://evil'>x</a>", "r")),
    )

    page = parse(build(report)[0]).get_body(("html",)).get_content()

    assert "&lt;b&gt;retry&lt;/b&gt; failed" in page
    assert "&lt;a href=&#39;http://evil&#39;&gt;x&lt;/a&gt;" in page
    assert "<b>" not in page
    assert "http://evil'>" not in page


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain ASCII\nshort lines", None),
        ("x" * 1200, "quoted-printable"),  # ASCII, but a line too long for 7bit
        ("mostly ASCII with one 中 character\n" * 20, "quoted-printable"),
        ("header line\n" + "中文错误信息" * 700, "base64"),
    ],
)
def test_transfer_encoding_is_the_shorter_one(text, expected):
    assert transfer_encoding(text) == expected


def test_long_cjk_message_costs_base64_not_quoted_printable_bytes():
    cjk = "中文错误信息" * 700  # 12.6 KB in UTF-8
    report = factories.report(factories.shipper(failures=[factories.failed("t-1", cjk)]))

    [outgoing] = build(report)

    size = len(wire_bytes(without_attachment(outgoing.payload)))
    assert size < 2 * len(cjk.encode()) * 4 / 3 + 8000  # both parts, base64, plus markup
    assert cjk in outgoing.text


def test_500_failures_fit_the_cap_and_say_how_many_are_left_out():
    report = factories.report(factories.shipper(failures=factories.many_failures(500)))

    [outgoing] = build(report)

    assert len(wire_bytes(without_attachment(outgoing.payload))) <= MAX_MESSAGE_BYTES
    shown = outgoing.text.count("    - task-")
    assert 0 < shown < 500
    assert f"and {500 - shown} more items not shown" in outgoing.text


def test_a_smaller_cap_is_honoured_exactly():
    notifier = EmailNotifier(settings(), max_message_bytes=8000)
    report = factories.report(factories.shipper(failures=factories.many_failures(60)))

    [outgoing] = build(report, notifier)

    assert 7000 < len(wire_bytes(without_attachment(outgoing.payload))) <= 8000
    assert "more items not shown" in outgoing.text


@pytest.mark.parametrize(("transport", "sizes"), [("smtp", [100, 100, 50]), ("ses", [50] * 5)])
def test_long_recipient_lists_are_split(transport, sizes):
    to = tuple(f"ops{i:03d}@example.com" for i in range(250))
    notifier = EmailNotifier(settings(transport, to=to))

    messages = build(one_failure(), notifier)

    batches = [[a.addr_spec for a in parse(m)["To"].addresses] for m in messages]
    assert [len(b) for b in batches] == sizes
    assert [a for b in batches for a in b] == list(to)
    assert len({m.payload["Message-ID"] for m in messages}) == len(sizes)


def test_a_context_that_does_not_verify_is_refused():
    lax = ssl.create_default_context()
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE
    with pytest.raises(ValueError, match="must verify"):
        EmailNotifier(settings(), ssl_context=lax)


# -- classification ---------------------------------------------------------------------------
def cert_error() -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "certificate has expired"
    return error


@pytest.mark.parametrize(
    ("exc", "retryable", "detail"),
    [
        (smtplib.SMTPConnectError(421, b"4.3.2 Service not available"), True,
         "421 4.3.2 Service not available"),
        (smtplib.SMTPConnectError(554, b"5.7.1 No SMTP service here"), False,
         "554 5.7.1 No SMTP service here"),
        (smtplib.SMTPSenderRefused(451, b"4.3.0 Try later", "a@example.com"), True,
         "sender a@example.com refused: 451 4.3.0 Try later"),
        (smtplib.SMTPSenderRefused(550, b"5.7.1 Not allowed", "a@example.com"), False,
         "sender a@example.com refused: 550 5.7.1 Not allowed"),
        (smtplib.SMTPRecipientsRefused({"b@example.com": (452, b"4.5.3 Too many")}), True,
         "every recipient refused: b@example.com: 452 4.5.3 Too many"),
        (smtplib.SMTPRecipientsRefused({"b@example.com": (550, b"5.1.1 Unknown")}), False,
         "every recipient refused: b@example.com: 550 5.1.1 Unknown"),
        (smtplib.SMTPDataError(451, b"4.7.1 Greylisted"), True, "451 4.7.1 Greylisted"),
        (smtplib.SMTPDataError(554, b"5.7.1 Spam"), False, "554 5.7.1 Spam"),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials"), False,
         "authentication failed (check SMTP_USERNAME and SMTP_PASSWORD): 535 5.7.8 Bad credentials"),
        (smtplib.SMTPAuthenticationError(454, b"4.7.0 Temporary auth failure"), True,
         "authentication failed (check SMTP_USERNAME and SMTP_PASSWORD): 454 4.7.0 Temporary auth failure"),
        (smtplib.SMTPHeloError(421, b"4.4.2 Timeout"), True, "421 4.4.2 Timeout"),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True,
         "connection lost (Connection unexpectedly closed)"),
        (smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server."), False,
         "SMTP AUTH extension not supported by server."),
        (cert_error(), False, "the server's TLS certificate was not accepted (certificate has expired)"),
        (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), True,
         "connection closed during TLS"),
        (TimeoutError("timed out"), True, "no answer in time"),
        (ConnectionRefusedError(111, "Connection refused"), True,
         "connection failed (Connection refused)"),
        (ConnectionResetError(104, "Connection reset by peer"), True,
         "connection failed (Connection reset by peer)"),
        (socket.gaierror(-2, "Name or service not known"), True,
         "cannot resolve the host ([Errno -2] Name or service not known)"),
    ],
)  # fmt: skip
def test_smtp_errors_are_classified(exc, retryable, detail):
    failure = smtp_failure(exc, WHERE)

    assert isinstance(failure, DeliveryFailure)
    assert (failure.retryable, failure.detail) == (retryable, f"{WHERE}: {detail}")


def client_error(code: str, status: int, message: str = "text") -> boto_errors.ClientError:
    return boto_errors.ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "rid"},
        },
        "SendRawEmail",
    )


@pytest.mark.parametrize(
    ("exc", "retryable"),
    [
        (client_error("Throttling", 400, "Maximum sending rate exceeded."), True),
        (client_error("ThrottlingException", 400), True),
        (client_error("TooManyRequestsException", 429), True),
        (client_error("ServiceUnavailable", 503), True),
        (client_error("SomethingNew", 500), True),
        (client_error("MessageRejected", 400, "Email address is not verified."), False),
        (client_error("MailFromDomainNotVerifiedException", 400), False),
        (client_error("AccountSendingPausedException", 400), False),
        (client_error("ConfigurationSetSendingPausedException", 400), False),
        (client_error("ConfigurationSetDoesNotExistException", 400), False),
        (client_error("InvalidClientTokenId", 403), False),
        (boto_errors.NoCredentialsError(), False),
        (boto_errors.EndpointConnectionError(endpoint_url="https://email.x.amazonaws.com"), True),
        (boto_errors.ConnectTimeoutError(endpoint_url="https://email.x.amazonaws.com"), True),
        (boto_errors.ReadTimeoutError(endpoint_url="https://email.x.amazonaws.com"), True),
        (boto_errors.ConnectionClosedError(endpoint_url="https://email.x.amazonaws.com"), True),
        (boto_errors.SSLError(endpoint_url="https://email.x.amazonaws.com", error="bad"), False),
    ],
)
def test_ses_errors_are_classified(exc, retryable):
    assert ses_failure(exc, "email (ses us-east-1)").retryable is retryable


def test_ses_error_detail_names_code_status_message_and_request_id():
    failure = ses_failure(client_error("MessageRejected", 400, "Email not verified."), "ses")
    assert failure.detail == "ses: MessageRejected (HTTP 400): Email not verified. (request id rid)"


# -- boto3 is optional ------------------------------------------------------------------------------
def test_importing_the_module_does_not_import_boto3():
    code = "import shipper_alert.notify.email.notifier, shipper_alert.notify.registry"
    assert factories.modules_loaded_by(code, ("boto3", "botocore")) == []


def test_ses_without_boto3_is_a_permanent_failure_that_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 -> ImportError
    notifier = EmailNotifier(settings("ses"))
    [outgoing] = build(one_failure(), notifier)

    with pytest.raises(DeliveryFailure) as caught:
        notifier.send(outgoing, 5.0)

    assert caught.value.retryable is False
    assert caught.value.detail == (
        "email (ses us-east-1): EMAIL_TRANSPORT=ses needs boto3 (pip install 'shipper-alert[ses]')"
    )


# -- the attached CSV ---------------------------------------------------------------------------
def attachments(outgoing) -> dict[str, str]:
    return {part.get_filename(): part.get_content() for part in parse(outgoing).iter_attachments()}


def test_the_csv_is_cut_at_whole_rows_at_2_mib_and_the_message_says_how_many_it_holds():
    failures = factories.many_failures(12000)
    [outgoing] = build(factories.report(factories.shipper(failures=failures)))

    [(name, data)] = attachments(outgoing).items()
    assert len(data.encode("utf-8")) <= MAX_ATTACHMENT_BYTES
    rows = data.removeprefix("\ufeff").split("\r\n")
    assert rows[-1] == ""  # ends with a whole row
    ids = [row.split(",")[1] for row in rows[1:-1]]
    assert 10000 < len(ids) < 12000
    assert ids == [t.id for t in failures[: len(ids)]]
    note = (
        f"The first {len(ids)} of 12000 failed tasks are in the attached {name} (it is limited"
        " to 2 MiB; the function's result lists every task id)."
    )
    assert note in outgoing.text
    assert note in html.unescape(parse(outgoing).get_body(("html",)).get_content())


def test_an_alert_in_parts_carries_the_csv_on_its_first_part_only():
    notifier = EmailNotifier(settings(), max_message_bytes=6000)
    shippers = [
        factories.shipper(f"proj-{i:02d}/nginx/oss", failures=[factories.failed(f"t-{i}-a")])
        for i in range(12)
    ]

    messages = build(factories.report(*shippers), notifier)

    assert len(messages) > 1
    first, *rest = messages
    [(name, data)] = attachments(first).items()
    assert [row.split(",")[1] for row in data.split("\r\n")[1:-1]] == [
        f"t-{i}-a" for i in range(12)
    ]
    assert f"Every failed task (12) is in the attached {name}." in first.text
    for later in rest:
        assert attachments(later) == {}
        assert parse(later).get_content_type() == "multipart/alternative"
        assert f"is in the attached {name}, sent with part 1 of this alert." in later.text
        assert len(wire_bytes(later.payload)) <= 6000
    assert len(wire_bytes(without_attachment(first.payload))) <= 6000


def test_a_message_without_failed_tasks_has_no_attachment_and_no_note():
    stuck = factories.shipper(stuck_tasks=[factories.stuck("t-stuck")])
    for report in (factories.report(factories.shipper(resolved=True)), factories.report(stuck)):
        [outgoing] = build(report)

        assert parse(outgoing).get_content_type() == "multipart/alternative"
        assert "attached" not in outgoing.text
