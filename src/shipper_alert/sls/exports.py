"""Export jobs (new-version data shipping) and their connector metrics, read through SlsClient.

Jobs come from the 2020-12-30 views, one per sink
(https://alibabacloud.com/help/en/sls/developer-reference/api-sls-2020-12-30-listossexports,
.../api-sls-2020-12-30-listmaxcomputeexports, .../api-sls-2020-12-30-listosshdfsexports;
`{total, count, results}`, `offset`/`size`). When a view is refused (401/403: a RAM policy
that grants only `log:ListJobs`/`log:GetJob`), the older `GET /jobs?jobType=Export` view is
used instead, which lists every sink and names it in `configuration.sink.type`.

Health comes from GetLogs (`POST /logstores/{logstore}/logs`,
https://www.alibabacloud.com/help/en/sls/developer-reference/api-sls-2020-12-30-getlogsv2)
on the diagnostic logstore: one SQL statement aggregates the window's per-minute
ConnectorMetrics rows on the server into one row per job, action, state and error text
(docs/vendors.md, "Export jobs", says why). An `Incomplete` answer is repeated, as the API
asks, and one still incomplete is an error, never "no errors".
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from shipper_alert.bodies import SLS_REPLY_BYTES
from shipper_alert.sls.client import SlsClient
from shipper_alert.sls.errors import (
    SlsAuthError,
    SlsBadResponseError,
    SlsError,
    SlsForbiddenError,
    SlsNotFoundError,
    SlsTransientError,
)
from shipper_alert.sls.responses import _Reader, _show

KIND_OSS = "oss"
KIND_MAXCOMPUTE = "maxcompute"
KIND_OSSHDFS = "osshdfs"
# kind, path, list API, get API (the 2020-12-30 views)
VIEWS = (
    (KIND_OSS, "/ossexports", "ListOSSExports", "GetOSSExport"),
    (KIND_MAXCOMPUTE, "/maxcomputeexports", "ListMaxComputeExports", "GetMaxComputeExport"),
    (KIND_OSSHDFS, "/osshdfsexports", "ListOSSHDFSExports", "GetOSSHDFSExport"),
)
API_LIST_EXPORT = "ListExport"  # GET /jobs?jobType=Export
API_GET_EXPORT = "GetExport"  # GET /jobs/{name}
API_GET_LOGS = "GetLogs"
# /jobs sink.type -> kind (aliyun-log-go-sdk DataSinkOSS, DataSinkODPS)
SINK_TYPES = {"AliyunOSS": KIND_OSS, "AliyunODPS": KIND_MAXCOMPUTE}
PAGE_SIZE = 100  # the maximum is undocumented; 100 is what every SDK example stays within
MAX_PAGES = 1000
JOB_NOT_EXIST = "JobNotExist"  # terraform-provider-alicloud DescribeSlsOssExportSink
# "Each repeated call consumes the same number of query capacity units" (GetLogs doc).
INCOMPLETE_ATTEMPTS = 4
INCOMPLETE_WAIT = 0.5
MAX_GROUPS = 10000  # the largest single-argument LIMIT, doc-detail/63470
STATE_RUNNING = 0  # 1: errors that may slow progress; 2: failed, progress blocked

# Grouped by job, action, state and error text; LIMIT is MAX_GROUPS.
METRICS_QUERY = (
    "__topic__: etl_metrics and metric_type: ConnectorMetrics | select project, job_name,"
    ' "_etl_:connector_meta.action" as action, "_etl_:connector_metrics.state" as state,'
    ' "_etl_:connector_metrics.error" as error, count(*) as cnt,'
    ' sum("_etl_:connector_metrics.failed") as failed,'
    ' min("_etl_:connector_metrics.lags") as lag_min,'
    ' max("_etl_:connector_metrics.lags") as lag_max, max(__time__) as last_time'
    ' from log group by project, job_name, "_etl_:connector_meta.action",'
    ' "_etl_:connector_metrics.state", "_etl_:connector_metrics.error" limit 10000'
)


@dataclass(frozen=True)
class ExportJob:
    """One export job as a job view reports it (already validated)."""

    project: str
    name: str
    kind: str  # oss, maxcompute, osshdfs, or the raw sink.type of the /jobs view
    logstore: str
    status: str  # raw: RUNNING, STOPPED, ... or anything new
    modified_time: int | None  # lastModifiedTime, epoch seconds
    display_name: str = ""
    to_time: int = 0  # configuration.toTime: 0 = runs until stopped


@dataclass(frozen=True)
class MetricGroup:
    """Metric rows of one job sharing action, state and error text, over one range."""

    project: str
    job: str
    action: str
    state: int
    error: str | None
    rows: int
    failed: int
    lag_min: float | None
    lag_max: float | None
    last_time: int | None


class ExportReader:
    """The export-job calls, made through one `SlsClient` (its signing, retries, deadline)."""

    def __init__(self, client: SlsClient, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._sleep = sleep

    def list_jobs(self, project: str, logstore: str | None = None) -> list[ExportJob]:
        """Every export job of `project` (of one source logstore, if given), all pages."""
        jobs: list[ExportJob] = []
        try:
            for kind, path, api, _get in VIEWS:
                jobs.extend(self._pages(api, project, path, kind, logstore, []))
        except (SlsAuthError, SlsForbiddenError):
            fixed = [("jobType", "Export")]
            return list(self._pages(API_LIST_EXPORT, project, "/jobs", None, logstore, fixed))
        return jobs

    def get_job(self, project: str, name: str) -> ExportJob:
        """One job by name, whatever its sink; SlsNotFoundError JobNotExist if none."""
        last: SlsError | None = None
        for kind, path, _list, api in VIEWS:
            try:
                reply = self._client.call(api, "GET", project, f"{path}/{name}", names=[name])
            except (SlsAuthError, SlsForbiddenError):
                reply = self._client.call(
                    API_GET_EXPORT, "GET", project, f"/jobs/{name}", names=[name]
                )
                return parse_job(reply.body, API_GET_EXPORT, project, None, reply.request_id)
            except SlsError as exc:
                if exc.code != JOB_NOT_EXIST:
                    raise
                last = exc
                continue
            return parse_job(reply.body, api, project, kind, reply.request_id)
        raise SlsNotFoundError(
            JOB_NOT_EXIST,
            f"no OSS, MaxCompute or OSS-HDFS export job {name} in project {project}",
            status=last.status if last else 404,
            request_id=last.request_id if last else "",
            api=VIEWS[-1][3],
        )

    def connector_metrics(
        self, project: str, logstore: str, start: int, end: int
    ) -> list[MetricGroup]:
        """METRICS_QUERY over [start, end) of `project/logstore`."""
        request = {
            "from": start,
            "to": end,
            "query": METRICS_QUERY,
            "line": 100,
            "offset": 0,
            "reverse": False,
            "powerSql": False,
        }
        body = json.dumps(request, separators=(",", ":")).encode("utf-8")
        path = f"/logstores/{logstore}/logs"
        for attempt in range(1, INCOMPLETE_ATTEMPTS + 1):
            reply = self._client.call(
                API_GET_LOGS, "POST", project, path, body=body, names=[logstore]
            )
            complete, groups = parse_metrics(_decompressed(reply), reply.request_id)
            if complete:
                return groups
            if attempt < INCOMPLETE_ATTEMPTS:
                self._sleep(INCOMPLETE_WAIT)
        raise SlsTransientError(
            "QueryIncomplete",
            f"the diagnostic log query on {project}/{logstore} was still Incomplete after"
            f" {INCOMPLETE_ATTEMPTS} attempts",
            request_id=reply.request_id,
            api=API_GET_LOGS,
        )

    def _pages(self, api, project, path, kind, logstore, fixed) -> Iterator[ExportJob]:
        offset = 0
        extra = [("logstore", logstore)] if logstore else []
        for _ in range(MAX_PAGES):
            params = [*fixed, *extra, ("offset", str(offset)), ("size", str(PAGE_SIZE))]
            reply = self._client.call(api, "GET", project, path, params)
            reader = _Reader(api, reply.request_id)
            doc = reader.document(reply.body)
            total = reader.integer(reader.get(doc, "total", "total"), "total")
            items = reader.array(reader.get(doc, "results", "results"), "results")
            for index, item in enumerate(items):
                yield _job(reader, reader.obj(item, f"results[{index}]"), project, kind, index)
            offset += len(items)
            if not items or offset >= total:
                return
        raise SlsBadResponseError(f"{api} kept returning jobs after {MAX_PAGES} pages", api=api)


def parse_job(body: bytes, api: str, project: str, kind: str | None, request_id: str = ""):
    reader = _Reader(api, request_id)
    return _job(reader, reader.document(body), project, kind, None)


def _job(reader: _Reader, job: dict, project: str, kind: str | None, index: int | None):
    at = "" if index is None else f"results[{index}]."
    name = reader.string(reader.get(job, "name", f"{at}name"), f"{at}name", non_empty=True)
    status = reader.string(reader.get(job, "status", f"{at}status"), f"{at}status")
    config = reader.obj(
        reader.get(job, "configuration", f"{at}configuration"), f"{at}configuration"
    )
    where = f"{at}configuration.logstore"
    logstore = reader.string(reader.get(config, "logstore", where), where, non_empty=True)
    if kind is None:
        sink = reader.obj(reader.get(config, "sink", f"{at}configuration.sink"), "sink")
        sink_type = reader.string(sink.get("type", ""), f"{at}configuration.sink.type")
        kind = SINK_TYPES.get(sink_type, sink_type or "unknown")
    # Go's BaseJob reads lastModifyTime; the docs and the other SDKs lastModifiedTime.
    modified = job.get("lastModifiedTime", job.get("lastModifyTime"))
    if modified is not None:
        modified = reader.integer(modified, f"{at}lastModifiedTime")
    display = job.get("displayName")
    display = reader.string(display, f"{at}displayName") if display is not None else ""
    to_time = config.get("toTime")
    to_time = 0 if to_time is None else reader.integer(to_time, f"{at}configuration.toTime")
    return ExportJob(project, name, kind, logstore, status, modified, display, to_time)


def _decompressed(reply) -> bytes:
    method = reply.headers.get("x-log-compresstype", "")
    if not method:
        return reply.body
    if method in ("deflate", "gzip"):
        # Bounded like any SLS reply: a small body may inflate a thousandfold.
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
        try:
            body = inflater.decompress(reply.body, SLS_REPLY_BYTES + 1)
        except zlib.error as exc:
            raise SlsBadResponseError(f"GetLogs response: bad {method} body: {exc}") from None
        if len(body) > SLS_REPLY_BYTES:
            raise SlsBadResponseError(
                f"GetLogs response: {method} body inflates past the {SLS_REPLY_BYTES} bytes"
                " accepted"
            )
        return body
    raise SlsBadResponseError(f"GetLogs response: unexpected x-log-compresstype {method}")


def parse_metrics(body: bytes, request_id: str = "") -> tuple[bool, list[MetricGroup]]:
    """(complete, groups) from a GetLogs v2 body answering METRICS_QUERY."""
    reader = _Reader(API_GET_LOGS, request_id)
    doc = reader.document(body)
    meta = reader.obj(reader.get(doc, "meta", "meta"), "meta")
    progress = reader.string(reader.get(meta, "progress", "meta.progress"), "meta.progress")
    if progress not in ("Complete", "Incomplete"):
        raise reader.fail(
            f'meta.progress is {_show(progress)}, expected "Complete" or "Incomplete"'
        )
    rows = reader.array(reader.get(doc, "data", "data"), "data")
    groups = [
        _group(reader, reader.obj(row, f"data[{i}]"), f"data[{i}]") for i, row in enumerate(rows)
    ]
    return progress == "Complete", groups


def _group(reader: _Reader, row: dict, at: str) -> MetricGroup:
    def text(key: str) -> str | None:
        value = reader.string(reader.get(row, key, f"{at}.{key}"), f"{at}.{key}")
        return None if value in ("", "null") else value

    def number(key: str, kind: type = int):
        value = text(key)
        if value is None:
            return None
        try:
            return kind(float(value)) if kind is int and "." in value else kind(value)
        except ValueError:
            raise reader.fail(f"{at}.{key} is {_show(value)}, expected a number") from None

    job = text("job_name")
    if job is None:
        raise reader.fail(f"{at}.job_name is empty, expected a job name")
    return MetricGroup(
        project=text("project") or "",
        job=job,
        action=text("action") or "",
        state=number("state") or STATE_RUNNING,
        error=text("error"),
        rows=number("cnt") or 0,
        failed=number("failed") or 0,
        lag_min=number("lag_min", float),
        lag_max=number("lag_max", float),
        last_time=number("last_time"),
    )
