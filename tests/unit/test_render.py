import time
from dataclasses import replace
from datetime import timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import factories
from shipper_alert import render
from shipper_alert.render import Renderer, escape_markdown, escape_mrkdwn
from shipper_alert.view import build_view


def test_markdown_escaping_leaves_no_link_mention_tag_or_emphasis_syntax():
    text = escape_markdown(
        '[x](http://evil) ![i](http://e/i.png) <font color="red">a</font> @all **b** _c_ # h\n> q\n- item'
    )
    for syntax in ("[", "](", "![", "<", ">", "@", "**", "_", "#", "\n"):
        assert syntax not in text


def test_mrkdwn_escaping_keeps_control_sequences_from_forming():
    text = escape_mrkdwn("<!channel> <@U024BE7LH> <http://evil|x> & *b* _i_ ~s~ `c`")
    assert "<" not in text
    assert ">" not in text
    assert "&lt;!channel&gt;" in text
    assert "&amp;" in text
    for emphasis in ("*", "_", "~", "`"):
        assert emphasis not in text


def test_a_broken_custom_template_falls_back_and_the_message_says_so(tmp_path):
    (tmp_path / "text.body.j2").write_text("{{ view.no_such_attribute }}")
    renderer = Renderer(tmp_path, timezone.utc)
    view = build_view(factories.report(factories.shipper(failures=[factories.failed("t-1")])))
    text = renderer.render("text.body.j2", view=view)
    assert "t-1" in text  # the built-in template rendered
    assert "Note: custom template text.body.j2 failed (UndefinedError:" in text
    assert renderer.notes == [
        "custom template text.body.j2 failed (UndefinedError: 'shipper_alert.view.MessageView "
        "object' has no attribute 'no_such_attribute'); built-in used"
    ]


def test_a_custom_template_replaces_the_built_in_one_and_may_use_its_macros(tmp_path):
    (tmp_path / "text.subject.j2").write_text(
        '{% import "_macros.j2" as m %}OPS {{ m.headline(view) }}'
    )
    renderer = Renderer(tmp_path, timezone.utc)
    view = build_view(factories.report(factories.shipper(failures=[factories.failed("t-1")])))
    assert renderer.render("text.subject.j2", view=view) == "OPS FIRING: 1 failed task in 1 shipper"
    assert renderer.notes == []


def test_custom_templates_are_sandboxed(tmp_path):
    (tmp_path / "text.subject.j2").write_text("{{ view.__class__.__init__.__globals__ }}")
    renderer = Renderer(tmp_path, timezone.utc)
    view = build_view(factories.report(factories.shipper(failures=[factories.failed("t-1")])))
    subject = renderer.render("text.subject.j2", view=view)
    assert (
        subject
        == "[shipper-alert] FIRING: proj-a/nginx/oss-archive — 1 failed task · UnAuthorized ×1"
    )
    assert "SecurityError" in renderer.notes[0]


def test_times_are_shown_in_the_alert_timezone():

    renderer = Renderer(None, ZoneInfo("Asia/Shanghai"))
    report = factories.report(
        factories.shipper(failures=[factories.failed("t-1")]),
        tz=ZoneInfo("Asia/Shanghai"),
        tz_name="Asia/Shanghai",
    )
    text = renderer.render("text.body.j2", view=build_view(report))
    assert "Window: 2026-11-28 15:59:00 to 16:04:00 Asia/Shanghai" in text


@pytest.mark.parametrize("template", ["text.body.j2", "dingtalk.text.j2"])
def test_the_counts_line_says_how_many_failed_again_after_an_sls_retry(template):
    renderer = Renderer(None, timezone.utc)
    shipper = factories.shipper(failures=[factories.failed("t-1")])
    text = renderer.render(
        template, view=build_view(factories.report(replace(shipper, refailed=2)))
    )
    assert "2 tasks notified before failed again after an SLS retry" in text
    plain = renderer.render(template, view=build_view(factories.report(shipper)))
    assert "failed again" not in plain


RUNAWAY_TEMPLATES = [
    ("repetition", "{{ 'x' * 10**9 }}", "SecurityError: a repetition longer than 262144"),
    ("power", "{{ 2 ** (10**8) }}", "SecurityError: a power of more than 4096 bits"),
    ("big range", "{% for i in range(10**9) %}{% endfor %}", "an argument of 1000000000"),
    (
        "nested ranges",
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "RenderBudgetExceeded: did not finish within 0.3s",
    ),
    (
        "output flood",
        "{% for i in range(10000) %}{{ 'y' * 100000 }}{% endfor %}",
        "RenderBudgetExceeded: output longer than 262144 characters",
    ),
    ("format width", "{{ '%1000000000d' % 1 }}", "a format width or precision of a million"),
    ("range", "{% for i in range(200000) %}{% endfor %}", "a range of 200000 items, more than"),
    ("method width", "{{ 'a'.center(10**9) }}", "an argument of 1000000000, more than 262144"),
    ("filter width", "{{ 'a'|center(10**9) }}", "an argument of 1000000000, more than 262144"),
    ("str.format", "{{ '{:>9999999}'.format(1) }}", "a format width or precision of a million"),
    ("concatenation", "{{ ('z' * 200000) + ('z' * 200000) }}", "a concatenation longer"),
]


@pytest.mark.parametrize(
    ("source", "reason"),
    [pytest.param(s, r, id=i) for i, s, r in RUNAWAY_TEMPLATES],
)
def test_a_runaway_custom_template_falls_back_within_its_budget(
    tmp_path, monkeypatch, source, reason
):
    monkeypatch.setattr("shipper_alert.template_guard.RENDER_SECONDS", 0.3)
    (tmp_path / "text.subject.j2").write_text(source)
    renderer = Renderer(tmp_path, timezone.utc)
    view = build_view(factories.report(factories.shipper(failures=[factories.failed("t-1")])))
    started = time.monotonic()
    subject = renderer.render("text.subject.j2", view=view)
    assert time.monotonic() - started < 2.0  # the promise: bounded, whatever the template
    assert subject == Renderer(None, timezone.utc).render("text.subject.j2", view=view)
    assert subject.startswith("[shipper-alert] FIRING: proj-a/nginx/oss-archive")
    assert len(renderer.notes) == 1
    assert renderer.notes[0].startswith("custom template text.subject.j2 failed (")
    assert reason in renderer.notes[0]
    assert renderer.notes[0].endswith("; built-in used")


def test_after_a_template_ran_out_of_time_no_custom_one_is_tried(tmp_path, monkeypatch):
    monkeypatch.setattr("shipper_alert.template_guard.RENDER_SECONDS", 0.2)
    (tmp_path / "text.subject.j2").write_text(
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"
    )
    (tmp_path / "text.body.j2").write_text("CUSTOM BODY")
    renderer = Renderer(tmp_path, timezone.utc)
    view = build_view(factories.report(factories.shipper(failures=[factories.failed("t-1")])))
    renderer.render("text.subject.j2", view=view)
    started = time.monotonic()
    renderer.render("text.subject.j2", view=view)
    body = renderer.render("text.body.j2", view=view)
    assert time.monotonic() - started < 0.2
    assert "CUSTOM BODY" not in body
    assert "t-1" in body  # the built-in body
    assert len(renderer.notes) == 1


def test_a_guarded_template_still_renders_ordinary_arithmetic(tmp_path):
    (tmp_path / "text.subject.j2").write_text(
        "{{ '-' * 3 }} {{ 2 ** 10 }} {{ '%05d' % 42 }} {{ 'ab' + 'cd' }} {{ range(3)|list }}"
        " {{ 'x'|center(5) }}|{{ '{:>4}'.format(7) }}"
    )
    renderer = Renderer(tmp_path, timezone.utc)
    view = build_view(factories.report(factories.shipper(failures=[factories.failed("t-1")])))
    assert renderer.render("text.subject.j2", view=view) == (
        "--- 1024 00042 abcd [0, 1, 2]   x  |   7"
    )
    assert renderer.notes == []


# Every built-in part that takes only the view (the others take it and one shipper).
VIEW_ONLY_PARTS = (
    "text.subject.j2",
    "text.body.j2",
    "email.subject.j2",
    "email.text.j2",
    "email.html.j2",
    "dingtalk.title.j2",
    "dingtalk.text.j2",
    "wecom.markdown.j2",
    "slack.text.j2",
    "slack.causes.j2",
    "feishu.intro.j2",
)


def test_the_compiled_built_in_templates_render_exactly_what_their_sources_render(
    tmp_path, monkeypatch
):
    failure = factories.failed("t-1", message="<b>denied</b> & *bold* [x](http://e)")
    view = build_view(factories.report(factories.shipper(failures=[failure])))
    from_source = {
        name: Renderer(None, timezone.utc).render(name, view=view) for name in VIEW_ONLY_PARTS
    }

    render.compile_builtin(tmp_path)
    monkeypatch.setattr(render, "COMPILED", tmp_path)
    compiled = Renderer(None, timezone.utc)

    assert {name: compiled.render(name, view=view) for name in VIEW_ONLY_PARTS} == from_source
    assert "&lt;b&gt;denied" in from_source["email.html.j2"]  # autoescape survives compiling
    served = compiled._builtin.get_template("text.body.j2").filename
    assert Path(served).parent == tmp_path  # not compiled again from the source


def test_custom_templates_import_the_built_in_macros_from_source_not_compiled(
    tmp_path, monkeypatch
):
    # A compiled built-in is compiled unsandboxed; a custom template runs sandboxed.
    compiled, custom = tmp_path / "compiled", tmp_path / "custom"
    custom.mkdir()
    render.compile_builtin(compiled)
    monkeypatch.setattr(render, "COMPILED", compiled)
    (custom / "text.subject.j2").write_text('{% import "_macros.j2" as m %}{{ m.tally(view) }}')
    renderer = Renderer(custom, timezone.utc)
    view = build_view(factories.report(factories.shipper(failures=[factories.failed("t-1")])))

    assert renderer.render("text.subject.j2", view=view) == Renderer(
        None, timezone.utc
    )._environment(custom=False, compiled=False).from_string(
        '{% import "_macros.j2" as m %}{{ m.tally(view) }}'
    ).render(view=view, notes=())
    macros = renderer._custom.get_template("_macros.j2").filename
    assert Path(macros).parent == render.TEMPLATES
