"""Rules for values that pass a type check but can never work: names SLS refuses,
credentials http.client cannot send in a header, instants and durations past any sane range.

Each function returns a problem sentence, or None when the value is fine, so that config
collects every problem and events raise the first.

SLS naming rules (https://www.alibabacloud.com/help/en/sls/product-overview/limits-on-names
"Naming conventions"): a project is 3-63 lower-case letters, digits and hyphens, starting
and ending with a letter or digit; a logstore 2-63 lower-case letters, digits, hyphens and
underscores, the same ends; an export job 2-64 of those, upper case too (CreateOSSExport,
https://www.alibabacloud.com/help/en/sls/developer-reference/api-sls-2020-12-30-createossexport;
the 2020-12-30 models' own examples use upper case).
Legacy shipper names are not documented: they get the logstore alphabet plus upper case and
inner dots, up to 128, so that no name SLS might hold is refused while `-l`, `..` and
`.hidden` (option-, path- and dot-file-like) are.
"""

from __future__ import annotations

import math
import re

_NAME_RULES = {
    "project": (
        re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]"),
        "3-63 lower-case letters, digits and hyphens, starting and ending with a letter or digit",
    ),
    "logstore": (
        re.compile(r"[a-z0-9][a-z0-9_-]{0,61}[a-z0-9]"),
        "2-63 lower-case letters, digits, hyphens and underscores, starting and ending with"
        " a letter or digit",
    ),
    "shipper": (
        re.compile(r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.-]{0,126}[A-Za-z0-9]"),
        "2-128 letters, digits, hyphens, underscores and single inner dots, starting and"
        " ending with a letter or digit",
    ),
    "job": (
        re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}[A-Za-z0-9]"),
        "2-64 letters, digits, hyphens and underscores, starting and ending with a letter or digit",
    ),
}
NAME_KINDS = tuple(_NAME_RULES)

# Access keys and STS tokens are printable ASCII; they travel in headers (Authorization,
# x-acs-security-token), where http.client refuses line breaks and encodes Latin-1 only.
_CREDENTIAL = re.compile(r"[\x21-\x7e]+")

# Epoch seconds of 9999-12-31T23:59:59Z, the last instant `datetime` can show.
MAX_EPOCH = 253_402_300_799
# Epoch milliseconds of any date from 1973 on are at least this; seconds never reach it.
MILLISECONDS_FROM = 100_000_000_000
# No duration setting means anything beyond a year.
MAX_DURATION = 366 * 86400


def name_problem(kind: str, name: str) -> str | None:
    """Why `name` cannot be an SLS `kind` name (project, logstore, shipper, job), or None."""
    pattern, rule = _NAME_RULES[kind]
    if isinstance(name, str) and pattern.fullmatch(name):
        return None
    return f"{kind} {name!r} is not a valid SLS {kind} name ({rule})"


def credential_problem(value: str) -> str | None:
    if _CREDENTIAL.fullmatch(value):
        return None
    return (
        "holds a character an HTTP header cannot carry (only printable ASCII, no spaces or"
        " line breaks: was it pasted with one?)"
    )


def epoch_problem(value: float) -> str | None:
    """Why `value` cannot be epoch seconds, with a hint for milliseconds, or None."""
    if math.isnan(value) or value < 0:
        return "is not a valid epoch time"
    if MILLISECONDS_FROM <= value < MILLISECONDS_FROM * 1000 * 100:
        return f"looks like milliseconds; epoch seconds are wanted ({int(value // 1000)}?)"
    if value > MAX_EPOCH:
        return "is not a valid epoch time (after the year 9999)"
    return None
