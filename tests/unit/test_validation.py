"""The rules of values that can never work: SLS names, credentials, epoch instants."""

from __future__ import annotations

import pytest

from shipper_alert.validation import credential_problem, epoch_problem, name_problem


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("project", "proj-a"),
        ("project", "a1b"),
        ("logstore", "ls"),
        ("logstore", "nginx_access-log"),
        ("shipper", "OSS.Archive_1"),
        ("job", "export-oss-1234567890-123456"),
    ],
)
def test_names_sls_accepts(kind, name):
    assert name_problem(kind, name) is None


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("project", "ab"),
        ("project", "-abc"),
        ("project", "Abc"),
        ("logstore", "-l"),
        ("logstore", ".hidden"),
        ("logstore", "l"),
        ("shipper", ".."),
        ("shipper", "a..b"),
        ("shipper", "x/y"),
        ("job", "-job1"),
        ("job", "j" * 65),
    ],
)
def test_names_sls_can_never_hold(kind, name):
    assert name_problem(kind, name).startswith(f"{kind} {name!r} is not a valid SLS {kind} name (")


@pytest.mark.parametrize("value", ["with space", "line\nbreak", "caf\u00e9", "\u4e2d", ""])
def test_credentials_a_header_cannot_carry(value):
    assert credential_problem(value) is not None
    assert credential_problem("LTAI5tAbc+/=_-") is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (1795852800, None),
        (0, None),
        (1795852800123, "looks like milliseconds; epoch seconds are wanted (1795852800?)"),
        (1e300, "is not a valid epoch time (after the year 9999)"),
        (float("inf"), "is not a valid epoch time (after the year 9999)"),
        (float("nan"), "is not a valid epoch time"),
        (-1, "is not a valid epoch time"),
    ],
)
def test_epoch_instants(value, problem):
    assert epoch_problem(value) == problem
