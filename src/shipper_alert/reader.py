"""Reads environment variables one by one, collecting every problem instead of raising.

`config` and every channel's `settings.read` use one Reader, so that one ConfigError can
list every problem and `validate` can show every value (secrets masked). Stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipper_alert.addresses import webhook_url_problem
from shipper_alert.durations import format_duration, parse_duration
from shipper_alert.redact import Secret, redact_url
from shipper_alert.validation import MAX_DURATION

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_LIST_SEPARATORS = re.compile(r"[,\s]+")
_MOBILE = re.compile(r"\+?[0-9][0-9-]{4,19}|@all")


@dataclass(frozen=True)
class Shown:
    """One line of the effective configuration, as `validate` prints it."""

    variable: str
    value: str
    source: str  # "env", "default", "context", "unset"


class Reader:
    """Reads variables, collecting every problem instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str], secrets: frozenset[str] = frozenset()) -> None:
        self.environ = environ
        self.secrets = secrets  # variables whose invalid value is shown as ***
        self.problems: list[str] = []
        self.shown: dict[str, Shown] = {}

    def raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def problem(self, name: str, text: str) -> None:
        self.problems.append(f"{name}: {text}")

    def show(self, name: str, value: str, source: str = "env") -> None:
        self.shown[name] = Shown(name, value, source)

    def _read(self, name: str, default: Any, convert, display=str) -> Any:
        text = self.raw(name)
        if text is None:
            self.show(name, "(unset)" if default is None else display(default), "default")
            return default
        try:
            value = convert(text)
        except ValueError as exc:
            shown = "***" if name in self.secrets else text
            self.problem(name, str(exc))
            self.show(name, shown, "invalid")
            return default
        self.show(name, display(value) if value is not None else "(unset)")
        return value

    def duration(self, name: str, default: int | None, minimum: int = 0) -> int | None:
        def convert(text: str) -> int:
            seconds = parse_duration(text)
            if seconds > MAX_DURATION:  # before any time arithmetic (10**20 s overflows)
                raise ValueError(
                    f"{text!r} is longer than the maximum {format_duration(MAX_DURATION)}"
                )
            if seconds < minimum:
                raise ValueError(f"{text!r} is shorter than the minimum {format_duration(minimum)}")
            return seconds

        return self._read(name, default, convert, format_duration)

    def boolean(self, name: str, default: bool) -> bool:
        def convert(text: str) -> bool:
            lowered = text.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError(f"{text!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")

        return self._read(name, default, convert, lambda v: "true" if v else "false")

    def integer(self, name: str, default: int | None, minimum: int, maximum: int) -> int | None:
        def convert(text: str) -> int:
            if not re.fullmatch(r"\d+", text):
                raise ValueError(f"{text!r} is not a whole number")
            number = int(text)
            if not minimum <= number <= maximum:
                raise ValueError(f"{number} is outside {minimum}..{maximum}")
            return number

        return self._read(name, default, convert)

    def text(self, name: str, default: str | None = None) -> str | None:
        return self._read(name, default, lambda t: t)

    def choice(self, name: str, default: str | None, choices: tuple[str, ...]) -> str | None:
        def convert(text: str) -> str:
            lowered = text.lower()
            if lowered not in choices:
                raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
            return lowered

        return self._read(name, default, convert)

    def items(self, name: str) -> tuple[str, ...]:
        def convert(text: str) -> tuple[str, ...]:
            return tuple(item for item in _LIST_SEPARATORS.split(text) if item)

        return self._read(name, (), convert, lambda v: ", ".join(v) if v else "(unset)")

    def secret(self, name: str) -> Secret | None:
        text = self.raw(name)
        if text is None:
            self.show(name, "(unset)", "default")
            return None
        self.show(name, "***")
        return Secret(text)

    def url(self, name: str) -> Secret | None:
        """A webhook URL: https, or http to a loopback host; shown redacted."""
        text = self.raw(name)
        if text is None:
            self.show(name, "(unset)", "default")
            return None
        secret = Secret(text)
        self.show(name, redact_url(text))
        problem = webhook_url_problem(text)
        if problem:
            self.problem(name, problem)
            return None
        return secret

    def mobiles(self, name: str) -> tuple[str, ...]:
        mobiles = self.items(name)
        for mobile in mobiles:
            if not _MOBILE.fullmatch(mobile):
                self.problem(name, f"{mobile!r} is not a mobile number")
        return mobiles

    def signing_secret(self, name: str, prefix: str | None) -> Secret | None:
        secret = self.secret(name)
        if secret is not None and prefix and not secret.reveal().startswith(prefix):
            self.problem(
                name,
                f"does not start with {prefix!r} as signing secrets do "
                "(copy the secret shown under the robot's security settings, not its token)",
            )
        return secret
