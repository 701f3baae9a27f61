"""Slack and Feishu render each distinct shipper section once while `fit` searches; the
built-in sections are shared between the trial parts `fit` packs and the parts it sends,
which is right only while no built-in section shows the part it is in."""

from __future__ import annotations

import json
import re
from datetime import timezone

import pytest

import factories
from shipper_alert.evaluate import Stall
from shipper_alert.notify.feishu.notifier import FeishuNotifier
from shipper_alert.notify.feishu.settings import FeishuSettings
from shipper_alert.notify.slack.notifier import SlackNotifier
from shipper_alert.notify.slack.settings import SlackSettings
from shipper_alert.redact import Secret
from shipper_alert.render import Renderer
from shipper_alert.report import ErrorInfo, RetryOutcome
from shipper_alert.view import Limits, build_view

SHIPPER_TEMPLATES = ("slack.shipper.j2", "feishu.shipper.j2")


def varied_report():
    return factories.report(
        factories.shipper(
            "proj-a/logs/a",
            failures=factories.many_failures(12),
            stuck_tasks=[factories.stuck("st-1")],
            retry=RetryOutcome(("task-00000",), False),
        ),
        factories.shipper(
            "proj-a/logs/b",
            stall=Stall(factories.WINDOW.start - 7200, factories.WINDOW.start, True),
            error=ErrorInfo("InternalServerError", "boom", "req-1", 500),
        ),
        factories.shipper("proj-a/logs/c", resolved=True),
    )


@pytest.mark.parametrize("template", SHIPPER_TEMPLATES)
@pytest.mark.parametrize("limits", [Limits(), Limits(tasks=3), Limits(tasks=0, groups=0)])
def test_no_built_in_shipper_section_shows_its_part(template, limits):
    report = varied_report()
    renderer = Renderer(None, timezone.utc)
    texts = set()
    for part, parts in ((1, 1), (2, 3), (99, 99)):
        view = build_view(report, limits, report.findings, part, parts)
        sections = tuple(
            renderer.render(template, view=view, s=s, console_url="u", fallback_url="f")
            for s in view.shippers
        )
        texts.add(sections)
    assert len(texts) == 1


def build(channel, report, renderer):
    if channel == "slack":
        notifier = SlackNotifier(SlackSettings(Secret("https://hooks.slack.com/services/T/B/x")))
    else:
        url = "https://open.feishu.cn/open-apis/bot/v2/hook/unit-test-hook-token"
        notifier = FeishuNotifier(FeishuSettings(Secret(url), None))
    try:
        return notifier.build(report, renderer)
    finally:
        notifier.close()


@pytest.mark.parametrize("channel", ["slack", "feishu"])
def test_a_custom_shipper_section_that_shows_its_part_gets_its_own_part(channel, tmp_path):
    (tmp_path / f"{channel}.shipper.j2").write_text(
        "{{ s.report.ref }} in part {{ view.part }} of {{ view.parts }}\n" + "x" * 400
    )
    shippers = [
        factories.shipper(f"proj-{i:03d}/logs/oss", failures=[factories.failed(f"t-{i:03d}")])
        for i in range(70)
    ]
    messages = build(channel, factories.report(*shippers), Renderer(tmp_path, timezone.utc))
    assert len(messages) > 1
    seen = []
    for index, message in enumerate(messages, start=1):
        body = json.dumps(message.payload, ensure_ascii=False)
        shown = re.findall(r"(proj-\d{3})/logs/oss in part (\d+) of (\d+)", body)
        assert shown
        assert {(int(p), int(n)) for _, p, n in shown} == {(index, len(messages))}
        seen += [name for name, _, _ in shown]
    assert sorted(set(seen)) == [f"proj-{i:03d}" for i in range(70)]
