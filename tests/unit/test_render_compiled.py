"""The built-in templates compiled to modules (render.compile_builtin, as the package ships
them) render exactly what the template sources render, and only while they are current."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import pytest

import factories
from shipper_alert import render
from shipper_alert.config import load_settings
from shipper_alert.evaluate import Stall
from shipper_alert.notify.email.message import wire_bytes
from shipper_alert.notify.registry import build_notifiers
from shipper_alert.render import Renderer
from shipper_alert.report import ErrorInfo
from shipper_alert.view import build_view

ENV = {
    "SLS_ENDPOINT": "https://cn-hangzhou.log.aliyuncs.com",
    "SHIPPERS": "proj-a/*/*",
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "test-id",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "test-secret",
    "DINGTALK_WEBHOOK_URL": "https://oapi.dingtalk.com/robot/send?access_token=t",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/t",
    "WECOM_WEBHOOK_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=t",
    "FEISHU_WEBHOOK_URL": "https://open.feishu.cn/open-apis/bot/v2/hook/t",
    "WEBHOOK_URL": "https://hooks.example.com/t",
    "EMAIL_TO": "ops@example.com",
    "EMAIL_FROM": "alerts@example.com",
    "SMTP_HOST": "smtp.example.com",
}


def every_message(renderer: Renderer) -> list[tuple[str, str, str, bytes]]:
    """Every channel's messages for a report that takes most template branches."""
    report = factories.report(
        factories.shipper("proj-a/a/s", failures=factories.many_failures(400, messages=4)),
        factories.shipper(
            "proj-a/b/s",
            failures=[factories.failed("t-1", factories.HOSTILE_MESSAGES[0], None)],
            stuck_tasks=[factories.stuck("st-1")],
        ),
        factories.shipper("proj-a/c/s", stall=Stall(factories.WINDOW.start - 9000, 0, False)),
        factories.shipper("proj-a/d/s", error=ErrorInfo("Unauthorized", "denied", "req-1", 401)),
    )
    settings = load_settings(ENV, None, True)
    built = []
    for notifier in build_notifiers(settings.channels):
        for m in notifier.build(report, renderer):
            payload = m.payload
            body = wire_bytes(payload) if m.channel == "email" else json.dumps(payload).encode()
            built.append((m.channel, m.title, m.text, body))
    return built


@pytest.fixture
def fresh(monkeypatch):
    """No built-in environment kept from an earlier test."""
    monkeypatch.setattr(render, "_BUILTIN_ENVIRONMENTS", {})
    return monkeypatch


def builtin_loader(renderer: Renderer) -> jinja2.BaseLoader:
    return renderer._builtin.loader


def test_compiled_templates_render_exactly_what_the_sources_render(tmp_path, fresh):
    fresh.setattr(render, "COMPILED", tmp_path / "none")
    from_sources = Renderer(None)
    expected = every_message(from_sources)
    assert isinstance(builtin_loader(from_sources), jinja2.FileSystemLoader)

    compiled = render.compile_builtin(tmp_path / "compiled")
    fresh.setattr(render, "COMPILED", compiled)
    fresh.setattr(render, "_BUILTIN_ENVIRONMENTS", {})
    assert render.compiled_current()
    from_modules = Renderer(None)
    assert every_message(from_modules) == expected
    assert isinstance(builtin_loader(from_modules), jinja2.ModuleLoader)
    assert {m[0] for m in expected} == {"dingtalk", "slack", "wecom", "feishu", "webhook", "email"}


def test_compiled_templates_are_not_used_once_the_sources_changed(tmp_path, fresh):
    compiled = render.compile_builtin(tmp_path / "compiled")
    (compiled / render.MANIFEST).write_text("0" * 64, encoding="ascii")  # other sources
    fresh.setattr(render, "COMPILED", compiled)
    assert not render.compiled_current()
    renderer = Renderer(None)
    every_message(renderer)
    assert isinstance(builtin_loader(renderer), jinja2.FileSystemLoader)


def test_the_manifest_names_jinja2_and_every_template(tmp_path):
    digest = render.sources_digest()
    copy = tmp_path / "templates"
    copy.mkdir()
    for path in render.TEMPLATES.glob("*.j2"):
        (copy / path.name).write_bytes(path.read_bytes())
    assert render.sources_digest(copy) == digest
    (copy / "text.subject.j2").write_text("changed", encoding="utf-8")
    assert render.sources_digest(copy) != digest


def test_custom_templates_import_the_built_in_macros_from_source_not_compiled(tmp_path, fresh):
    # The compiled built-ins are compiled unsandboxed; a custom template runs sandboxed.
    compiled, custom = tmp_path / "compiled", tmp_path / "custom"
    custom.mkdir()
    render.compile_builtin(compiled)
    fresh.setattr(render, "COMPILED", compiled)
    (custom / "text.subject.j2").write_text('{% import "_macros.j2" as m %}{{ m.tally(view) }}')
    renderer = Renderer(custom, factories.report().timezone)
    view = build_view(factories.report(factories.shipper(failures=[factories.failed("t-1")])))

    assert renderer.render("text.subject.j2", view=view) == "1 failed task in 1 shipper"
    assert renderer.notes == []
    macros = renderer._custom.get_template("_macros.j2").filename
    assert Path(macros).parent == render.TEMPLATES
