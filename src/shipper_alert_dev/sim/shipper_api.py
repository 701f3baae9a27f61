"""The SLS simulator's LogShipper APIs: routing a path, and ListLogStores, ListShipper and
GetShipperStatus answered from a scenario, with the documented limits
(https://www.alibabacloud.com/help/doc-detail/29027.htm: 48 hours, size at most 500;
https://help.aliyun.com/document_detail/29028.htm: at most 10 ids per RetryShipperTask).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from shipper_alert.models import TASK_FAIL, TASK_RUNNING, TASK_STATUSES, TASK_SUCCESS
from shipper_alert_dev.sim import exports
from shipper_alert_dev.sim.apierror import ApiError
from shipper_alert_dev.sim.faults import (
    API_GET_SHIPPER_STATUS,
    API_LIST_LOGSTORES,
    API_LIST_SHIPPER,
    API_RETRY_SHIPPER_TASK,
)
from shipper_alert_dev.sim.model import ShipperSpec, TaskView
from shipper_alert_dev.sim.responses import Response, json_response

QUERY_WINDOW_SECONDS = 48 * 3600  # "only support query last 48 hours task status"
MAX_PAGE_SIZE = 500
MAX_RETRY_IDS = 10


@dataclass(frozen=True)
class Route:
    """Which API a request is for, and what it names (or why it is for none)."""

    api: str | None
    logstore: str | None = None
    shipper: str | None = None
    error: ApiError | None = None
    job: str | None = None


def route(method: str, raw_path: str, query: Mapping[str, str] | None = None) -> Route:
    segments = [unquote(part) for part in raw_path.split("/")[1:]]
    api: str | None = None
    logstore = shipper = None
    export_route = exports.route(method, segments, query or {})
    if export_route is not None:
        api, name = export_route
        if api == exports.API_GET_LOGS:
            return Route(api, logstore=name)
        return Route(api, job=name)
    if segments == ["logstores"]:
        api = API_LIST_LOGSTORES if method == "GET" else None
    elif len(segments) == 3 and segments[0] == "logstores" and segments[2] == "shipper":
        logstore = segments[1]
        api = API_LIST_SHIPPER if method == "GET" else None
    elif (
        len(segments) == 5
        and segments[0] == "logstores"
        and segments[2:5:2]
        == [
            "shipper",
            "tasks",
        ]
    ):
        logstore, shipper = segments[1], segments[3]
        api = {"GET": API_GET_SHIPPER_STATUS, "PUT": API_RETRY_SHIPPER_TASK}.get(method)
    else:
        error = ApiError(404, "NotSupported", f"the SLS simulator does not serve {raw_path}")
        return Route(None, error=error)
    if api is None:
        error = ApiError(405, "MethodNotAllowed", f"{method} is not allowed on {raw_path}")
        return Route(None, logstore, shipper, error)
    return Route(api, logstore, shipper)


def int_param(
    params: dict[str, str], name: str, default: int | None, maximum: int | None = None
) -> int:
    raw = params.get(name)
    if raw is None or (raw == "" and default is not None):
        if default is None:
            raise ApiError(400, "ParameterInvalid", f"parameter {name} is required")
        return default
    if not raw.isdigit():
        raise ApiError(
            400, "ParameterInvalid", f"parameter {name} must be a non-negative integer, not {raw!r}"
        )
    value = int(raw)
    if maximum is not None and value > maximum:
        raise ApiError(
            400, "ParameterInvalid", f"parameter {name} must be at most {maximum}, not {value}"
        )
    return value


def retry_ids(body: bytes) -> list[str]:
    try:
        ids = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "PostBodyInvalid", "the body is not valid JSON") from None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "PostBodyInvalid", "the body must be a JSON array of task id strings")
    if len(ids) > MAX_RETRY_IDS:
        raise ApiError(
            400,
            "ParameterInvalid",
            f"at most {MAX_RETRY_IDS} tasks can be retried at a time, got {len(ids)}",
        )
    return ids


def list_logstores(names: list[str], params: dict[str, str]) -> Response:
    offset = int_param(params, "offset", 0)
    size = int_param(params, "size", 200, maximum=MAX_PAGE_SIZE)
    pattern = params.get("logstoreName")
    if pattern:
        names = [name for name in names if pattern in name]
    page = names[offset : offset + size]
    return json_response({"count": len(page), "total": len(names), "logstores": page})


def list_shipper(names: list[str], params: dict[str, str]) -> Response:
    offset = int_param(params, "offset", 0)
    size = int_param(params, "size", 100, maximum=MAX_PAGE_SIZE)
    page = names[offset : offset + size]
    return json_response({"count": len(page), "shipper": page, "total": len(names)})


def get_shipper_status(shipper: ShipperSpec, params: dict[str, str], now: float) -> Response:
    status = params.get("status", "")
    if status not in ("", *TASK_STATUSES):
        raise ApiError(400, "ParameterInvalid", "status only contains success/running/fail")
    start = int_param(params, "from", None)
    end = int_param(params, "to", None)
    offset = int_param(params, "offset", 0)
    size = int_param(params, "size", 100, maximum=MAX_PAGE_SIZE)
    if start >= end:
        raise ApiError(400, "ParameterInvalid", "start time must be earlier than end time")
    if start < int(now) - QUERY_WINDOW_SECONDS:
        raise ApiError(400, "ParameterInvalid", "only support query last 48 hours task status")

    def body(views: list[TaskView]) -> bytes:
        counted = Counter(v.status for v in views)
        statistics = {s: counted[s] for s in (TASK_RUNNING, TASK_SUCCESS, TASK_FAIL)}
        matching = [v for v in views if v.status == status] if status else views
        page = matching[offset : offset + size]
        head = {"count": len(page), "total": len(matching), "statistics": statistics, "tasks": []}
        # What json.dumps writes for the whole document, from each task's text made once.
        text = json.dumps(head, ensure_ascii=False)[:-2] + ", ".join(v.json_text() for v in page)
        return (text + "]}").encode("utf-8")

    page = shipper.page(now, start, end, (status, offset, size), body)
    return Response(200, page, {"Content-Type": "application/json"})
