"""orjson parses first where it is installed; json.loads decides what it refuses."""

from __future__ import annotations

import json

import orjson  # a runtime dependency: its absence fails here rather than skipping
import pytest

from shipper_alert import safe_json

PAGE = json.dumps(
    {
        "count": 2,
        "total": 2,
        "statistics": {"running": 0, "success": 1, "fail": 1},
        "tasks": [
            {"id": "t-1", "taskStatus": "fail", "taskMessage": "UnAuthorized: é", "taskCode": None},
            {"id": "t-2", "taskStatus": "success", "taskCreateTime": 1796269292},
        ],
    }
)

# Each is parsed, or refused, exactly as json.loads alone parses or refuses it.
DOCUMENTS = [
    PAGE,
    "\ufeff" + PAGE,
    '"\\ud800"',  # a lone surrogate: orjson refuses, json accepts
    '"\\udc00\\ud800"',
    "1e400",  # orjson refuses infinity, json reads inf
    "-1e400",
    "[" * 40 + "]" * 40,  # deeper than 32: refused after the parse
    "[" * 2000 + "]" * 2000,  # past orjson's 1,024 levels and json's recursion limit
    "NaN",
    "[1, Infinity]",
    "[1,2,]",
    '"a\tb"',
    " \x0c1",
    "",
    "{}",
    '{"a": 1, "a": 2}',
    "9223372036854775808",  # fits orjson's 64 bits unsigned
    "-9223372036854775808",
    "0.1",
    "-0.0",
    "true",
]


def _outcome(text: str) -> tuple:
    try:
        value = safe_json.loads(text.encode("utf-8", "surrogatepass"))
    except safe_json.JsonInputError as exc:
        return "error", str(exc), exc.detail
    return "value", repr(value), type(value)


@pytest.mark.parametrize("text", DOCUMENTS, ids=range(len(DOCUMENTS)))
def test_every_document_comes_out_as_with_json_alone(text, monkeypatch):
    with_orjson = _outcome(text)
    monkeypatch.setattr(safe_json, "_orjson", None)
    assert with_orjson == _outcome(text)


def test_orjson_parses_when_it_is_installed(monkeypatch):
    calls = []

    class Recording:
        JSONDecodeError = orjson.JSONDecodeError

        @staticmethod
        def loads(text):
            calls.append(text)
            return orjson.loads(text)

    monkeypatch.setattr(safe_json, "_orjson", Recording)
    assert safe_json.loads(PAGE.encode())["tasks"][1]["taskCreateTime"] == 1796269292
    assert calls == [PAGE]


def test_an_integer_beyond_64_bits_is_the_one_difference_the_nearest_float(monkeypatch):
    assert safe_json.loads(b"[18446744073709551616]") == [1.8446744073709552e19]
    monkeypatch.setattr(safe_json, "_orjson", None)
    assert safe_json.loads(b"[18446744073709551616]") == [18446744073709551616]
