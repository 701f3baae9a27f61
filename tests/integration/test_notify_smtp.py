"""The email channel over SMTP, against a real SMTP server on loopback (aiosmtpd).

Every test sends through the delivery stage (`deliver_all`, fake sleep) and asserts on
what the server received and on the delivery result. TLS uses a throwaway CA (trustme):
its certificate is trusted by the context the test injects, and by nothing else.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import logging
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import replace
from datetime import timezone
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
import trustme

import factories
from shipper_alert.budget import Deadline
from shipper_alert.notify.delivery import DeliveryResult, RetryPolicy, deliver_all
from shipper_alert.notify.email.message import MAX_MESSAGE_BYTES, wire_bytes, without_attachment
from shipper_alert.notify.email.notifier import EmailNotifier
from shipper_alert.notify.email.settings import EmailSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert.report import ErrorInfo, Report, RetryOutcome
from shipper_alert_dev.standins.smtp import AuthAttempt, ReceivedMail, SmtpStandIn

SENDER = "Shipper Alerts <alerts@example.com>"
TO = ("ops@example.com", "oncall@example.com")
USERNAME = "alerts@example.com"
PASSWORD = "Pa55-word-never-logged"


# -- fixtures and helpers ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


CONSOLE = "https://sls.console.aliyun.com/lognext/project"


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("127.0.0.1", "localhost"))).configure_cert(context)
    return context


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    return server_context(ca)


@pytest.fixture
def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """What `ssl.create_default_context()` gives, plus trust in the test CA."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def smtp_server() -> Iterator[callable]:
    started: list[SmtpStandIn] = []

    def start(**kwargs) -> SmtpStandIn:
        server = SmtpStandIn(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def settings_for(server: SmtpStandIn, **overrides) -> EmailSettings:
    base = EmailSettings(
        to=TO,
        sender=SENDER,
        transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_security=server.security,
        smtp_username=None,
        smtp_password=None,
        ses_region=None,
    )
    return replace(base, **overrides)


def deliver(
    notifier: EmailNotifier, report: Report, policy: RetryPolicy | None = None
) -> tuple[DeliveryResult, list[float], list]:
    messages = notifier.build(report, Renderer(None, timezone.utc))
    sleeps: list[float] = []
    [result] = deliver_all(
        [(notifier, messages)], Deadline(30), policy or RetryPolicy(), sleep=sleeps.append
    )
    notifier.close()
    return result, sleeps, messages


def alert(*failures, **kwargs) -> Report:
    return factories.report(factories.shipper(failures=failures, **kwargs))


class Tags(HTMLParser):
    """The tags, attributes and text of an HTML document."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h2", "h3", "p", "br", "strong",
    "table", "tr", "th", "td", "span", "code", "a", "ul", "li",
}  # fmt: skip


# -- a normal alert -----------------------------------------------------------------------------
def test_alert_reaches_every_recipient_with_every_task_in_both_parts(smtp_server):
    server = smtp_server()
    failures = [
        factories.failed("task-a1", "UnAuthorized: role cannot write bucket", "UnAuthorized"),
        factories.failed("task-a2", "UnAuthorized: role cannot write bucket", "UnAuthorized"),
        factories.failed("task-b1", "目标 OSS 存储桶不存在", "NoSuchBucket"),
        factories.failed("task-c1", "InternalError: try again", "InternalError"),
    ]
    report = factories.report(
        factories.shipper(failures=failures, stuck_tasks=[factories.stuck("task-s1")])
    )

    result, sleeps, messages = deliver(EmailNotifier(settings_for(server)), report)

    assert (result.delivered, result.attempts, result.error) == (True, 1, None)
    assert sleeps == []
    [mail] = server.received
    assert mail.mail_from == "alerts@example.com"
    assert mail.rcpt_tos == TO
    assert not mail.tls
    assert mail.login is None
    message = mail.message
    assert message["Subject"] == (
        "[shipper-alert] FIRING: proj-a/nginx/oss-archive — 4 failed tasks, 1 stuck task · "
        "UnAuthorized ×2, InternalError ×1, NoSuchBucket ×1"
    )
    assert message["From"] == SENDER
    assert [a.addr_spec for a in message["To"].addresses] == list(TO)
    assert message["Date"].datetime.timestamp() == report.checked_at
    assert re.fullmatch(r"<[0-9a-f]{32}\.shipper-alert@example\.com>", message["Message-ID"])
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/mixed"
    alternative, attached = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert (attached.get_content_type(), attached.get_filename()) == (
        "text/csv",
        "failed-tasks-20261128T0805.csv",
    )
    parts = list(alternative.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]  # html last
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert all(
        p["Content-Transfer-Encoding"] in {"7bit", "quoted-printable", "base64"} for p in parts
    )
    for part in (mail.text, html.unescape(mail.html)):
        for task in failures:
            assert task.id in part
            assert task.message in part
            assert task.code in part
        assert "task-s1" in part
        assert "proj-a/nginx/oss-archive" in part
        assert "4 failed, 5 succeeded, 1 running" in part
        assert "https://sls.console.aliyun.com/lognext/project/proj-a/logsearch/nginx" in part
        assert f"{CONSOLE}/proj-a/logstore/nginx/shipper/oss-archive" in part
    # What the server got is exactly what the notifier measured and built.
    assert mail.data == wire_bytes(messages[0].payload)


# -- size -----------------------------------------------------------------------------------------
def test_500_failures_fit_the_cap_with_exact_totals_and_and_n_more(smtp_server, caplog):
    # The server enforces the same cap (552 above it) and declares it (EHLO SIZE): the
    # message itself fits, and the CSV attachment, which would not, is left off.
    server = smtp_server(max_message_bytes=MAX_MESSAGE_BYTES)
    report = alert(*factories.many_failures(500, messages=3))

    result, _, messages = deliver(EmailNotifier(settings_for(server)), report)

    assert (result.delivered, result.attempts) == (True, 1)
    assert len(messages) == 1
    assert len(wire_bytes(messages[0].payload)) > MAX_MESSAGE_BYTES  # with the attachment
    [mail] = server.received
    assert mail.message.get_content_type() == "multipart/alternative"
    assert mail.attachments == {}
    assert MAX_MESSAGE_BYTES - 1000 < mail.size <= MAX_MESSAGE_BYTES
    assert mail.data == wire_bytes(without_attachment(messages[0].payload))
    assert (
        f"smtp 127.0.0.1:{server.port}): the server takes {MAX_MESSAGE_BYTES} bytes a message; sent without the attachment"
        in caplog.text
    )
    text, page = mail.text, html.unescape(mail.html)
    shown = set(re.findall(r"task-\d{5}", factories.task_lines(text)))
    assert shown == set(re.findall(r"task-\d{5}", factories.task_lines(page)))
    assert 0 < len(shown) < 500
    hidden = 500 - len(shown)
    assert "500 failed tasks in 1 shipper" in text
    assert "500 failed tasks in 1 shipper" in page
    assert "BREACHED: 500 failed, 5 succeeded" in text
    assert f"and {hidden} more items not shown (the counts above are complete)" in text
    assert f"and {hidden} more items not shown" in page
    # Each message group keeps its exact count and says how many of its tasks it leaves out.
    per_group = [int(n) for n in re.findall(r"and (\d+) more tasks? with this message", text)]
    assert sum(per_group) == hidden
    assert sorted(int(n) for n in re.findall(r"(\d+)x UnAuthorized", text)) == [166, 167, 167]


def test_every_failed_task_arrives_in_the_attached_csv_beside_the_capped_message(smtp_server):
    server = smtp_server()  # 10 MiB
    failures = factories.many_failures(500, messages=3)
    report = alert(*failures)

    result, _, messages = deliver(EmailNotifier(settings_for(server)), report)

    assert result.delivered
    [mail] = server.received
    assert mail.data == wire_bytes(messages[0].payload)
    assert len(wire_bytes(without_attachment(mail.message))) <= MAX_MESSAGE_BYTES
    [(name, data)] = mail.attachments.items()
    assert name == "failed-tasks-20261128T0805.csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8").removeprefix("\ufeff"), newline="")))
    assert rows[0][:2] == ["target", "task_id"]
    assert [r[1] for r in rows[1:]] == [t.id for t in failures]  # every one, in order
    assert {r[0] for r in rows[1:]} == {"proj-a/nginx/oss-archive"}
    note = "Every failed task (500) is in the attached failed-tasks-20261128T0805.csv."
    assert note in mail.text
    assert note in html.unescape(mail.html)


# -- hostile task messages -------------------------------------------------------------------------
def test_hostile_messages_arrive_as_inert_text(smtp_server):
    server = smtp_server()
    failures = [
        factories.failed(f"task-h{i}", message, code="<b>Code</b>")
        for i, message in enumerate(factories.HOSTILE_MESSAGES)
    ]
    report = factories.report(
        factories.shipper(
            failures=failures,
            retry=RetryOutcome(("task-h0",), requested=True, error="<script>retry()</script>"),
        ),
        factories.shipper(
            "proj-b/app/oss",
            error=ErrorInfo("Unauthorized", '<img src=x onerror="alert(1)">', "req-1"),
        ),
    )

    result, _, _ = deliver(EmailNotifier(settings_for(server)), report)

    assert result.delivered
    [mail] = server.received
    page = Tags(mail.html)
    # Only the template's own markup: no tag, attribute or link from API text.
    assert {tag for tag, _ in page.tags} <= TEMPLATE_TAGS
    links = [attrs["href"] for tag, attrs in page.tags if tag == "a"]
    assert links == [
        f"{CONSOLE}/proj-a/logstore/nginx/shipper/oss-archive",
        f"{CONSOLE}/proj-a/logsearch/nginx",
        f"{CONSOLE}/proj-b/logstore/app/shipper/oss",
        f"{CONSOLE}/proj-b/logsearch/app",
    ]
    assert not any("onerror" in attrs for _, attrs in page.tags)
    shown = "".join(page.text)
    for message in factories.HOSTILE_MESSAGES:
        assert " ".join(message.split()) in " ".join(shown.split())  # arrives as text
    assert "<script>retry()</script>" in shown
    assert '<img src=x onerror="alert(1)">' in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
    # Plain text: the messages are there verbatim, but on their own line, forging none.
    text = mail.text
    lines = text.splitlines()
    assert "<script>alert(1)</script>" in text
    assert "中文错误信息" * 700 in text
    assert not any(line.startswith(("> quote", "- item", "# ")) for line in lines)


# -- retry classification ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("stage", "reply"),
    [
        ("MAIL", "421 4.7.0 Try again later, closing connection"),
        ("MAIL", "451 4.3.0 Mail server temporarily rejected message"),
        ("RCPT", "450 4.2.1 Mailbox busy, try again later"),
        ("RCPT", "452 4.3.1 Insufficient system storage"),
        ("DATA", "451 4.7.1 Greylisted, please try again"),
        ("DATA", "454 4.7.0 Throttling failure: Maximum sending rate exceeded."),
    ],
)
def test_temporary_refusal_is_retried_and_delivered_exactly_once(smtp_server, stage, reply):
    server = smtp_server()
    server.refuse_next(stage, reply)

    result, sleeps, _ = deliver(EmailNotifier(settings_for(server)), alert(factories.failed("t-1")))

    assert (result.delivered, result.attempts, result.error) == (True, 2, None)
    assert len(sleeps) == 1
    assert server.transactions == 2
    [mail] = server.received
    assert mail.rcpt_tos == TO
    assert "t-1" in mail.text


@pytest.mark.parametrize(
    ("stage", "reply"),
    [
        ("MAIL", "550 5.7.1 Sender address rejected: not owned by user"),
        ("MAIL", "553 5.7.1 Sender address rejected"),
        ("RCPT", "550 5.1.1 Recipient address rejected: User unknown"),
        ("DATA", "554 5.7.1 Message rejected as spam"),
    ],
)
def test_permanent_rejection_is_not_retried_and_is_reported(smtp_server, stage, reply):
    server = smtp_server()
    server.refuse_next(stage, reply, times=5)

    result, sleeps, _ = deliver(EmailNotifier(settings_for(server)), alert(factories.failed("t-1")))

    assert (result.delivered, result.attempts) == (False, 1)
    assert sleeps == []
    assert server.transactions == 1
    assert server.received == []
    assert result.error.startswith(f"email (smtp 127.0.0.1:{server.port}): ")
    assert reply in result.error


def test_message_over_the_servers_size_limit_is_refused_for_good(smtp_server):
    server = smtp_server(max_message_bytes=4000)

    result, _, _ = deliver(EmailNotifier(settings_for(server)), alert(*factories.many_failures(40)))

    assert (result.delivered, result.attempts) == (False, 1)
    assert "552" in result.error
    assert server.received == []


# -- recipients refused one by one ------------------------------------------------------------------
def test_recipient_refused_for_good_fails_the_channel_but_the_others_get_it_once(smtp_server):
    server = smtp_server()
    server.refuse_recipient("gone@example.com", "550 5.1.1 <gone@example.com>: User unknown")
    to = ("ops@example.com", "gone@example.com", "oncall@example.com")

    result, sleeps, _ = deliver(
        EmailNotifier(settings_for(server, to=to)), alert(factories.failed("t-1"))
    )

    assert (result.delivered, result.attempts) == (False, 1)
    assert sleeps == []
    assert result.error == (
        f"email (smtp 127.0.0.1:{server.port}): delivered to 2 of 3 recipients; "
        "refused: gone@example.com: 550 5.1.1 <gone@example.com>: User unknown"
    )
    [mail] = server.received
    assert mail.rcpt_tos == ("ops@example.com", "oncall@example.com")


def test_recipient_refused_for_now_is_retried_alone(smtp_server):
    server = smtp_server()
    server.refuse_recipient("busy@example.com", "450 4.2.1 Mailbox busy", times=1)
    to = ("ops@example.com", "busy@example.com")

    result, sleeps, _ = deliver(
        EmailNotifier(settings_for(server, to=to)), alert(factories.failed("t-1"))
    )

    assert (result.delivered, result.attempts, result.error) == (True, 2, None)
    assert len(sleeps) == 1
    first, second = server.received
    assert (first.rcpt_tos, second.rcpt_tos) == (("ops@example.com",), ("busy@example.com",))
    assert first.message["Message-ID"] == second.message["Message-ID"]
    assert len(server.delivered_to("ops@example.com")) == 1
    assert len(server.delivered_to("busy@example.com")) == 1


def test_every_recipient_refused_for_good_names_each_one(smtp_server):
    server = smtp_server()
    server.refuse_recipient("ops@example.com", "550 5.1.1 User unknown")
    server.refuse_recipient("oncall@example.com", "550 5.7.1 Relaying denied")

    result, sleeps, _ = deliver(EmailNotifier(settings_for(server)), alert(factories.failed("t-1")))

    assert (result.delivered, result.attempts, sleeps) == (False, 1, [])
    assert result.error == (
        f"email (smtp 127.0.0.1:{server.port}): delivered to 0 of 2 recipients; refused: "
        "ops@example.com: 550 5.1.1 User unknown; oncall@example.com: 550 5.7.1 Relaying denied"
    )
    assert server.received == []


def test_every_recipient_refused_for_now_is_retried(smtp_server):
    server = smtp_server()
    for address in TO:
        server.refuse_recipient(address, "451 4.3.2 System not accepting network messages", 1)

    result, _, _ = deliver(EmailNotifier(settings_for(server)), alert(factories.failed("t-1")))

    assert (result.delivered, result.attempts) == (True, 2)
    [mail] = server.received
    assert mail.rcpt_tos == TO


# -- connection problems ---------------------------------------------------------------------------
def test_nothing_listening_is_retried_until_attempts_run_out():
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = EmailSettings(TO, SENDER, "smtp", "127.0.0.1", port, "none", None, None, None)

    result, sleeps, _ = deliver(
        EmailNotifier(settings), alert(factories.failed("t-1")), RetryPolicy(max_attempts=3)
    )

    assert (result.delivered, result.attempts) == (False, 3)
    assert len(sleeps) == 2
    assert result.error == f"email (smtp 127.0.0.1:{port}): connection failed (Connection refused)"


def test_a_server_that_never_answers_times_out_and_is_retried():
    # The kernel accepts the connection into the backlog; nobody ever sends a greeting.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        settings = EmailSettings(TO, SENDER, "smtp", "127.0.0.1", port, "none", None, None, None)

        result, sleeps, _ = deliver(
            EmailNotifier(settings),
            alert(factories.failed("t-1")),
            RetryPolicy(max_attempts=2, attempt_timeout=0.3),
        )

    assert (result.delivered, result.attempts) == (False, 2)
    assert len(sleeps) == 1
    # Whichever fires first under load: the read timeout or the whole-session watchdog.
    assert result.error in (
        f"email (smtp 127.0.0.1:{port}): connection lost (Connection unexpectedly closed: "
        "timed out)",
        f"email (smtp 127.0.0.1:{port}): the SMTP session did not finish within 0.3s",
    )


# -- TLS ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_a_verified_certificate_delivers(smtp_server, server_tls, trusting, security):
    server = smtp_server(security=security, tls_context=server_tls)

    result, _, _ = deliver(
        EmailNotifier(settings_for(server), ssl_context=trusting), alert(factories.failed("t-1"))
    )

    assert (result.delivered, result.attempts) == (True, 1)
    [mail] = server.received
    assert mail.tls
    assert "t-1" in mail.text


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_certificate_of_an_unknown_ca_is_refused_and_not_retried(smtp_server, server_tls, security):
    server = smtp_server(security=security, tls_context=server_tls)

    # No ssl_context: the notifier's own ssl.create_default_context() (system CAs only).
    result, sleeps, _ = deliver(EmailNotifier(settings_for(server)), alert(factories.failed("t-1")))

    assert (result.delivered, result.attempts) == (False, 1)
    assert sleeps == []
    assert server.transactions == 0
    assert server.received == []
    assert result.error == (
        f"email (smtp 127.0.0.1:{server.port}): the server's TLS certificate was not accepted "
        "(unable to get local issuer certificate)"
    )


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_certificate_for_another_host_is_refused(smtp_server, ca, trusting, security):
    server = smtp_server(security=security, tls_context=server_context(ca, "mail.example.com"))

    result, _, _ = deliver(
        EmailNotifier(settings_for(server), ssl_context=trusting), alert(factories.failed("t-1"))
    )

    assert (result.delivered, result.attempts) == (False, 1)
    assert server.received == []
    assert "TLS certificate was not accepted" in result.error
    assert "mismatch" in result.error


def test_starttls_required_but_not_offered_sends_nothing_in_clear(smtp_server):
    server = smtp_server()  # plain text only

    result, _, _ = deliver(
        EmailNotifier(settings_for(server, smtp_security="starttls")),
        alert(factories.failed("t-1")),
    )

    assert (result.delivered, result.attempts) == (False, 1)
    assert server.transactions == 0
    assert "does not offer STARTTLS" in result.error


def test_a_context_that_does_not_verify_is_not_accepted():
    settings = EmailSettings(TO, SENDER, "smtp", "127.0.0.1", 25, "ssl", None, None, None)
    lax = ssl.create_default_context()
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE

    with pytest.raises(ValueError, match="must verify"):
        EmailNotifier(settings, ssl_context=lax)


# -- AUTH ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_auth_after_starttls_with_username_and_password(
    smtp_server, server_tls, trusting, mechanism
):
    server = smtp_server(
        security="starttls",
        tls_context=server_tls,
        username=USERNAME,
        password=PASSWORD,
        auth_mechanisms=(mechanism,),
    )
    settings = settings_for(server, smtp_username=USERNAME, smtp_password=Secret(PASSWORD))

    result, _, _ = deliver(
        EmailNotifier(settings, ssl_context=trusting), alert(factories.failed("t-1"))
    )

    assert (result.delivered, result.attempts) == (True, 1)
    assert server.auth_attempts == [AuthAttempt(mechanism, USERNAME, True)]
    [mail] = server.received
    assert (mail.login, mail.tls) == (USERNAME, True)


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_wrong_password_535_is_not_retried_and_never_shows_a_password(
    smtp_server, caplog, mechanism
):
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-but-still-secret"
    server = smtp_server(
        username=USERNAME,
        password=PASSWORD,
        auth_require_tls=False,  # loopback only
        auth_mechanisms=(mechanism,),
    )
    settings = settings_for(server, smtp_username=USERNAME, smtp_password=Secret(wrong))

    result, sleeps, _ = deliver(EmailNotifier(settings), alert(factories.failed("t-1")))

    assert (result.delivered, result.attempts) == (False, 1)
    assert sleeps == []
    assert server.auth_attempts == [AuthAttempt(mechanism, USERNAME, False)]
    assert server.received == []
    assert result.error == (
        f"email (smtp 127.0.0.1:{server.port}): authentication failed (check SMTP_USERNAME "
        "and SMTP_PASSWORD): 535 5.7.8 Authentication credentials invalid"
    )
    exposed = f"{result.to_json()} {caplog.text}"
    for secret in (wrong, PASSWORD):
        assert secret not in exposed
        assert base64.b64encode(secret.encode()).decode() not in exposed
    assert base64.b64encode(f"\0{USERNAME}\0{wrong}".encode()).decode() not in exposed


def test_no_login_without_a_username(smtp_server):
    server = smtp_server(username=USERNAME, password=PASSWORD, auth_require_tls=False)

    result, _, _ = deliver(EmailNotifier(settings_for(server)), alert(factories.failed("t-1")))

    assert server.auth_attempts == []
    assert (result.delivered, result.attempts) == (False, 1)
    assert "530 5.7.0 Authentication required" in result.error


def test_received_mail_parts_are_decoded_for_assertions():
    """The stand-in's view of a message: guards the helper the tests above rely on."""
    message = EmailMessage()
    message.set_content("plain ✓")
    message.add_alternative("<p>html ✓</p>", subtype="html")
    mail = ReceivedMail("a@x.y", ("b@x.y",), message.as_bytes(), message, None, False)
    assert (mail.text.strip(), mail.html.strip()) == ("plain ✓", "<p>html ✓</p>")
    with pytest.raises(LookupError):
        ReceivedMail("a@x.y", (), b"", EmailMessage(), None, False).part("html")
