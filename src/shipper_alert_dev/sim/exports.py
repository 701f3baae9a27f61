"""Export jobs and their diagnostic logs in the simulator: scenario format and the APIs.

Routes (host `{project}.{endpoint}`):
- `GET /ossexports`, `/maxcomputeexports`, `/osshdfsexports` (`offset`, `size` default 10,
  `logstore`) and `GET /<same>/{name}`: the 2020-12-30 views,
  https://alibabacloud.com/help/en/sls/developer-reference/api-sls-2020-12-30-listossexports;
- `GET /jobs?jobType=Export` (`offset`, `size` default 100, `logstore`) and `GET /jobs/{name}`:
  the older generic view, whose jobs add `type`, `schedule`, `configuration.version`,
  `parameters` and `sink.type`;
- GetLogs, `GET /logstores/{logstore}?type=log` (a row array, metadata in `x-log-*`
  headers) and `POST /logstores/{logstore}/logs` (`{meta, data}`),
  https://www.alibabacloud.com/help/en/sls/developer-reference/api-sls-2020-12-30-getlogsv2.

Choices where the vendor is silent: `JobNotExist` is 404 with `job <name> does not exist`;
OSS-HDFS jobs have `sink.type` `AliyunOSS` in the `/jobs` view (so the Go SDK decodes them);
page sizes above 100 (typed views) or 500 (`/jobs`) are ParameterInvalid; a missing value in
a SQL result is the string `null`.

Scenario format, top-level `exports` (each one job) and `diagnosticLogstores`:
    {"project": "p", "name": "job", "type": "oss|maxcompute|osshdfs", "logstore": "src",
     "status": "RUNNING", "created": "-30d", "modified": "-2h", "operationalLogs": true,
     "diagnosticLogstore": "p/internal-diagnostic_log",
     "metrics": [{"start": "-1h", "every": "1m", "count": 60, "tasks": 1,
                  "action": "both|ingest|deliver", "state": 0, "error": "...",
                  "lags": 0.8, "failed": 0, "events": 1000}]}
    {"project": "p", "logstore": "internal-diagnostic_log", "index": false, "incompleteCalls": 2}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shipper_alert_dev.sim.apierror import ApiError
from shipper_alert_dev.sim.query import QueryError, run_query

DIAGNOSTIC_LOGSTORE = "internal-diagnostic_log"
API_GET_LOGS = "GetLogs"
API_LIST_JOBS = "ListExport"
API_GET_JOB = "GetExport"
# type -> (2020-12-30 path, list API, get API, /jobs sink.type)
KINDS = {
    "oss": ("ossexports", "ListOSSExports", "GetOSSExport", "AliyunOSS"),
    "maxcompute": (
        "maxcomputeexports",
        "ListMaxComputeExports",
        "GetMaxComputeExport",
        "AliyunODPS",
    ),
    "osshdfs": ("osshdfsexports", "ListOSSHDFSExports", "GetOSSHDFSExport", "AliyunOSS"),
}
APIS = (
    API_GET_LOGS,
    API_LIST_JOBS,
    API_GET_JOB,
    *(api for kind in KINDS.values() for api in kind[1:3]),
)
_BY_PATH = {path: kind for kind, (path, *_rest) in KINDS.items()}
TYPED_MAX_SIZE = 100
JOBS_MAX_SIZE = 500
ROLE = "acs:ram::1234567890:role/aliyunlogdefaultrole"


@dataclass
class ExportJobSpec:
    project: str
    name: str
    kind: str
    logstore: str
    status: str
    create_time: int
    modified_time: int
    display_name: str = ""

    def to_json(self, generic: bool = False) -> dict[str, Any]:
        sink: dict[str, Any]
        if self.kind == "maxcompute":
            sink = {"odpsRolearn": ROLE, "odpsProject": "demo_project", "odpsTable": self.name,
                    "fields": ["__time__"], "partitionColumn": [], "timeZone": "+0800",
                    "bufferInterval": "1800", "filterInvalid": True}  # fmt: skip
        else:
            sink = {"endpoint": "https://oss-cn-hangzhou-internal.aliyuncs.com",
                    "bucket": f"{self.project}-archive", "prefix": f"{self.logstore}/",
                    "suffix": ".json", "roleArn": ROLE, "pathFormat": "%Y/%m/%d/%H/%M",
                    "pathFormatType": "time", "bufferSize": 256, "bufferInterval": 300,
                    "timeZone": "+0800", "contentType": "json", "compressionType": "snappy",
                    "contentDetail": {"enableTag": False}}  # fmt: skip
        configuration: dict[str, Any] = {
            "logstore": self.logstore,
            "roleArn": ROLE,
            "fromTime": self.create_time,
            "toTime": 0,
            "sink": sink,
        }
        job: dict[str, Any] = {
            "name": self.name,
            "displayName": self.display_name or self.name,
            "description": "",
            "configuration": configuration,
            "createTime": self.create_time,
            "lastModifiedTime": self.modified_time,
            "status": self.status,
            "scheduleId": "c7f01719d9feb105fc9d8df92af62010",
        }
        if generic:
            job.update(type="Export", recyclable=False)
            job["schedule"] = {"type": "Resident", "runImmediately": True}
            configuration.update(version="v2.0", parameters={})
            sink["type"] = KINDS[self.kind][3]
        return job


@dataclass
class DiagnosticStore:
    project: str
    logstore: str
    index: bool = True
    incomplete_calls: int = 0
    rows: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ExportSet:
    jobs: dict[str, dict[str, ExportJobSpec]] = field(default_factory=dict)
    stores: dict[tuple[str, str], DiagnosticStore] = field(default_factory=dict)

    def add_job(self, job: ExportJobSpec) -> None:
        self.jobs.setdefault(job.project, {})[job.name] = job

    def job_paths(self) -> list[str]:
        """Every export job as `project/job`, in scenario order."""
        return [f"{project}/{name}" for project, jobs in self.jobs.items() for name in jobs]

    def store(self, project: str, logstore: str) -> DiagnosticStore:
        return self.stores.setdefault((project, logstore), DiagnosticStore(project, logstore))


# --- reading the scenario ----------------------------------------------------------------

_JOB_KEYS = {"project", "name", "type", "logstore", "status", "created", "modified",
             "displayName", "operationalLogs", "diagnosticLogstore", "metrics"}  # fmt: skip
_METRIC_KEYS = {"start", "every", "count", "tasks", "action", "state", "error", "lags",
                "failed", "events"}  # fmt: skip
_STORE_KEYS = {"project", "logstore", "index", "incompleteCalls"}


def read(
    exports: ExportSet,
    top: Mapping[str, Any],
    resolve: Callable[[Any], int],
    duration: Callable[[Any], int],
    add_project: Callable[[str], object],
    problems: list[str],
) -> None:
    """Fill `exports` from the scenario's `diagnosticLogstores` and `exports` lists."""
    for index, item in enumerate(top.get("diagnosticLogstores", [])):
        path = f"diagnosticLogstores[{index}]"
        if not _keys(item, path, _STORE_KEYS, problems):
            continue
        store = exports.store(
            str(item.get("project")), str(item.get("logstore", DIAGNOSTIC_LOGSTORE))
        )
        add_project(store.project)
        store.index = bool(item.get("index", True))
        store.incomplete_calls = int(item.get("incompleteCalls", 0))
    for index, item in enumerate(top.get("exports", [])):
        path = f"exports[{index}]"
        if not _keys(item, path, _JOB_KEYS, problems):
            continue
        try:
            _read_job(exports, item, resolve, duration, add_project)
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{path}: {exc}")


def _keys(item: Any, path: str, allowed: set[str], problems: list[str]) -> bool:
    if not isinstance(item, Mapping):
        problems.append(f"{path}: must be an object")
        return False
    unknown = sorted(set(item) - allowed)
    problems.extend(f"{path}.{key}: unknown field" for key in unknown)
    return not unknown


def _read_job(exports, item, resolve, duration, add_project) -> None:
    kind = item.get("type", "oss")
    if kind not in KINDS:
        raise ValueError(f"type must be one of {', '.join(KINDS)}, not {kind!r}")
    created = resolve(item.get("created", "-30d"))
    job = ExportJobSpec(
        project=item["project"],
        name=item["name"],
        kind=kind,
        logstore=item.get("logstore", "app-log"),
        status=item.get("status", "RUNNING"),
        create_time=created,
        modified_time=resolve(item.get("modified", created)),
        display_name=item.get("displayName", ""),
    )
    add_project(job.project)
    exports.add_job(job)
    if item.get("operationalLogs", True) is False:
        return
    target = item.get("diagnosticLogstore", f"{job.project}/{DIAGNOSTIC_LOGSTORE}")
    project, _, logstore = target.partition("/")
    add_project(project)
    store = exports.store(project, logstore)
    for metric in item.get("metrics", []):
        problems: list[str] = []
        if not _keys(metric, "metrics[]", _METRIC_KEYS, problems):
            raise ValueError("; ".join(problems))
        store.rows.extend(_rows(job, metric, resolve, duration))


def _rows(job: ExportJobSpec, metric: Mapping[str, Any], resolve, duration):
    start = resolve(metric.get("start", "-1h"))
    every = duration(metric.get("every", "1m"))
    action = metric.get("action", "both")
    actions = ("ingest", "deliver") if action == "both" else (action,)
    sink = "maxcompute" if job.kind == "maxcompute" else "oss"
    for tick in range(int(metric.get("count", 60))):
        for task in range(int(metric.get("tasks", 1))):
            for act in actions:
                meta = {"action": act, "connector": "sls" if act == "ingest" else sink,
                        "instance": job.logstore if act == "ingest" else job.project,
                        "task_id": 1669277 + task, "task_name": f"{job.create_time}_task_{task}",
                        "task_type": "CONNECTOR"}  # fmt: skip
                metrics: dict[str, Any] = {"state": 0, "events": metric.get("events", 1000)}
                faulty = action != "both" or act == "deliver"
                if faulty:
                    metrics["state"] = metric.get("state", 0)
                    metrics["failed"] = metric.get("failed", 0)
                    if metric.get("error"):
                        metrics["error"] = metric["error"]
                if act == "ingest":
                    metrics.update(lags=metric.get("lags", 0.5), desc="s")
                yield {
                    "__time__": str(start + tick * every),
                    "__source__": "log_service",
                    "__topic__": "etl_metrics",
                    "metric_type": "ConnectorMetrics",
                    "project": job.project,
                    "job_name": job.name,
                    "instance_id": "10e5d2f1c3a4b4f6",
                    "_etl_:connector_meta": json.dumps(meta, separators=(",", ":")),
                    "_etl_:connector_metrics": json.dumps(metrics, separators=(",", ":")),
                }


# --- serving -----------------------------------------------------------------------------


def route(
    method: str, segments: list[str], query: Mapping[str, str]
) -> tuple[str, str | None] | None:
    """(api, job or logstore name) for an export-job or GetLogs request, else None."""
    if method == "GET" and segments and segments[0] in _BY_PATH and len(segments) <= 2:
        _path, list_api, get_api, _sink = KINDS[_BY_PATH[segments[0]]]
        return (get_api, segments[1]) if len(segments) == 2 else (list_api, None)
    if method == "GET" and segments[:1] == ["jobs"] and len(segments) <= 2:
        return (API_GET_JOB, segments[1]) if len(segments) == 2 else (API_LIST_JOBS, None)
    if segments[:1] == ["logstores"]:
        if method == "POST" and len(segments) == 3 and segments[2] == "logs":
            return API_GET_LOGS, segments[1]
        if method == "GET" and len(segments) == 2 and query.get("type") == "log":
            return API_GET_LOGS, segments[1]
    return None


def serve(
    exports: ExportSet,
    api: str,
    project: str,
    name: str | None,
    params: Mapping[str, str],
    body: bytes,
    int_param: Callable[..., int],
) -> tuple[Any, dict[str, str]]:
    """(JSON payload, extra headers) of one export-job or GetLogs call."""
    if api == API_GET_LOGS:
        return _get_logs(exports, project, name or "", params, body)
    jobs = exports.jobs.get(project, {})
    kind = next((k for k, v in KINDS.items() if api in v[1:3]), None)
    generic = kind is None
    if name is not None:
        job = jobs.get(name)
        if job is None or (kind is not None and job.kind != kind):
            raise ApiError(404, "JobNotExist", f"job {name} does not exist")
        return job.to_json(generic), {}
    if generic and params.get("jobType") != "Export":
        raise ApiError(400, "ParameterInvalid", "the simulator lists only jobType=Export")
    offset = int_param(params, "offset", 0)
    size = int_param(params, "size", 100 if generic else 10,
                     maximum=JOBS_MAX_SIZE if generic else TYPED_MAX_SIZE)  # fmt: skip
    chosen = [j for j in jobs.values() if generic or j.kind == kind]
    if params.get("logstore"):
        chosen = [j for j in chosen if j.logstore == params["logstore"]]
    page = chosen[offset : offset + size]
    results = [job.to_json(generic) for job in page]
    return {"total": len(chosen), "count": len(page), "results": results}, {}


def _get_logs(exports, project, logstore, params, body) -> tuple[Any, dict[str, str]]:
    v2 = bool(body) or "from" not in params
    if v2:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            raise ApiError(400, "PostBodyInvalid", "the body is not valid JSON") from None
    else:
        request = dict(params)
    try:
        start, end = int(request["from"]), int(request["to"])
    except (KeyError, TypeError, ValueError):
        raise ApiError(400, "ParameterInvalid", "from and to are required integers") from None
    if start >= end:
        raise ApiError(400, "ParameterInvalid", "from must be less than to")
    store = exports.stores.get((project, logstore))
    if store is None:
        raise ApiError(404, "LogStoreNotExist", f"logstore {logstore} does not exist")
    if not store.index:
        raise ApiError(400, "IndexConfigNotExist", "logstore without index config")
    rows = [r for r in store.rows if start <= int(r["__time__"]) < end]
    try:
        data, has_sql = run_query(str(request.get("query", "")), rows)
    except QueryError as exc:
        raise ApiError(400, "ParameterInvalid", str(exc)) from None
    if not has_sql:
        offset, line = int(request.get("offset", 0)), min(int(request.get("line", 100)), 100)
        data = data[offset : offset + line]
    progress = "Complete"
    if store.incomplete_calls > 0:
        store.incomplete_calls -= 1
        progress, data = "Incomplete", []
    meta = {
        "progress": progress,
        "count": len(data),
        "processedRows": len(rows),
        "elapsedMillisecond": 1,
        "hasSQL": has_sql,
        "keys": sorted({key for row in data for key in row}),
    }
    if v2:
        return {"meta": meta, "data": data}, {}
    headers = {
        "x-log-progress": progress,
        "x-log-count": str(len(data)),
        "x-log-processed-rows": str(len(rows)),
        "x-log-elapsed-millisecond": "1",
        "x-log-has-sql": "true" if has_sql else "false",
    }
    return data, headers
