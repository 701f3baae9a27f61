"""`make bench`: speed and memory of a check, side by side with a baseline, as ratios.

The baseline is what an operator would otherwise write: the official aliyun-log-python-sdk
(`LogClient.get_shipper_tasks(..., size=-1)`, which pages 500 at a time and merges every
page into one response) called for each shipper in turn, then filtered in Python.

1. Cold import: `import index` vs `import aliyun.log`, each in a fresh interpreter
   (`-X importtime`, median of several runs).
2. One check of many shippers with thousands of tasks each, against the local simulator
   on loopback: wall time and peak Python memory (tracemalloc) of `handler.run` (dry run)
   vs the baseline fetching the same ranges.

Numbers depend on the machine; the ratios are what to compare between changes.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def cold_import_us(module: str, runs: int) -> float:
    """Median cumulative import time of `module` in a fresh interpreter, in microseconds."""
    samples = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT / "src",
        )
        last = [line for line in done.stderr.splitlines() if line.rstrip().endswith(f"| {module}")]
        samples.append(int(last[-1].split("|")[1]))
    return statistics.median(samples)


def scenario(shippers: int, tasks: int) -> dict:
    """`tasks` per shipper created over the 6 h lookback, running on into the future."""
    every = max(1, (6 * 3600) // tasks)
    generate = [
        {
            "start": "-6h",
            "every": f"{every}s",
            "count": (6 * 3600 + 900) // every,
            "duration": "30s",
            "status": "success",
            "failEvery": 7,
            "failMessage": "UnAuthorized: role cannot write bucket",
            "idPrefix": "t",
        }
    ]
    return {
        "projects": [
            {
                "name": "bench",
                "logstores": [
                    {
                        "name": "logs",
                        "shippers": [
                            {"name": f"s{i:04d}", "generate": generate} for i in range(shippers)
                        ],
                    }
                ],
            }
        ]
    }


@contextmanager
def _simulator(scenario_data: dict, folder: Path) -> Iterator[str]:
    """The simulator in its own process, so its memory is not counted; yields the endpoint."""
    path = folder / "bench.json"
    path.write_text(json.dumps(scenario_data))
    process = subprocess.Popen(
        [sys.executable, "-m", "shipper_alert", "sim", "--scenario", str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        for line in process.stdout:
            if line.strip().startswith("SLS_ENDPOINT="):
                yield line.strip().split("=", 1)[1]
                break
        else:
            raise RuntimeError("the simulator did not start")
    finally:
        process.terminate()
        process.wait(timeout=10)


def measure(function) -> tuple[float, float, float, object]:
    """Wall seconds, this process's CPU seconds (all threads), peak MiB, and the value.

    Time and memory come from two runs: tracemalloc slows every allocation down.
    """
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    value = function()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    gc.collect()
    tracemalloc.start()
    function()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, cpu, peak / 2**20, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shippers", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=2000, help="tasks per shipper in the lookback")
    parser.add_argument("--import-runs", type=int, default=7)
    args = parser.parse_args()

    from aliyun.log import LogClient  # noqa: PLC0415 - the baseline, a dev dependency

    from shipper_alert.handler import run  # noqa: PLC0415
    from shipper_alert_dev.sim import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET  # noqa: PLC0415

    ours_import = cold_import_us("index", args.import_runs)
    base_import = cold_import_us("aliyun.log", args.import_runs)

    with (
        tempfile.TemporaryDirectory() as folder,
        _simulator(scenario(args.shippers, args.tasks), Path(folder)) as endpoint,
    ):
        env = {
            "SLS_ENDPOINT": endpoint,
            "SHIPPERS": "bench/logs/*",
            "ALIBABA_CLOUD_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY_ID,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEFAULT_ACCESS_KEY_SECRET,
            "DRY_RUN": "true",
            "LOG_LEVEL": "WARNING",
        }
        now = time.time()

        def ours():
            outcome = run(b"", None, env, now=lambda: now)
            return sum(s["failed"] for s in outcome.result["shippers"])

        def baseline():
            host = endpoint.split("://", 1)[1]
            client = LogClient(
                host, DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, source="bench"
            )
            client._isRowIp = True  # sls-api.md §1.5: reach the simulator by IP
            window_end = int(now) - 60
            window_start = window_end - 300
            failed = 0
            for name in client.list_shipper("bench", "logs").get_shipper():
                response = client.get_shipper_tasks(
                    "bench", "logs", name, window_start - 6 * 3600, window_end, "", 0, -1
                )
                failed += sum(
                    1
                    for task in response.get_tasks()
                    if task.task_status == "fail"
                    and window_start <= task.task_finish_time < window_end
                )
            return failed

        ours()  # warm up: connection set-up and the simulator's first responses
        ours_time, ours_cpu, ours_peak, ours_failed = measure(ours)
        base_time, base_cpu, base_peak, base_failed = measure(baseline)

    print(
        json.dumps(
            {
                "shippers": args.shippers,
                "tasks_per_shipper": args.tasks,
                "failed_found": {"ours": ours_failed, "baseline": base_failed},
                "import_ms": {
                    "ours": round(ours_import / 1000, 1),
                    "baseline": round(base_import / 1000, 1),
                    "ratio": round(ours_import / base_import, 3),
                },
                # The client's own CPU: the simulator runs in another process.
                "client_cpu_seconds": {
                    "ours": round(ours_cpu, 2),
                    "baseline": round(base_cpu, 2),
                    "ratio": round(ours_cpu / base_cpu, 3),
                },
                "check_seconds": {
                    "ours": round(ours_time, 2),
                    "baseline": round(base_time, 2),
                    "ratio": round(ours_time / base_time, 3),
                },
                "peak_python_MiB": {
                    "ours": round(ours_peak, 1),
                    "baseline": round(base_peak, 1),
                    "ratio": round(ours_peak / base_peak, 3),
                },
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
