"""Causes: keys, masking, grouping with exact counts, order and fix hints."""

from __future__ import annotations

import pytest
from tests.factories import failed

from shipper_alert.causes import HINTS, cause_key, group_causes, hint_for, mask_message


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        ("write failed after 3 retries", "write failed after {n} retries"),
        (
            "task c1411eb7291c77560ba31fc65bc73c52 timed out",
            "task {id} timed out",
        ),
        (
            "request 550e8400-e29b-41d4-a716-446655440000 denied",
            "request {id} denied",
        ),
        ("partition dt=2026-11-28 10:00:00 missing", "partition dt={date} missing"),
        ("at 2026-11-28T08:05:00.123+08:00 again", "at {date} again"),
        ("cannot write oss://bucket-a/logs/2026/11/x.gz", "cannot write {path}"),
        ("file /var/log/app/a.log", "file {path}"),
        ("instance i-bp1abc23xyz gone", "instance {id} gone"),
        ("ODPS-0123031: partition exception", "ODPS-0123031: partition exception"),
        ("table=shop_dw.nginx_access  not found", "table=shop_dw.nginx_access not found"),
        ("IPv4 s3 peer on port 8080, 2.5 s", "IPv4 s3 peer on port {n}, {n} s"),
    ],
)
def test_mask_message_replaces_what_varies(message, masked):
    assert mask_message(message) == masked


def test_messages_differing_only_in_ids_and_numbers_share_a_key():
    a = cause_key(None, "bucket quota 1024 exceeded by task 0a1b2c3d4e5f")
    b = cause_key(None, "bucket quota 2048 exceeded by task ffee00112233")
    assert a == b == "bucket quota {n} exceeded by task {id}"


@pytest.mark.parametrize(
    ("code", "message", "key"),
    [
        ("UnAuthorized", "whatever 123", "UnAuthorized"),
        ("Unauthorized", "x", "UnAuthorized"),  # the documented spelling, one cause
        ("  SomeNewCode ", "x", "SomeNewCode"),
        ("", "disk 42 full", "disk {n} full"),
        (None, "", "(no message)"),
    ],
)
def test_cause_key_prefers_the_task_code(code, message, key):
    assert cause_key(code, message) == key


@pytest.mark.parametrize(
    ("code", "message", "hinted"),
    [
        ("UnAuthorized", "", "UnAuthorized"),
        ("invalidossbucket", "", "InvalidOssBucket"),
        (None, "NoSuchPartition: The specified partition does not exist", "NoSuchPartition"),
        (None, "ConfigNotExist", "ConfigNotExist"),
        ("InternalServerError", "", "InternalServerError"),
        ("SomethingElse", "UnAuthorized", None),  # a code wins over words in the message
        (None, "unknown trouble", None),
    ],
)
def test_hint_for_known_codes(code, message, hinted):
    hint = hint_for(code, message)
    assert (hint.code if hint else None) == hinted


def test_every_hint_cites_a_vendor_page_and_internal_error_is_not_actionable():
    assert all(h.url.startswith("https://www.alibabacloud.com/help/") for h in HINTS)
    assert {h.code for h in HINTS if not h.actionable} == {"InternalServerError"}
    assert "15, 30 and 60" in hint_for("InternalServerError").text


def test_group_causes_counts_targets_and_orders_actionable_first():
    internal = [failed(f"ise-{i}", "internal error", "InternalServerError") for i in range(60)]
    unauth = [failed(f"ua-{i}", "UnAuthorized", "UnAuthorized") for i in range(3)]
    odd = [failed(f"odd-{i}", f"disk {i} full", None) for i in range(5)]
    causes = group_causes(
        {
            "p/l/a": internal[:40] + unauth[:1] + odd,
            "p/l/b": internal[40:] + unauth[1:],
        }
    )
    assert [(c.key, c.count) for c in causes] == [
        ("UnAuthorized", 3),
        ("disk {n} full", 5),
        ("InternalServerError", 60),
    ]
    assert causes[0].targets == (("p/l/b", 2), ("p/l/a", 1))
    assert causes[2].targets == (("p/l/a", 40), ("p/l/b", 20))
    assert causes[1].example_message == "disk 0 full"
    assert causes[1].hint is None
    assert causes[1].actionable
    assert causes[0].example_ids(2) == ("ua-0", "ua-1")
    assert sum(c.count for c in causes) == 68


def test_group_causes_of_nothing_is_empty():
    assert group_causes({}) == ()
    assert group_causes({"p/l/s": []}) == ()
