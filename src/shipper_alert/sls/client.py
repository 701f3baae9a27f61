"""The SLS client: signed requests over pooled connections, retries, and paging.

- request headers and v1 signature (`shipper_alert.sls.signing`,
  https://help.aliyun.com/document_detail/29012.html);
- GetShipperStatus (`size` at most 500, https://www.alibabacloud.com/help/doc-detail/29027.htm),
  RetryShipperTask (at most 10 ids a call, body `json.dumps(list)`,
  https://help.aliyun.com/document_detail/29028.htm), ListShipper, ListLogStores
  (https://help.aliyun.com/zh/sls/developer-reference/api-sls-2020-12-30-listlogstores) and
  the SDK's paging (`offset += count` until `offset >= total` or an empty page);
- errors, classified in `shipper_alert.sls.errors`;
- the SDK's retry weaknesses (docs/vendors.md, "SLS API"), which this client avoids: it
  retries connection errors on https as on http, backs off exponentially with full jitter
  instead of a fixed 1 s, makes at most `max_attempts` attempts, bounds every attempt's
  timeouts and never sleeps past the invocation's `Deadline`.

Nothing here logs a secret: neither the access key secret, the STS token, nor the
`Authorization` header (nor, to be safe, the access key id) reaches a log line or an error.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from shipper_alert import USER_AGENT, bodies, watchdog
from shipper_alert.budget import Deadline
from shipper_alert.models import TASK_STATUSES
from shipper_alert.redact import SecretScrubber
from shipper_alert.retry import Backoff, next_delay
from shipper_alert.sls import signing
from shipper_alert.sls.connections import ConnectionPool, ConnectTimeout
from shipper_alert.sls.credentials import Credentials
from shipper_alert.sls.endpoint import Endpoint
from shipper_alert.sls.errors import (
    CODE_CONNECTION,
    CODE_DEADLINE,
    CODE_TIMEOUT,
    SlsBadResponseError,
    SlsConnectionError,
    SlsError,
    SlsRequestError,
    SlsTransientError,
    error_from_http,
)
from shipper_alert.sls.http11 import ProtocolError
from shipper_alert.sls.paging import MAX_PAGES, MAX_TOTAL, PAGE_SIZE, distinct_pages, too_many_pages
from shipper_alert.sls.responses import (
    API_GET_SHIPPER_STATUS,
    API_LIST_LOGSTORES,
    API_LIST_SHIPPER,
    API_RETRY_SHIPPER_TASK,
    NamePage,
    TaskPage,
    parse_logstores,
    parse_shippers,
    parse_task_page,
)

__all__ = ["Credentials", "SlsClient", "TaskPage"]

logger = logging.getLogger("shipper_alert.sls")

RETRY_CHUNK = 10  # the server's maximum of task ids per RetryShipperTask call
# A retry is only worth its wait if at least this much of the deadline is left after it.
MIN_ATTEMPT_SECONDS = 1.0

_PROJECT_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")  # one DNS label
_RESOURCE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")  # one path segment


DEFAULT_USER_AGENT = USER_AGENT


@dataclass(frozen=True)
class _Request:
    """One API call; each attempt at it is signed afresh."""

    api: str
    method: str
    project: str
    path: str
    params: list[tuple[str, str]]
    body: bytes | None = None


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    request_id: str
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased


class SlsClient:
    """A client for the shipper APIs of one SLS endpoint, bounded by one `Deadline`.

    Build one per invocation (STS credentials are temporary) and close it, or use it as a
    context manager. Every call raises a `shipper_alert.sls.errors.SlsError` on failure.
    """

    def __init__(
        self,
        endpoint: Endpoint | str,
        credentials: Credentials,
        *,
        deadline: Deadline,
        pool_size: int = 8,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        max_attempts: int = 6,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[float, float], float] = random.uniform,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, not {pool_size}")
        self.endpoint = endpoint if isinstance(endpoint, Endpoint) else Endpoint.parse(endpoint)
        self._credentials = credentials
        # Not a secret, yet never printed whole: an SLS error may quote it back.
        SecretScrubber.register(credentials.access_key_id)
        self._deadline = deadline
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._backoff = Backoff(backoff_base, backoff_cap, max_attempts, MIN_ATTEMPT_SECONDS)
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._user_agent = user_agent
        self._connections = ConnectionPool(pool_size)
        # At most `pool_size` requests at once, whichever thread sends them (shipper reads,
        # their pages read ahead, export reads): as many as the pool keeps connections.
        self._slots = threading.BoundedSemaphore(pool_size)
        self._pool_size = pool_size
        self._pages: ThreadPoolExecutor | None = None
        self._pages_lock = threading.Lock()
        self._readers = 0  # iter_task_pages reads under way

    def close(self) -> None:
        if self._pages is not None:
            self._pages.shutdown(wait=False, cancel_futures=True)
        self._connections.close()

    def _read_ahead(self, read: Callable[[int], TaskPage], offset: int) -> Future[TaskPage] | None:
        """`read(offset)` on the page workers (leaf jobs that wait on nothing but SLS), or
        None while at least as many shippers are being read as there are slots: each
        keeps a slot busy, and a page read ahead would only add thread switches."""
        with self._pages_lock:
            if self._readers >= self._pool_size:
                return None
            if self._pages is None:
                self._pages = ThreadPoolExecutor(self._pool_size, thread_name_prefix="sls-page")
            return self._pages.submit(read, offset)

    def __enter__(self) -> SlsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the APIs -------------------------------------------------------------------------

    def iter_task_pages(
        self,
        project: str,
        logstore: str,
        shipper: str,
        start: int,
        end: int,
        status: str = "",
    ) -> Iterator[TaskPage]:
        """GetShipperStatus over tasks created in [start, end], one page of 500 at a time.

        Pages are yielded as they arrive, so a caller never holds more than one, each
        with only the tasks not yielded before (see `distinct_pages`). The server's range
        may include both ends; trimming to a half-open window is the caller's business.
        """
        if status not in ("", *TASK_STATUSES):
            raise ValueError(f"status must be empty or one of {TASK_STATUSES}, not {status!r}")
        api = API_GET_SHIPPER_STATUS
        _check_names(api, project, logstore, shipper)
        path = f"/logstores/{logstore}/shipper/{shipper}/tasks"
        # The SDK's parameter order: from, to, status, offset, size.
        fixed = [("from", str(int(start))), ("to", str(int(end))), ("status", status)]

        def read(offset: int) -> TaskPage:
            params = [*fixed, ("offset", str(offset)), ("size", str(PAGE_SIZE))]
            reply = self._call(_Request(api, "GET", project, path, params))
            page = parse_task_page(reply.body, offset=offset, request_id=reply.request_id)
            _check_total(api, page.total, reply.request_id)
            return page

        return self._counted(distinct_pages(read, lambda offset: self._read_ahead(read, offset)))

    def _counted(self, pages: Iterator[TaskPage]) -> Iterator[TaskPage]:
        with self._pages_lock:
            self._readers += 1
        try:
            yield from pages
        finally:
            with self._pages_lock:
                self._readers -= 1

    def list_logstores(self, project: str) -> list[str]:
        """Every logstore of `project` (ListLogStores, all pages)."""
        _check_names(API_LIST_LOGSTORES, project)
        return self._list_names(API_LIST_LOGSTORES, project, "/logstores", parse_logstores)

    def list_shippers(self, project: str, logstore: str) -> list[str]:
        """Every shipper of `project/logstore` (ListShipper, all pages)."""
        _check_names(API_LIST_SHIPPER, project, logstore)
        path = f"/logstores/{logstore}/shipper"
        return self._list_names(API_LIST_SHIPPER, project, path, parse_shippers)

    def retry_tasks(
        self, project: str, logstore: str, shipper: str, task_ids: Sequence[str]
    ) -> None:
        """RetryShipperTask for `task_ids`, in calls of at most 10 ids.

        Calls are made in order; if one fails, its error is raised and the ids of the
        later chunks are not retried.
        """
        if isinstance(task_ids, str):
            raise TypeError("task_ids must be a sequence of task ids, not one string")
        ids = list(task_ids)
        for task_id in ids:
            if not isinstance(task_id, str) or not task_id:
                raise ValueError(f"task ids must be non-empty strings, not {task_id!r}")
        api = API_RETRY_SHIPPER_TASK
        _check_names(api, project, logstore, shipper)
        path = f"/logstores/{logstore}/shipper/{shipper}/tasks"
        for first in range(0, len(ids), RETRY_CHUNK):
            # Default separators, byte-identical to the SDK's body.
            body = json.dumps(ids[first : first + RETRY_CHUNK]).encode("utf-8")
            self._call(_Request(api, "PUT", project, path, [], body))

    def call(
        self,
        api: str,
        method: str,
        project: str,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
        *,
        names: Sequence[str] = (),
    ) -> _Reply:
        """One call with this client's signing, retries and deadline, for API modules beside
        this one (`shipper_alert.sls.exports`); `names` are the path's resource names."""
        _check_names(api, project, *names)
        return self._call(_Request(api, method, project, path, list(params), body))

    # --- paging, retries, one attempt ---------------------------------------------------

    def _list_names(
        self,
        api: str,
        project: str,
        path: str,
        parse: Callable[[bytes, str], NamePage],
    ) -> list[str]:
        names: dict[str, None] = {}  # ordered and duplicate-free, should pages overlap
        offset = 0
        for _ in range(MAX_PAGES):
            params = [("offset", str(offset)), ("size", str(PAGE_SIZE))]
            reply = self._call(_Request(api, "GET", project, path, params))
            page = parse(reply.body, reply.request_id)
            _check_total(api, page.total, reply.request_id)
            names.update(dict.fromkeys(page.names))
            offset += len(page.names)
            if not page.names or offset >= page.total:
                return list(names)
        raise too_many_pages(api)

    def _call(self, request: _Request) -> _Reply:
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt_in_slot(request)
            except SlsError as error:
                delay = self._retry_delay(error, attempt)
                if delay is None:
                    raise
                logger.warning(
                    "%s; attempt %d of %d, retrying in %.2fs",
                    error,
                    attempt,
                    self._backoff.max_attempts,
                    delay,
                )
                self._sleep(delay)

    def _retry_delay(self, error: SlsError, attempt: int) -> float | None:
        """How long to wait before the next attempt, or None to raise `error` now.

        The error reply carries no wait hint (only errorCode and errorMessage:
        https://help.aliyun.com/en/sls/developer-reference/error-codes), so the wait is the
        shared back-off alone.
        """
        if not error.retryable:
            return None
        delay = next_delay(attempt, self._deadline, backoff=self._backoff, rng=self._rng)
        if delay is None:
            logger.debug("%s: not retrying: attempts or time used up", error.api)
        return delay

    def _attempt_in_slot(self, request: _Request) -> _Reply:
        """One attempt once a request slot is free (waiting no longer than the deadline)."""
        if not self._slots.acquire(timeout=max(0.0, self._deadline.remaining())):
            raise SlsTransientError(
                CODE_DEADLINE, "the invocation's time budget is spent", api=request.api
            )
        try:
            return self._attempt(request)
        finally:
            self._slots.release()

    def _attempt(self, request: _Request) -> _Reply:
        api = request.api
        remaining = self._deadline.remaining()
        if remaining <= 0:
            raise SlsTransientError(CODE_DEADLINE, "the invocation's time budget is spent", api=api)
        url = self.endpoint.base_url(request.project) + request.path
        headers = self._signed_headers(request)
        # One attempt, connect to last body byte, within its share and the deadline.
        seconds = min(remaining, self._connect_timeout + self._read_timeout)
        timeout = (min(self._connect_timeout, seconds), min(self._read_timeout, seconds))
        started = time.monotonic()
        try:
            reply = self._connections.exchange(
                request.method,
                url,
                params=request.params,
                body=request.body,
                headers=headers,
                seconds=seconds,
                connect_timeout=timeout[0],
                read_timeout=timeout[1],
                max_bytes=bodies.SLS_REPLY_BYTES,
            )
        except watchdog.ExchangeTimeout:
            raise SlsConnectionError(
                CODE_TIMEOUT,
                f"no complete response within {seconds:.2f}s ({self.endpoint})",
                api=api,
            ) from None
        except bodies.ReplyTooLarge as exc:
            raise SlsBadResponseError(f"{exc} ({self.endpoint})", api=api) from None
        except bodies.ReplyUndecodable as exc:
            raise SlsBadResponseError(
                f"undecodable response body: {_reason(exc)}", api=api
            ) from None
        except ConnectTimeout:
            raise SlsConnectionError(
                CODE_TIMEOUT, f"no connection within {timeout[0]:.2f}s ({self.endpoint})", api=api
            ) from None
        except TimeoutError:
            raise SlsConnectionError(
                CODE_TIMEOUT, f"no response within {timeout[1]:.2f}s ({self.endpoint})", api=api
            ) from None
        except (OSError, ProtocolError) as exc:
            raise SlsConnectionError(
                CODE_CONNECTION, f"{_reason(exc)} ({self.endpoint})", api=api
            ) from None
        request_id = reply.headers.get("x-log-requestid", "")
        logger.debug(
            "%s %s %s%s -> HTTP %d, %d bytes in %.3fs [request %s]",
            api,
            request.method,
            url,
            _query_for_log(request.params),
            reply.status,
            len(reply.body),
            time.monotonic() - started,
            request_id or "-",
        )
        if 200 <= reply.status < 300:
            return _Reply(reply.status, reply.body, request_id, reply.headers)
        raise error_from_http(reply.status, reply.body, request_id, api)

    def _signed_headers(self, request: _Request) -> dict[str, str]:
        """The headers of one attempt, with a fresh Date and a signature over them."""
        headers = {
            "Host": self.endpoint.host_header(request.project),
            "User-Agent": self._user_agent,
            "Date": signing.http_date(self._clock()),
            "x-log-apiversion": signing.API_VERSION,
            "x-log-signaturemethod": signing.SIGNATURE_METHOD,
            "x-log-bodyrawsize": str(len(request.body or b"")),
        }
        body = request.body
        if body:
            headers["Content-Type"] = "application/json"
            headers["Content-MD5"] = signing.content_md5(body)
            headers["Content-Length"] = str(len(body))
        credentials = self._credentials
        if credentials.security_token:
            headers["x-acs-security-token"] = credentials.security_token.reveal()
        headers["Authorization"] = signing.authorization(
            credentials.access_key_id,
            credentials.access_key_secret.reveal(),
            request.method,
            request.path,
            request.params,
            headers,
        )
        return headers


def _check_names(api: str, project: str, logstore: str | None = None, *more: str) -> None:
    """Refuse names that would change where a request goes (host) or what it addresses.

    The project becomes part of the host name, so a value like `evil.example/` would send
    the signed request, and any STS token, to another server.
    """
    if not isinstance(project, str) or not _PROJECT_NAME.fullmatch(project):
        raise SlsRequestError("InvalidProjectName", f"invalid project name {project!r}", api=api)
    for name in (logstore, *more):
        if name is not None and (not isinstance(name, str) or not _RESOURCE_NAME.fullmatch(name)):
            raise SlsRequestError("InvalidResourceName", f"invalid name {name!r}", api=api)


def _check_total(api: str, total: int, request_id: str) -> None:
    if total > MAX_TOTAL:
        raise SlsBadResponseError(
            f"{api} response: total is {total}, more than the {MAX_TOTAL} this client pages"
            " through",
            request_id=request_id,
            api=api,
        )


def _query_for_log(params: list[tuple[str, str]]) -> str:
    return "?" + "&".join(f"{k}={v}" for k, v in params) if params else ""


def _reason(exc: BaseException) -> str:
    """The root cause of a transport error in a few words (`Connection refused`).

    requests and urllib3 nest their exceptions and prefix them with object reprs and the
    whole request line; the innermost cause is what an operator needs.
    """
    current: BaseException = exc
    for _ in range(8):
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException) and current.args:
            inner = current.args[0] if isinstance(current.args[0], BaseException) else None
        if not isinstance(inner, BaseException):
            inner = current.__cause__ or current.__context__
        if inner is None or inner is current:
            break
        current = inner
    if isinstance(current, OSError) and current.strerror:
        return current.strerror
    text = re.sub(r"^<[^>]*>: ", "", str(current)) or type(current).__name__
    return re.sub(r"\(Caused by .*\)$", "", text).strip()
