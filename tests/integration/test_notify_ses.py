"""The email channel over AWS SES, through boto3's real request path, answered by moto 5.

moto (`mock_aws`) answers at botocore's HTTP boundary (its `before-send` hook), after our
client has serialised and signed the request, and checks what SES checks: a verified
sender (MessageRejected otherwise), at most 50 recipients, valid addresses
(docs/vendors.md, "Email"). moto cannot throttle or fail on demand, so on the boto3 session the
notifier uses, a `Boundary` takes moto's place at that hook and stands in front of it:
it counts every request, answers the first N itself with SES's documented Query-API
error body, and hands the others to moto. (Merely adding a handler would not do: botocore
calls every `before-send` handler, so moto would record a throttled message as sent.)
The request has still gone through boto3's serialisation, signing and the client's retry
configuration, and the canned answer goes through botocore's real response parser, as a
response off the wire would. Counting requests also shows that botocore itself never
retries (`total_max_attempts=1`): the delivery stage alone does.
"""

from __future__ import annotations

import email
import html
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timezone
from email.policy import default as default_policy

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.models import botocore_stubber
from moto.ses.models import ses_backends

import factories
from shipper_alert.budget import Deadline
from shipper_alert.notify.delivery import DeliveryResult, RetryPolicy, deliver_all
from shipper_alert.notify.email.message import MAX_MESSAGE_BYTES, wire_bytes, without_attachment
from shipper_alert.notify.email.notifier import EmailNotifier
from shipper_alert.notify.email.settings import EmailSettings
from shipper_alert.render import Renderer
from shipper_alert.report import Report

REGION = "eu-west-1"
SENDER = "Shipper Alerts <alerts@example.com>"
TO = ("ops@example.com", "oncall@example.com")
AWS_SECRET = "wJalrXUtnFEMI-test-secret-key-never-shown"


@pytest.fixture
def aws(monkeypatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTKEYID0000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    with mock_aws():
        yield


def verify_sender(address: str = "alerts@example.com") -> None:
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=address)


def sent_messages() -> list:
    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


def parsed(raw) -> email.message.EmailMessage:
    return email.message_from_string(raw.raw_data, policy=default_policy)


def part(message, subtype: str) -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()


class _Body(io.BytesIO):
    def stream(self, **_kwargs):
        yield self.getvalue()


@dataclass
class Boundary:
    """A `before-send` handler: counts requests, answers the first `fail` with an error."""

    fail: int = 0
    code: str = "Throttling"
    status: int = 400
    message: str = "Maximum sending rate exceeded."
    requests: list = field(default_factory=list)

    def __call__(self, request, **kwargs):
        self.requests.append(request)
        if len(self.requests) > self.fail:
            return botocore_stubber(request=request, **kwargs)  # on to moto
        kind = "Receiver" if self.status >= 500 else "Sender"
        body = (
            '<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/">'
            f"<Error><Type>{kind}</Type><Code>{self.code}</Code>"
            f"<Message>{self.message}</Message></Error>"
            f"<RequestId>req-{len(self.requests)}</RequestId></ErrorResponse>"
        ).encode()
        headers = {"x-amzn-RequestId": f"req-{len(self.requests)}", "Content-Type": "text/xml"}
        return AWSResponse(request.url, self.status, headers, _Body(body))


def notifier(boundary: Boundary | None = None, to=TO) -> EmailNotifier:
    settings = EmailSettings(
        to=to,
        sender=SENDER,
        transport="ses",
        smtp_host=None,
        smtp_port=465,
        smtp_security="ssl",
        smtp_username=None,
        smtp_password=None,
        ses_region=REGION,
    )
    session = boto3.session.Session()
    session.events.unregister("before-send", botocore_stubber)
    session.events.register("before-send", boundary or Boundary())
    return EmailNotifier(settings, boto_session=session)


def deliver(
    channel: EmailNotifier, report: Report, policy: RetryPolicy | None = None
) -> tuple[DeliveryResult, list[float], list]:
    messages = channel.build(report, Renderer(None, timezone.utc))
    sleeps: list[float] = []
    [result] = deliver_all(
        [(channel, messages)], Deadline(30), policy or RetryPolicy(), sleep=sleeps.append
    )
    channel.close()
    return result, sleeps, messages


def alert(*failures) -> Report:
    return factories.report(factories.shipper(failures=failures))


def test_alert_is_sent_raw_with_every_task_in_both_parts(aws):
    verify_sender()
    failures = [
        factories.failed("task-a1", "UnAuthorized: role cannot write bucket"),
        factories.failed("task-b1", "目标 OSS 存储桶不存在", "NoSuchBucket"),
    ]
    boundary = Boundary()

    result, sleeps, messages = deliver(notifier(boundary), alert(*failures))

    assert (result.delivered, result.attempts, result.error) == (True, 1, None)
    assert sleeps == []
    assert len(boundary.requests) == 1
    [sent] = sent_messages()
    assert sent.source == "alerts@example.com"
    assert sent.destinations == list(TO)
    assert sent.raw_data.encode() == wire_bytes(messages[0].payload)
    message = parsed(sent)
    assert message["Subject"] == (
        "[shipper-alert] FIRING: proj-a/nginx/oss-archive — 2 failed tasks · "
        "UnAuthorized ×1, NoSuchBucket ×1"
    )
    assert message["From"] == SENDER
    alternative, attached = message.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert attached.get_filename() == "failed-tasks-20261128T0805.csv"
    rows = attached.get_content().removeprefix("\ufeff").split("\r\n")[1:-1]
    assert [row.split(",")[1] for row in rows] == [task.id for task in failures]
    for body in (part(message, "plain"), html.unescape(part(message, "html"))):
        for task in failures:
            assert task.id in body
            assert task.message in body
        assert "2 failed, 5 succeeded, 1 running" in body


def test_500_failures_stay_within_the_cap_with_exact_totals(aws):
    verify_sender()

    result, _, messages = deliver(notifier(), alert(*factories.many_failures(500)))

    assert result.delivered
    [sent] = sent_messages()
    assert sent.raw_data.encode() == wire_bytes(
        messages[0].payload
    )  # with the CSV: SES takes 10 MB
    message = parsed(sent)
    size = len(wire_bytes(without_attachment(message)))
    assert size == len(wire_bytes(without_attachment(messages[0].payload)))
    assert MAX_MESSAGE_BYTES - 1000 < size <= MAX_MESSAGE_BYTES
    assert len(message.get_payload()[1].get_content().split("\r\n")) == 1 + 500 + 1
    text, page = part(message, "plain"), html.unescape(part(message, "html"))
    shown = set(re.findall(r"task-\d{5}", factories.task_lines(text)))
    assert shown == set(re.findall(r"task-\d{5}", factories.task_lines(page)))
    assert 0 < len(shown) < 500
    for body in (text, page):
        assert "500 failed tasks in 1 shipper" in body
        assert f"and {500 - len(shown)} more items not shown" in body


def test_hostile_messages_are_escaped_in_html_and_plain_in_text(aws):
    verify_sender()
    failures = [
        factories.failed(f"task-h{i}", message)
        for i, message in enumerate(factories.HOSTILE_MESSAGES)
    ]

    result, _, _ = deliver(notifier(), alert(*failures))

    assert result.delivered
    message = parsed(sent_messages()[0])
    page = part(message, "html")
    assert "<script>" not in page
    for markup in ("<at ", "<font", "<!channel>"):
        assert markup not in page
    assert 'href="http://evil' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "中文错误信息" * 700 in page
    text = part(message, "plain")
    assert "<script>alert(1)</script>" in text
    assert "中文错误信息" * 700 in text


@pytest.mark.parametrize(
    ("code", "status", "text"),
    [
        ("Throttling", 400, "Maximum sending rate exceeded."),
        ("ThrottlingException", 400, "Rate exceeded"),
        ("TooManyRequestsException", 429, "Too many requests"),
        ("ServiceUnavailable", 503, "Service is unavailable"),
        ("InternalFailure", 500, "Internal failure"),
    ],
)
def test_throttling_and_5xx_are_retried_and_delivered_once(aws, code, status, text):
    verify_sender()
    boundary = Boundary(fail=1, code=code, status=status, message=text)

    result, sleeps, _ = deliver(notifier(boundary), alert(factories.failed("t-1")))

    assert (result.delivered, result.attempts, result.error) == (True, 2, None)
    assert len(sleeps) == 1
    # One HTTP request per attempt: botocore did not retry behind the delivery stage.
    assert len(boundary.requests) == 2
    assert len(sent_messages()) == 1


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("AccountSendingPausedException", "Account sending paused."),
        ("MailFromDomainNotVerifiedException", "MAIL FROM domain not verified."),
        ("ConfigurationSetSendingPausedException", "Configuration set sending paused."),
        ("InvalidParameterValue", "Local address contains control or whitespace"),
    ],
)
def test_permanent_errors_are_not_retried(aws, code, text):
    verify_sender()
    boundary = Boundary(fail=5, code=code, status=400, message=text)

    result, sleeps, _ = deliver(notifier(boundary), alert(factories.failed("t-1")))

    assert (result.delivered, result.attempts) == (False, 1)
    assert sleeps == []
    assert len(boundary.requests) == 1
    assert result.error == f"email (ses {REGION}): {code} (HTTP 400): {text} (request id req-1)"
    assert sent_messages() == []


def test_unverified_sender_is_message_rejected_once_without_secrets(aws, caplog):
    caplog.set_level(logging.DEBUG)
    boundary = Boundary()  # no verify_sender(): moto itself rejects, as SES does

    result, sleeps, _ = deliver(notifier(boundary), alert(factories.failed("t-1")))

    assert (result.delivered, result.attempts) == (False, 1)
    assert sleeps == []
    assert len(boundary.requests) == 1
    assert result.error.startswith(f"email (ses {REGION}): MessageRejected (HTTP 400): ")
    assert "alerts@example.com" in result.error
    assert AWS_SECRET not in f"{result.to_json()} {caplog.text}"
    assert sent_messages() == []


def test_more_than_50_recipients_go_out_in_batches_of_50(aws):
    verify_sender()
    to = tuple(f"ops{i:03d}@example.com" for i in range(120))

    result, _, _ = deliver(notifier(to=to), alert(factories.failed("t-1")))

    assert (result.delivered, result.attempts, result.messages) == (True, 3, 3)
    sent = sent_messages()
    assert [len(m.destinations) for m in sent] == [50, 50, 20]
    assert sorted(a for m in sent for a in m.destinations) == sorted(to)
    assert len({parsed(m)["Message-ID"] for m in sent}) == 3
