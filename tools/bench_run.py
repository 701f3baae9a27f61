"""The programs `make bench` measures, each run in its own child process by tools/bench.py.

`python tools/bench_run.py MODE --endpoint URL --start S --end E [--workers N]` reads
every shipper of the simulator's `bench/logs` for the window [S, E) and prints one JSON
line: wall and CPU seconds of the measured part, the peak RSS of the whole process, and
what it found. Modes:

- `ours`: the product's `handler.run` (dry run), as the function runs it (the built-in
  templates compiled, as the package ships them);
- `sdk`: the official aliyun-log-python-sdk, one shipper after another
  (`get_shipper_tasks(..., size=-1)` pages 500 at a time and merges the pages);
- `sdk-pool`: the same calls spread over a thread pool of `--workers`;
- `wire`: the rig's floor: the same GetShipperStatus requests over `--workers` sockets,
  nothing parsed;
- `raw`: the floor's inputs: every GetShipperStatus page our check reads, fetched with
  bare signed requests over `--workers` threads; reports the request count, the bytes and
  the CPU that `json.loads` alone spends on them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import queue
import re
import resource
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PROJECT, LOGSTORE = "bench", "logs"
LOOKBACK = 6 * 3600  # the product's default LOOKBACK
PAGE_SIZE = 500  # GetShipperStatus's maximum `size`


def _credentials() -> tuple[str, str]:
    from shipper_alert_dev.sim import (  # noqa: PLC0415
        DEFAULT_ACCESS_KEY_ID,
        DEFAULT_ACCESS_KEY_SECRET,
    )

    return DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET


def read_from(args: argparse.Namespace) -> int:
    """Where every mode's range starts: the check reads LOOKBACK before the window before
    the checked one (it decides RESOLVED), so each mode reads the same pages as ours."""
    return args.start - (args.end - args.start) - LOOKBACK


def ours(args: argparse.Namespace) -> dict:
    from shipper_alert.handler import run  # noqa: PLC0415

    key_id, secret = _credentials()
    env = {
        "SLS_ENDPOINT": args.endpoint,
        "SHIPPERS": f"{PROJECT}/{LOGSTORE}/*",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret,
        "DRY_RUN": "true",
        "LOG_LEVEL": "WARNING",
    }
    event = json.dumps({"from": args.start, "to": args.end}).encode()
    now = float(args.end + 60)
    outcome = run(event, None, env, now=lambda: now)
    return {"failed": sum(s["failed"] for s in outcome.result["shippers"])}


def _sdk_client():
    from aliyun.log import LogClient  # noqa: PLC0415 - the baseline, a dev dependency

    key_id, secret = _credentials()
    client = LogClient(_host(ENDPOINT), key_id, secret, source="bench")
    # The SDK puts the project into the host name unless told the host is an IP address;
    # the simulator is reached by its IP (https://github.com/aliyun/aliyun-log-python-sdk).
    client._isRowIp = True
    return client


def _sdk_failed(client, name: str, args: argparse.Namespace) -> int:
    start, end = args.start, args.end
    response = client.get_shipper_tasks(PROJECT, LOGSTORE, name, read_from(args), end, "", 0, -1)
    return sum(
        1
        for task in response.get_tasks()
        if task.task_status == "fail" and start <= task.task_finish_time < end
    )


def _sdk_names(client) -> list[str]:
    """Every shipper: `list_shipper` answers one page (100 by default, 500 at most)."""
    names: list[str] = []
    while True:
        page = client.list_shipper(PROJECT, LOGSTORE, len(names), PAGE_SIZE).get_shipper()
        names.extend(page)
        if len(page) < PAGE_SIZE:
            return names


def sdk(args: argparse.Namespace) -> dict:
    client = _sdk_client()
    names = _sdk_names(client)
    return {"failed": sum(_sdk_failed(client, n, args) for n in names)}


def sdk_pool(args: argparse.Namespace) -> dict:
    local = threading.local()

    def failed_of(name: str) -> int:
        if not hasattr(local, "client"):
            local.client = _sdk_client()
        return _sdk_failed(local.client, name, args)

    names = _sdk_names(_sdk_client())
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        return {"failed": sum(pool.map(failed_of, names))}


def _page_params(args: argparse.Namespace, offset: int) -> list[tuple[str, str]]:
    """GetShipperStatus's query for one page of the range every mode reads."""
    return [
        ("from", str(read_from(args))),
        ("to", str(args.end)),
        ("status", ""),
        ("offset", str(offset)),
        ("size", str(PAGE_SIZE)),
    ]


def _signed_get(host: str, path: str, params: list[tuple[str, str]]) -> dict[str, str]:
    """The headers of a signed GET, as the check sends them (less its User-Agent)."""
    from shipper_alert.sls import signing  # noqa: PLC0415

    key_id, secret = _credentials()
    headers = {
        "Host": host,
        "Date": signing.http_date(time.time()),
        "x-log-apiversion": signing.API_VERSION,
        "x-log-signaturemethod": signing.SIGNATURE_METHOD,
        "x-log-bodyrawsize": "0",
    }
    headers["Authorization"] = signing.authorization(key_id, secret, "GET", path, params, headers)
    return headers


def raw(args: argparse.Namespace) -> dict:
    import requests  # noqa: PLC0415

    from shipper_alert.sls.endpoint import Endpoint  # noqa: PLC0415

    endpoint = Endpoint.parse(args.endpoint)
    local = threading.local()
    lock = threading.Lock()
    totals = {"requests": 0, "bytes": 0, "parse_cpu": 0.0}

    def get(path: str, params: list[tuple[str, str]]) -> dict:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.trust_env = False
        headers = _signed_get(endpoint.host_header(PROJECT), path, params)
        url = endpoint.base_url(PROJECT) + path
        body = local.session.get(url, params=params, headers=headers, timeout=30).content
        cpu = time.thread_time()
        doc = json.loads(body)
        cpu = time.thread_time() - cpu
        with lock:
            totals["requests"] += 1
            totals["bytes"] += len(body)
            totals["parse_cpu"] += cpu
        return doc

    def pages_of(name: str) -> None:
        path = f"/logstores/{LOGSTORE}/shipper/{name}/tasks"
        offset = 0
        while True:
            doc = get(path, _page_params(args, offset))
            offset += len(doc["tasks"])
            if not doc["tasks"] or offset >= doc["total"]:
                return

    names: list[str] = []
    while True:
        path = f"/logstores/{LOGSTORE}/shipper"
        doc = get(path, [("offset", str(len(names))), ("size", str(PAGE_SIZE))])
        names.extend(doc["shipper"])
        if not doc["shipper"] or len(names) >= doc["total"]:
            break
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        list(pool.map(pages_of, names))
    return totals


def wire(args: argparse.Namespace) -> dict:
    """The rig's own floor: the signed GetShipperStatus requests of every shipper's pages
    on `--workers` sockets, each sent as soon as the last reply's bytes are in, nothing
    parsed (a shipper's page count comes from the `"total"` near the start of its first
    page; its later pages go to whichever socket is free). No client with as many requests
    in flight is faster here."""
    from urllib.parse import urlsplit  # noqa: PLC0415

    address = urlsplit(args.endpoint)
    names = [f"s{i:04d}" for i in range(args.shippers)]
    totals = {"requests": 0}
    jobs: queue.SimpleQueue[tuple[str, int] | None] = queue.SimpleQueue()
    lock = threading.Lock()
    pending = {"jobs": len(names)}
    failures: list[BaseException] = []

    def stop_all() -> None:
        for _ in range(args.workers):
            jobs.put(None)

    def work() -> None:
        sock = socket.create_connection((address.hostname, address.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = bytearray()
        while (job := jobs.get()) is not None:
            name, offset = job
            sock.sendall(_wire_request(args, f"{PROJECT}.{address.netloc}", name, offset))
            body = _wire_reply(sock, buffer)
            later = []
            if offset == 0:  # a shipper's later pages go to whichever socket is free
                total = int(re.search(rb'"total": *(\d+)', body[:200]).group(1))
                later = [(name, at) for at in range(PAGE_SIZE, total, PAGE_SIZE)]
            with lock:
                totals["requests"] += 1
                pending["jobs"] += len(later) - 1
                done = pending["jobs"] == 0
            for page in later:
                jobs.put(page)
            if done:
                stop_all()
        sock.close()

    def worker() -> None:
        try:
            work()
        except BaseException as exc:  # the others stop too, and the run fails with it
            failures.append(exc)
            stop_all()

    for name in names:
        jobs.put((name, 0))
    if not names:
        stop_all()
    workers = [threading.Thread(target=worker) for _ in range(args.workers)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    if failures:
        raise failures[0]
    return totals


def _wire_request(args: argparse.Namespace, host: str, name: str, offset: int) -> bytes:
    from urllib.parse import urlencode  # noqa: PLC0415

    path = f"/logstores/{LOGSTORE}/shipper/{name}/tasks"
    params = _page_params(args, offset)
    headers = _signed_get(host, path, params)
    lines = [f"GET {path}?{urlencode(params)} HTTP/1.1", *map(": ".join, headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _wire_reply(sock: socket.socket, buffer: bytearray) -> bytes:
    """The body of the next reply on `sock` (the simulator always sends Content-Length);
    what came after it stays in `buffer`."""

    def more() -> None:
        data = sock.recv(1 << 18)
        if not data:
            raise ConnectionError("the simulator closed the connection")
        buffer.extend(data)

    while (end := buffer.find(b"\r\n\r\n")) < 0:
        more()
    length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", buffer[:end]).group(1))
    while len(buffer) < end + 4 + length:
        more()
    body = bytes(buffer[end + 4 : end + 4 + length])
    del buffer[: end + 4 + length]
    return body


class _InlinePool:
    """A stand-in for the check's thread pool that runs everything in this thread, so that
    cProfile (which sees one thread) sees all of the check's CPU."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __enter__(self) -> _InlinePool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def map(self, function, items):
        return [function(item) for item in items]


def _profile(args: argparse.Namespace) -> int:
    import cProfile  # noqa: PLC0415
    import pstats  # noqa: PLC0415

    import shipper_alert.check  # noqa: PLC0415

    shipper_alert.check.ThreadPoolExecutor = _InlinePool
    profile = cProfile.Profile()
    profile.runcall(ours, args)
    profile.dump_stats(args.profile)
    pstats.Stats(args.profile).sort_stats("tottime").print_stats(25)
    return 0


def _host(endpoint: str) -> str:
    return endpoint.split("://", 1)[1]


def messages(args: argparse.Namespace) -> dict:
    """Every channel's messages for 2,500 failures across 50 shippers (cold, then warm).

    The first build includes loading jinja2 and the templates, as the package ships them
    (compiled to modules with their bytecode); the channels' modules (and requests, which
    the check has loaded by then) are imported before, as the other modes import theirs.
    """
    from shipper_alert.config import load_settings  # noqa: PLC0415
    from shipper_alert.notify.registry import build_notifiers, notifier_class  # noqa: PLC0415
    from shipper_alert.render import Renderer  # noqa: PLC0415

    _compiled_templates()
    settings = load_settings(MESSAGE_ENV, None, True)
    for name in settings.channels.enabled():
        notifier_class(name)
    timings = []
    for run in range(2):
        # The warm build is of the next window's report, as a warm instance's next check:
        # nothing worked out for the first report (or its task times) is of use to it.
        report = _big_report(settings, shippers=50, failures=50, shift=run * 300)
        started = time.perf_counter()
        renderer = Renderer(settings.template_dir, settings.timezone)
        notifiers = build_notifiers(settings.channels)
        built = [m for n in notifiers for m in n.build(report, renderer)]
        timings.append(time.perf_counter() - started)
        for notifier in notifiers:
            notifier.close()
    return {"cold": timings[0], "warm": timings[1], "messages": len(built)}


def _compiled_templates() -> None:
    """The templates compiled to modules and bytecode, as the package ships them."""
    import compileall  # noqa: PLC0415

    from shipper_alert import render  # noqa: PLC0415

    if not render.compiled_current():
        render.compile_builtin()
    compileall.compile_dir(render.COMPILED, quiet=1)


# One of every channel; nothing is sent (the messages are only built).
MESSAGE_ENV = {
    "SLS_ENDPOINT": "https://cn-hangzhou.log.aliyuncs.com",
    "SHIPPERS": "bench/logs/*",
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "bench-id",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "bench-secret",
    "DINGTALK_WEBHOOK_URL": "https://oapi.dingtalk.com/robot/send?access_token=bench",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/bench",
    "WECOM_WEBHOOK_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=bench",
    "FEISHU_WEBHOOK_URL": "https://open.feishu.cn/open-apis/bot/v2/hook/bench",
    "WEBHOOK_URL": "https://hooks.example.com/bench",
    "EMAIL_TO": "ops@example.com",
    "EMAIL_FROM": "alerts@example.com",
    "SMTP_HOST": "smtp.example.com",
}


def _big_report(settings, *, shippers: int, failures: int, shift: int = 0):
    from shipper_alert.evaluate import FailedTask  # noqa: PLC0415
    from shipper_alert.models import ShipperRef, Window  # noqa: PLC0415
    from shipper_alert.report import Report, ShipperReport  # noqa: PLC0415

    window = Window(1795852740 + shift, 1795853040 + shift)
    reports = []
    for s in range(shippers):
        tasks = tuple(
            FailedTask(
                f"task-{s:03d}-{i:04d}",
                f"UnAuthorized: role {i % 3} cannot write bucket bench-{s}",
                "UnAuthorized",
                window.start - 100 + i,
                window.start + 10 + i,
                window.start + 10 + i,
            )
            for i in range(failures)
        )
        reports.append(
            ShipperReport(
                ref=ShipperRef(PROJECT, LOGSTORE, f"s{s:04d}"),
                failed=failures,
                succeeded=failures,
                ratio=0.5,
                breached=True,
                failed_tasks=tasks,
            )
        )
    return Report(
        window=window,
        timezone=settings.timezone,
        timezone_name=settings.timezone_name,
        shippers=tuple(reports),
        dry_run=True,
        checked_at=window.end + 65,
    )


SDK_MODULES = ("aliyun.log",)
RIG_MODULE = "shipper_alert_dev.sim"
# What a check with findings imports, most of it only once it runs (lazy imports).
OUR_MODULES = (
    "shipper_alert.handler",
    "shipper_alert.check",
    "shipper_alert.sls.client",
    "shipper_alert.sls.exports",
    "shipper_alert.exports_check",
    "shipper_alert.render",
    "shipper_alert.notify.preview",
    "shipper_alert.notify.registry",
    "shipper_alert.notify.delivery",
)
MODES = {
    "ours": ours,
    "sdk": sdk,
    "sdk-pool": sdk_pool,
    "raw": raw,
    "wire": wire,
    "messages": messages,
}
ENDPOINT = ""


def main() -> int:
    global ENDPOINT  # noqa: PLW0603 - one process, one endpoint
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("--endpoint", default="")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--end", type=int, default=0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--shippers", type=int, default=0, help="wire only: how many")
    parser.add_argument(
        "--profile", metavar="FILE", help="ours only: run the pool inline and write cProfile stats"
    )
    args = parser.parse_args()
    ENDPOINT = args.endpoint
    # Imports are not part of the measured part (the cold figures measure them), nor is
    # the rig's own: `_credentials` reads the simulator's keys (some 30 ms to import it).
    for module in (*(SDK_MODULES if args.mode.startswith("sdk") else OUR_MODULES), RIG_MODULE):
        importlib.import_module(module)
    if args.mode == "ours":
        _compiled_templates()  # as the package ships them, whatever ran before in this tree
    if args.profile:
        return _profile(args)
    started, cpu = time.perf_counter(), time.process_time()
    found = MODES[args.mode](args)
    found["wall"] = time.perf_counter() - started
    found["cpu"] = time.process_time() - cpu
    found["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
