"""`--env-file` and SHIPPER_ALERT_ENV_FILE: NAME=value lines read without a shell.

Blank lines and lines starting with `#` are skipped; `export ` before a name is allowed;
a value may be wrapped in single or double quotes, which are removed, and is otherwise
taken literally (no `$` expansion, no inline comments, no escapes), so
`EMAIL_FROM=Shipper Alert <alert@example.com>` needs no quoting. Values are never echoed
in problems: a line may hold a secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)")


@dataclass(frozen=True)
class EnvLine:
    number: int
    name: str
    value: str


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def parse_env_text(text: str) -> tuple[list[EnvLine], list[str]]:
    """The NAME=value lines of `text`, and a problem (`line N ...`) for each other line."""
    lines, problems = [], []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.fullmatch(stripped)
        if match is None:
            problems.append(f"line {number} is not NAME=value")
            continue
        lines.append(EnvLine(number, match.group(1), _unquote(match.group(2))))
    return lines, problems


def read_env_file(path: Path) -> tuple[list[EnvLine], list[str]]:
    """The file's lines, or a problem saying why it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return [], [f"{path} cannot be read ({exc.strerror})"]
    except UnicodeDecodeError:
        return [], [f"{path} is not UTF-8 text"]
    return parse_env_text(text)
