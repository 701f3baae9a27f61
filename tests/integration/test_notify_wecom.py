"""WeCom group robot end to end: notifier -> delivery -> the loopback WeCom stand-in.

Assertions are on what the stand-in received and accepted and on the delivery results.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

import factories
from shipper_alert.budget import Deadline
from shipper_alert.notify.delivery import DeliveryResult, deliver_all
from shipper_alert.notify.wecom.notifier import WeComNotifier
from shipper_alert.notify.wecom.settings import WeComSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert.report import Report
from shipper_alert_dev.standins.base import Reply
from shipper_alert_dev.standins.wecom import WeComStandIn

KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
NOW = 1795853105.0  # 08:05:05 UTC: 55 s to the next whole minute


@pytest.fixture
def robot() -> Iterator[WeComStandIn]:
    with WeComStandIn(KEY) as standin:
        yield standin


def make_notifier(
    standin: WeComStandIn, *, url: str | None = None, mobiles: tuple[str, ...] = ()
) -> WeComNotifier:
    settings = WeComSettings(Secret(url or standin.webhook_url), mobiles)
    return WeComNotifier(settings, clock=lambda: NOW)


def deliver(notifier: WeComNotifier, report: Report) -> tuple[DeliveryResult, list[float]]:
    sleeps: list[float] = []
    messages = notifier.build(report, Renderer(None, report.timezone))
    try:
        [result] = deliver_all([(notifier, messages)], Deadline(120), sleep=sleeps.append)
    finally:
        notifier.close()
    return result, sleeps


def content_of(body: dict) -> str:
    return body[body["msgtype"]]["content"]


def test_alert_carries_every_failed_task_then_mentions_by_mobile(robot: WeComStandIn) -> None:
    failures = (
        factories.failed("task-a1", "UnAuthorized: role cannot write bucket"),
        factories.failed("task-a2", "UnAuthorized: role cannot write bucket", at=30),
        factories.failed("task-b1", "InternalServerError: OSS timed out", "InternalError", 60),
    )
    report = factories.report(factories.shipper("proj-a/nginx/oss-archive", failures))

    result, _ = deliver(make_notifier(robot, mobiles=("13800000000", "@all")), report)

    assert (result.delivered, result.attempts, result.error, result.messages) == (True, 2, None, 2)
    alert, mention = robot.messages()
    assert len(robot.received) == 2
    assert alert["msgtype"] == "markdown"
    content = content_of(alert)
    for task_id in ("task-a1", "task-a2", "task-b1"):
        assert task_id in content
    assert "**2×** `UnAuthorized: role cannot write bucket`" in content
    assert "**1×** `InternalServerError: OSS timed out` (code `InternalError`)" in content
    assert "3 failed, 5 succeeded, 1 running" in content
    assert "Window 2026-11-28 07:59:00 to 08:04:00 UTC" in content
    assert "[SLS console](https://sls.console.aliyun.com/lognext/project/proj-a/" in content
    assert mention == {
        "msgtype": "text",
        "text": {
            "content": "[shipper-alert] FIRING: proj-a/nginx/oss-archive: see the alert above.",
            "mentioned_mobile_list": ["13800000000", "@all"],
        },
    }


def test_without_mobiles_one_markdown_message_is_sent(robot: WeComStandIn) -> None:
    report = factories.report(factories.shipper(failures=[factories.failed("task-1")]))
    result, _ = deliver(make_notifier(robot), report)
    assert (result.delivered, result.attempts) == (True, 1)
    assert [m["msgtype"] for m in robot.messages()] == ["markdown"]


@pytest.mark.parametrize(
    ("failures", "group_counts"),
    [
        (factories.many_failures(500), ("**167×**", "**166×**")),
        (
            tuple(
                factories.failed(f"task-{i:05d}", f"写入存储桶失败，角色{i % 4}没有写权限。" * 3)
                for i in range(500)
            ),
            ("**125×**",),
        ),
    ],
    ids=["ascii", "cjk"],
)
def test_500_failures_fit_the_content_limit_with_exact_counts(
    robot: WeComStandIn, failures: tuple, group_counts: tuple
) -> None:
    report = factories.report(factories.shipper(failures=failures))

    result, _ = deliver(make_notifier(robot, mobiles=("13800000000",)), report)

    assert (result.delivered, result.attempts) == (True, 2)
    alert, _mention = robot.messages()
    content = content_of(alert)
    # As the stand-in measures it, and filled: within one task line of the limit.
    assert 4096 - 60 < len(content.encode("utf-8")) <= 4096
    assert "500 failed tasks in 1 shipper" in content
    assert "500 failed, 5 succeeded, 1 running" in content
    shown = set(re.findall(r"task-\d{5}", factories.task_lines(content)))
    assert 0 < len(shown) < 500
    assert f"**and {500 - len(shown)} more not shown**" in content
    for count in group_counts:
        assert count in content


def test_rate_limited_mention_is_retried_without_repeating_the_alert(
    robot: WeComStandIn,
) -> None:
    report = factories.report(factories.shipper(failures=[factories.failed("task-1")]))
    notifier = make_notifier(robot, mobiles=("13800000000",))
    messages = notifier.build(report, Renderer(None, report.timezone))
    robot.fail_next(Reply(200, {"errcode": 0, "errmsg": "ok"}))  # the alert: accepted
    robot.rate_limit_next()  # the mention: throttled once

    [result] = deliver_all([(notifier, messages)], Deadline(120), sleep=lambda _: None)

    assert (result.delivered, result.attempts) == (True, 3)
    assert [r.json["msgtype"] for r in robot.received] == ["markdown", "text", "text"]


def test_server_error_and_dropped_connection_are_retried(robot: WeComStandIn) -> None:
    robot.fail_next(Reply(503, "unavailable"))
    robot.fail_next(Reply(drop=True))
    report = factories.report(factories.shipper(failures=[factories.failed("task-1")]))

    result, sleeps = deliver(make_notifier(robot), report)

    assert (result.delivered, result.attempts) == (True, 3)
    assert len(robot.delivered()) == 1
    assert len(sleeps) == 2


def test_bad_key_is_not_retried_and_reported_without_the_key(robot: WeComStandIn, caplog) -> None:
    caplog.set_level("INFO")
    wrong = "00000000-dead-beef-0000-000000000000"
    notifier = make_notifier(
        robot, url=robot.webhook_url.replace(KEY, wrong), mobiles=("13800000000",)
    )
    report = factories.report(factories.shipper(failures=[factories.failed("task-1")]))

    result, sleeps = deliver(notifier, report)

    assert (result.delivered, result.attempts) == (False, 1)
    assert len(robot.received) == 1  # neither retried nor followed by the mention
    assert sleeps == []
    assert result.error is not None
    assert result.error.startswith(
        f"message 1/2: wecom (http://127.0.0.1:{robot.port}/cgi-bin/***?***): "
        "errcode 93000: invalid webhook url"
    )
    assert "check WECOM_WEBHOOK_URL" in result.error
    for secret in (KEY, wrong):
        assert secret not in result.error
        assert secret not in caplog.text


def test_content_too_long_is_reported_as_a_bug_and_not_retried(robot: WeComStandIn, caplog) -> None:
    robot.fail_next(
        Reply(200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096."})
    )
    report = factories.report(factories.shipper(failures=[factories.failed("task-1")]))

    result, _ = deliver(make_notifier(robot), report)

    assert (result.delivered, result.attempts) == (False, 1)
    assert result.error is not None
    assert "errcode 40058" in result.error
    assert "BUG in shipper-alert" in result.error
    assert "size fitting" in caplog.text


# -- the stand-in itself checks what WeCom documents ------------------------------------------
def _post(standin: WeComStandIn, body: dict, key: str = KEY) -> dict:
    response = requests.post(
        f"{standin.url}/cgi-bin/webhook/send", params={"key": key}, json=body, timeout=5
    )
    assert response.status_code == 200
    return response.json()


def test_standin_enforces_the_documented_limits(robot: WeComStandIn) -> None:
    def markdown(content: str) -> dict:
        return {"msgtype": "markdown", "markdown": {"content": content}}

    exact = "中" * 1365 + "x"  # 4096 bytes
    assert _post(robot, markdown(exact)) == {"errcode": 0, "errmsg": "ok"}
    over = _post(robot, markdown(exact + "x"))
    assert over["errcode"] == 40058
    text = {"msgtype": "text", "text": {"content": "x" * 2049}}
    assert _post(robot, text)["errcode"] == 40058
    assert _post(robot, markdown(""))["errcode"] == 44004
    assert _post(robot, markdown("x"), key="nope")["errcode"] == 93000
    assert len(robot.delivered()) == 1
