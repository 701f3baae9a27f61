"""Rendering: Jinja2 templates, one file per channel part, over a typed `MessageView`.

Built-in templates live in `shipper_alert/templates/` as `<channel>.<part>.j2` (shared
macros in `_macros.j2`). A TEMPLATE_DIR may hold files of the same names; they replace the
built-in ones and are rendered in a sandboxed environment (they may import the built-in
macros), within a time budget and an output cap (`shipper_alert.template_guard`). If a
custom template fails to load or render, or runs away, the built-in one is used and the
failure is recorded in `Renderer.notes`, which the message then shows; once one ran out of
time, no custom template is tried again in the same invocation.

`StrictUndefined` makes a typo in a template an error instead of an empty string; HTML
templates (`*.html.j2`) are autoescaped, other formats use the filter named after their
markup for every value that comes from the API: copysafe.FILTERS (`slack_code`,
`markdown_code`, `html_code`, `plain_text`), which keep what a reader copies intact, and
the older `mrkdwn` and `markdown` look-alike escapes for our own notes and the push line.
jinja2 is imported when the first message is rendered, not when the function loads.

The package ships the built-in templates compiled to Python modules (`compile_builtin`,
run by tools/package.py; jinja2's `compile_templates`), so that a cold start loads their
bytecode instead of compiling 23 templates; they are used only while their manifest
matches the template sources and jinja2's version, else the templates are compiled as
usual. A TEMPLATE_DIR's environment always compiles from the sources.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from shipper_alert import copysafe
from shipper_alert.budget import Deadline
from shipper_alert.durations import format_duration
from shipper_alert.redact import SecretScrubber

log = logging.getLogger(__name__)
TEMPLATE_FOLDER = "templates"
TEMPLATES = Path(__file__).with_name(TEMPLATE_FOLDER)
# A custom part may use at most this share of the invocation's time left.
CUSTOM_RENDER_SHARE = 0.1
# The built-in environment per timezone (its filters format times in it), kept for the
# process: its compiled templates serve every Renderer (a warm FC instance compiles once).
_BUILTIN_ENVIRONMENTS: dict[Any, Any] = {}
COMPILED = TEMPLATES / "compiled"  # made by compile_builtin; not in git
MANIFEST = "SOURCES"  # in COMPILED: the digest of what the modules were compiled from


@lru_cache(maxsize=8192)  # each task's times are formatted again at every fit probe
def _time(epoch: int | None, tz, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    if epoch is None or epoch <= 0:
        return "-"
    return datetime.fromtimestamp(epoch, tz).strftime(fmt)


def _percent(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    return f"{ratio * 100:.1f}%".replace(".0%", "%")


# Slack mrkdwn: exactly &, < and > are entities ("three characters you must convert",
# https://api.slack.com/docs/message-formatting); emphasis characters have no escape, so
# they are replaced by look-alikes that do not format.
_MRKDWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MRKDWN_NEUTRAL = {"*": "∗", "_": "＿", "~": "∼", "`": "ˋ"}


_MRKDWN_TABLE = str.maketrans({**_MRKDWN_ENTITIES, **_MRKDWN_NEUTRAL})


def escape_mrkdwn(value: Any) -> str:
    # One table pass (str.translate): messages hold thousands of characters per task.
    return str(value).translate(_MRKDWN_TABLE)


# DingTalk, WeCom and Feishu markdown document no escape mechanism (docs/vendors.md,
# "Copy-safe text per channel"): link, image, emphasis, heading, quote and tag syntax is replaced by
# full-width look-alikes, so API text can neither add links, mentions nor markup.
_MARKDOWN_NEUTRAL = {
    "[": "［",
    "]": "］",
    "(": "（",
    ")": "）",
    "!": "！",
    "*": "＊",
    "_": "＿",
    "#": "＃",
    ">": "＞",
    "<": "＜",
    "`": "ˋ",
    "~": "～",
    "|": "｜",
    "\\": "＼",
    "@": "＠",
}
_MARKDOWN_TABLE = str.maketrans(_MARKDOWN_NEUTRAL)
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f]+")


def escape_markdown(value: Any) -> str:
    text = _LINE_BREAKS.sub(" ", str(value))
    text = text.translate(_MARKDOWN_TABLE)
    # A leading "-", "+" or "1." would start a list item.
    return re.sub(r"^(\s*)([-+]|\d+\.)", lambda m: m.group(1) + "\u200b" + m.group(2), text)


def sources_digest(folder: Path = TEMPLATES) -> str:
    """What compiled templates depend on: jinja2's version and every template's text."""
    import jinja2  # noqa: PLC0415 - keep the cold start light

    digest = hashlib.sha256(jinja2.__version__.encode())
    for path in sorted(folder.glob("*.j2")):
        digest.update(b"\0%s\0%s" % (path.name.encode(), path.read_bytes()))
    return digest.hexdigest()


def compile_builtin(target: Path = COMPILED) -> Path:
    """The built-in templates compiled to Python modules in `target`, with their manifest."""
    import shutil  # noqa: PLC0415 - build time only

    environment = Renderer()._environment(custom=False)
    shutil.rmtree(target, ignore_errors=True)
    environment.compile_templates(
        str(target), zip=None, filter_func=lambda name: "/" not in name and name.endswith(".j2")
    )
    (target / MANIFEST).write_text(sources_digest(), encoding="ascii")
    return target


def compiled_current() -> bool:
    try:
        return (COMPILED / MANIFEST).read_text(encoding="ascii") == sources_digest()
    except OSError:
        return False


class Renderer:
    """Renders `<channel>.<part>.j2` for a view; see the module docstring."""

    def __init__(
        self, template_dir: Path | None = None, timezone=None, deadline: Deadline | None = None
    ) -> None:
        self.template_dir = template_dir
        self.timezone = timezone
        self.deadline = deadline
        self.notes: list[str] = []
        # Set once a custom template runs out of time: the others are not tried either,
        # so a TEMPLATE_DIR of runaway templates costs one budget, not one per part.
        self._custom_off = False
        self._builtin = None
        self._custom = None

    def _filters(self) -> dict[str, Any]:
        from markupsafe import Markup  # noqa: PLC0415 - jinja2's own dependency, loaded with it

        tz = self.timezone

        return {
            "localtime": lambda epoch, fmt="%Y-%m-%d %H:%M:%S": _time(epoch, tz, fmt),
            "clock": lambda epoch: _time(epoch, tz, "%H:%M:%S"),
            "duration": format_duration,
            "percent": _percent,
            "mrkdwn": escape_mrkdwn,
            "markdown": escape_markdown,
            "one_line": copysafe.one_line,
            **copysafe.FILTERS,
            # The finished <code> element, its text escaped by html_code itself: marked safe
            # so that autoescape does not escape it a second time.
            "html_code": lambda value, limit=None: Markup(copysafe.html_code(value, limit)),  # noqa: S704
        }

    def _environment(self, custom: bool, compiled: bool = False):
        import jinja2  # noqa: PLC0415 - keep the cold start light

        builtin_loader = jinja2.FileSystemLoader(str(TEMPLATES))
        if compiled:
            builtin_loader = jinja2.ModuleLoader(str(COMPILED))
        options: dict[str, Any] = {
            "undefined": jinja2.StrictUndefined,
            "autoescape": jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": False,
        }
        if custom:
            from shipper_alert.template_guard import GuardedEnvironment  # noqa: PLC0415

            loader = jinja2.ChoiceLoader(
                [jinja2.FileSystemLoader(str(self.template_dir)), builtin_loader]
            )
            env = GuardedEnvironment(loader=loader, **options)
            env.filters.update(self._filters())
            env.guard_filters()
            return env
        env = jinja2.Environment(loader=builtin_loader, **options)  # noqa: S701 - autoescape set per format
        env.filters.update(self._filters())
        return env

    def is_custom(self, name: str) -> bool:
        """Whether `name` is rendered from TEMPLATE_DIR (not the built-in template)."""
        if self._custom_off:
            return False
        return self.template_dir is not None and (self.template_dir / name).is_file()

    def _budget(self) -> float:
        """Seconds one custom part may take: RENDER_SECONDS, less as the deadline nears."""
        from shipper_alert.template_guard import RENDER_SECONDS  # noqa: PLC0415

        if self.deadline is None:
            return RENDER_SECONDS
        return max(0.0, min(RENDER_SECONDS, self.deadline.remaining() * CUSTOM_RENDER_SHARE))

    def render(self, name: str, **context: Any) -> str:
        """Render template `name` (e.g. `text.body.j2`) with `context`."""
        if self.is_custom(name):
            if self._custom is None:
                self._custom = self._environment(custom=True)
            from shipper_alert.template_guard import (  # noqa: PLC0415
                RenderBudgetExceeded,
                render_within,
            )

            try:
                context["notes"] = tuple(self.notes)
                template = self._custom.get_template(name)
                return render_within(template, context, self._budget()).strip()
            except Exception as exc:  # any template error: fall back, never lose the alert
                if isinstance(exc, RenderBudgetExceeded):
                    self._custom_off = True
                reason = copysafe.one_line(SecretScrubber.scrub(str(exc)))[:300]
                note = (
                    f"custom template {name} failed ({type(exc).__name__}: {reason}); built-in used"
                )
                log.error("%s", note)
                if note not in self.notes:
                    self.notes.append(note)
        if self._builtin is None:
            self._builtin = _BUILTIN_ENVIRONMENTS.get(self.timezone)
            if self._builtin is None:
                self._builtin = self._environment(custom=False, compiled=compiled_current())
                _BUILTIN_ENVIRONMENTS[self.timezone] = self._builtin
        context["notes"] = tuple(self.notes)
        return self._builtin.get_template(name).render(**context).strip()
