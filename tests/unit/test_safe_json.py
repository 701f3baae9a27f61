"""safe_json: the depth of a parsed value, with and without the text's bracket count."""

from __future__ import annotations

import json

import pytest

from shipper_alert import safe_json

TASKS = [{"id": f"t{i}", "taskStatus": "fail", "taskMessage": "m"} for i in range(3)]
PAGE = {"total": 3, "statistics": {"fail": 3}, "tasks": TASKS}
DEEP_FIELD = {**PAGE, "tasks": [*TASKS, {**TASKS[0], "extra": [[[[{"a": [1]}]]]]}]}
BRACKETS_IN_STRINGS = {**PAGE, "tasks": [{**t, "taskMessage": "[...] {x}"} for t in TASKS]}


DEPTHS = [(1, 0), ([], 1), ({"a": [1, {"b": []}]}, 4), (PAGE, 3), (DEEP_FIELD, 9)]


@pytest.mark.parametrize(("value", "depth"), [*DEPTHS, (BRACKETS_IN_STRINGS, 3)])
def test_the_bracket_count_stops_the_walk_without_changing_the_depth(value, depth):
    text = json.dumps(value)
    brackets = text.count("{") + text.count("[")
    assert safe_json.nesting_depth(value) == depth
    assert safe_json.nesting_depth(value, brackets) == depth


def test_a_deep_value_in_a_field_nobody_reads_is_still_refused():
    nested = "[" * 40 + "]" * 40
    text = json.dumps({**PAGE, "note": "[[[["}).replace(
        '"statistics"', f'"x": {nested}, "statistics"'
    )
    with pytest.raises(safe_json.JsonInputError, match="nested more than 32 levels deep"):
        safe_json.loads(text)
    assert safe_json.loads(json.dumps(BRACKETS_IN_STRINGS)) == BRACKETS_IN_STRINGS
