"""Strict parsing of export-job and GetLogs bodies: every problem names its field."""

from __future__ import annotations

import json
import zlib
from types import SimpleNamespace

import pytest

from shipper_alert.bodies import SLS_REPLY_BYTES
from shipper_alert.sls.errors import SlsBadResponseError
from shipper_alert.sls.exports import _decompressed, parse_job, parse_metrics

JOB = {
    "name": "export-1",
    "status": "RUNNING",
    "configuration": {"logstore": "app-log", "toTime": 0, "sink": {"type": "AliyunODPS"}},
    "lastModifyTime": 1700000100,  # the Go SDK's spelling is read too
}


def body(value) -> bytes:
    return json.dumps(value).encode()


def test_a_jobs_view_job_takes_its_kind_from_the_sink_type():
    job = parse_job(body(JOB), "GetExport", "p", None)

    assert (job.kind, job.modified_time, job.logstore) == ("maxcompute", 1700000100, "app-log")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"status": 3}, "status is 3, expected a string"),
        ({"name": ""}, "name is empty, expected a non-empty string"),
        ({"configuration": []}, "configuration is an array, expected an object"),
        ({"lastModifiedTime": "soon"}, 'lastModifiedTime is "soon", expected an integer'),
    ],
)
def test_a_bad_job_field_is_named(change, problem):
    with pytest.raises(SlsBadResponseError) as raised:
        parse_job(body({**JOB, **change}), "GetOSSExport", "p", "oss")

    assert raised.value.message == f"GetOSSExport response: {problem}"


ROW = {"project": "p", "job_name": "j", "action": "ingest", "state": "0", "error": "null",
       "cnt": "4", "failed": "null", "lag_min": "0.5", "lag_max": "1.25", "last_time": "120"}  # fmt: skip


def test_metric_rows_are_read_from_strings_with_null_as_missing():
    complete, (group,) = parse_metrics(body({"meta": {"progress": "Complete"}, "data": [ROW]}))

    assert complete
    assert (group.error, group.failed, group.rows, group.lag_min, group.lag_max) == (
        None,
        0,
        4,
        0.5,
        1.25,
    )


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"data": []}, 'missing "meta"'),
        ({"meta": {"progress": "Partial"}, "data": []}, 'meta.progress is "Partial", expected'),
        ({"meta": {"progress": "Complete"}, "data": [{**ROW, "cnt": "many"}]}, "data[0].cnt is"),
        ({"meta": {"progress": "Complete"}, "data": [{**ROW, "state": 1}]}, "data[0].state is 1"),
        ({"meta": {"progress": "Complete"}}, 'missing "data"'),
    ],
)
def test_a_bad_getlogs_body_is_named(document, problem):
    with pytest.raises(SlsBadResponseError) as raised:
        parse_metrics(body(document))

    assert raised.value.message.startswith(f"GetLogs response: {problem}")


def _reply(body: bytes, compresstype: str) -> SimpleNamespace:
    return SimpleNamespace(body=body, headers={"x-log-compresstype": compresstype})


@pytest.mark.parametrize("method", ["deflate", "gzip"])
def test_a_compressed_getlogs_body_is_inflated(method):
    packer = zlib.compressobj(wbits=31 if method == "gzip" else 15)
    body = packer.compress(b'{"meta":{}}') + packer.flush()
    assert _decompressed(_reply(body, method)) == b'{"meta":{}}'


def test_a_getlogs_body_that_inflates_past_the_sls_cap_is_refused():
    bomb = zlib.compress(b"0" * (SLS_REPLY_BYTES + 1), 9)  # about 8 KB on the wire
    with pytest.raises(SlsBadResponseError) as caught:
        _decompressed(_reply(bomb, "deflate"))
    assert str(caught.value).endswith(
        f"GetLogs response: deflate body inflates past the {SLS_REPLY_BYTES} bytes accepted"
    )
