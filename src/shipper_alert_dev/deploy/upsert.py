"""Read, then create or update: how `make deploy` stays idempotent on FC 2.0 and 3.0.

Each SDK raises its own exception type, so the caller says which errors mean "not found"
(the resource is created) and "already exists" (someone created it between our read and
our create: it is updated instead).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ErrorTest = Callable[[Exception], bool]


def exists(get: Callable[[], Any], is_not_found: ErrorTest) -> bool:
    try:
        get()
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise
    return True


def created_or_updated(
    found: bool, create: Callable[[], Any], update: Callable[[], Any], is_conflict: ErrorTest
) -> str:
    """`created` or `updated`; a create that meets a conflict updates instead."""
    if found:
        update()
        return "updated"
    try:
        create()
    except Exception as exc:
        if not is_conflict(exc):
            raise
        update()
        return "updated"
    return "created"
