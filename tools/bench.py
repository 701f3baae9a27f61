"""`make bench`: speed and memory of a check, side by side with baselines, as ratios.

Everything is measured in one run, each program in a fresh child process (tools/bench_run.py),
against the local simulator in a process of its own, every request delayed by LATENCY:

1. Checks of S shippers x T tasks in the 6 h lookback: our check vs the official
   aliyun-log-python-sdk used serially and from a pool of WORKERS threads, and vs the
   floor: the larger of (requests x LATENCY / WORKERS) and the CPU that `json.loads` alone
   spends on the bytes; beside them the rig's own floor ("wire": the same GetShipperStatus
   requests on WORKERS sockets, nothing parsed), which no client with as many requests in
   flight beats. Each program but the serial SDK runs CHECK_RUNS times and the run of
   median wall time is shown (one run can lose a third to the host); peak RSS is the
   largest of a program's runs, each child's whole process.
2. Cold check: one shipper with failures, from the unzipped FC package (tools/package.py)
   on FC's Python 3.10 in a fresh isolated interpreter that cannot write bytecode, vs a
   script with the SDK on the same interpreter (SDK with its bytecode, as FC has it built in).
3. Building every channel's messages for 2,500 failures across 50 shippers (first build in
   a fresh process, loading jinja2 and the templates as the package ships them, precompiled,
   included; then the next window's, warm), in CHECK_RUNS processes, the median one shown.
4. Cold import: `import index` vs `import aliyun.log` (`-X importtime`, median).

`--quick` runs smaller cases; `--json FILE` also writes every figure. Numbers depend on the
machine and its load; the ratios are what to compare between changes.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from shipper_alert.config import DEFAULT_WORKERS  # noqa: E402

RUN = ROOT / "tools" / "bench_run.py"
LATENCY = 0.020  # seconds the simulator waits before every answer
WORKERS = DEFAULT_WORKERS  # the check's default pool, and the SDK pool's size
FULL_CASES = ((200, 2000), (1000, 200), (10, 20000))
CHECK_RUNS = 3  # runs of each program of a case but the serial SDK, which takes 30 s and more
QUICK_CASES = ((20, 2000), (100, 200), (2, 20000))
FC_PYTHON = Path.home() / ".pyenv" / "versions" / "3.10.13" / "bin" / "python"
SDK_FOR_FC = ROOT / "build" / "bench-sdk310"  # the SDK installed for FC_PYTHON, compiled
SDK_REQUIREMENT = "aliyun-log-python-sdk==0.9.52"  # as pinned in requirements-dev.txt


def scenario(shippers: int, tasks: int) -> dict:
    """`tasks` per shipper created over the 6 h lookback (every 7th fails), running on."""
    every = max(1, (6 * 3600) // tasks)
    generate = {
        "start": "-6h",
        "every": f"{every}s",
        "count": (6 * 3600 + 900) // every,
        "duration": "30s",
        "status": "success",
        "failEvery": 7,
        "failMessage": "UnAuthorized: role cannot write bucket",
        "idPrefix": "t",
    }
    names = [f"s{i:04d}" for i in range(shippers)]
    logstore = {"name": "logs", "shippers": [{"name": n, "generate": [generate]} for n in names]}
    return {
        "projects": [{"name": "bench", "logstores": [logstore]}],
        "faults": [{"latency": LATENCY, "times": None}],
    }


@contextmanager
def simulator(scenario_data: dict, folder: Path, now: int | None = None) -> Iterator[str]:
    """The simulator in its own process, so its CPU and memory are not ours; the endpoint.

    With `now`, its clock stands still there: every program then reads the same pages,
    which the simulator serialises once, in a first pass that is not measured (else its own
    CPU, not the client's, sets the pace).
    """
    path = folder / "bench.json"
    path.write_text(json.dumps(scenario_data))
    frozen = [] if now is None else ["--now", str(now), "--frozen"]
    process = subprocess.Popen(
        [sys.executable, "-m", "shipper_alert", "sim", "--scenario", str(path), *frozen],
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


def child(mode: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(RUN), mode, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode:
        raise RuntimeError(f"bench_run {mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_of(runs: int, mode: str, *args: str) -> dict:
    """The run of median wall time among `runs` of `mode`, with the largest peak RSS of
    them: on this machine one run of a few seconds can lose a third to the host."""
    results = sorted((child(mode, *args) for _ in range(runs)), key=lambda r: r["wall"])
    return {**results[len(results) // 2], "rss_mib": max(r["rss_mib"] for r in results)}


def window(now: int) -> tuple[int, int]:
    end = now - 60
    return end - 300, end


def check_case(shippers: int, tasks: int, folder: Path) -> dict:
    now = int(time.time())
    with simulator(scenario(shippers, tasks), folder, now) as endpoint:
        start, end = window(now)
        args = ("--endpoint", endpoint, "--start", str(start), "--end", str(end))
        args += ("--workers", str(WORKERS))
        child("raw", *args)  # the simulator makes each task's view once: not measured
        raw = child("raw", *args)
        wire = median_of(CHECK_RUNS, "wire", *args, "--shippers", str(shippers))
        ours = median_of(CHECK_RUNS, "ours", *args)
        sdk = child("sdk", *args)  # half a minute or more: once
        pool = median_of(CHECK_RUNS, "sdk-pool", *args)
    floor = max(raw["requests"] * LATENCY / WORKERS, raw["parse_cpu"])
    return {
        "case": f"{shippers} x {tasks}",
        "requests": raw["requests"],
        "MiB_read": round(raw["bytes"] / 2**20, 1),
        "floor_s": round(floor, 3),
        "bare_fetch_s": round(raw["wall"], 3),
        "wire_s": round(wire["wall"], 3),
        "parse_cpu_s": round(raw["parse_cpu"], 3),
        "ours": ours,
        "sdk": sdk,
        "sdk_pool": pool,
        "ours_per_floor": round(ours["wall"] / floor, 2),
        "sdk_per_ours": round(sdk["wall"] / ours["wall"], 2),
        "pool_per_ours": round(pool["wall"] / ours["wall"], 2),
        "sdk_per_wire": round(sdk["wall"] / wire["wall"], 2),
        "failed_found": [ours["failed"], sdk["failed"], pool["failed"]],
    }


def profile(case: tuple[int, int], out: Path) -> int:
    now = int(time.time())
    with (
        tempfile.TemporaryDirectory() as folder,
        simulator(scenario(*case), Path(folder), now) as url,
    ):
        start, end = window(now)
        args = ("--endpoint", url, "--start", str(start), "--end", str(end))
        subprocess.run(
            [sys.executable, str(RUN), "ours", *args, "--profile", str(out.resolve())],
            check=True,
            cwd=ROOT,
        )
    return 0


def _wall(command: list[str], env: dict[str, str], runs: int) -> tuple[float, int]:
    """Median wall seconds of a whole process, and the failed-task count it printed."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, check=True, capture_output=True, cwd="/")
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), int(done.stdout.split()[-1])


def _fc_python() -> Path:
    if not FC_PYTHON.exists():
        raise SystemExit(f"bench: FC's Python 3.10 is needed for the cold check: {FC_PYTHON}")
    if not (SDK_FOR_FC / "aliyun" / "log").is_dir():
        pip = [str(FC_PYTHON), "-m", "pip", "install", "--quiet", "--target", str(SDK_FOR_FC)]
        subprocess.run([*pip, SDK_REQUIREMENT], check=True)
    # The SDK runs with valid bytecode, as FC's built-in copy does: a copied tree (new file
    # times) would otherwise be compiled afresh in every run of the script.
    subprocess.run([str(FC_PYTHON), "-m", "compileall", "-q", str(SDK_FOR_FC)], check=True)
    return FC_PYTHON


_OURS_COLD = """import sys; sys.path.insert(0, {code!r})
import json, index
print(sum(s["failed"] for s in json.loads(index.handler(b"", None))["shippers"]))
"""
_SDK_COLD = """import sys, time; sys.path.insert(0, {code!r})
from aliyun.log import LogClient
c = LogClient({host!r}, {key!r}, {secret!r}, source="bench"); c._isRowIp = True
end = int(time.time()) - 60; start = end - 300
r = c.get_shipper_tasks("bench", "logs", "s0000", start - 6 * 3600, end, "", 0, -1)
print(sum(t.task_status == "fail" and start <= t.task_finish_time < end for t in r.get_tasks()))
"""


def cold_check(folder: Path, runs: int) -> dict:
    """One shipper, 2,000 tasks, failures in the window: wall time of a whole process."""
    from shipper_alert_dev.sim import (  # noqa: PLC0415
        DEFAULT_ACCESS_KEY_ID,
        DEFAULT_ACCESS_KEY_SECRET,
    )

    python = str(_fc_python())
    subprocess.run([sys.executable, "tools/package.py"], check=True, cwd=ROOT, capture_output=True)
    code = folder / "code"
    with zipfile.ZipFile(ROOT / "dist" / "shipper-alert-fc.zip") as archive:
        archive.extractall(code)
    for path in sorted(code.rglob("*"), reverse=True):  # FC's code directory is read-only
        path.chmod(0o555 if path.is_dir() else 0o444)
    pycs = sum(1 for _ in code.rglob("*.pyc"))
    try:
        with simulator(scenario(1, 2000), folder) as endpoint:
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "SLS_ENDPOINT": endpoint,
                "SHIPPERS": "bench/logs/s0000",
                "ALIBABA_CLOUD_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY_ID,
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEFAULT_ACCESS_KEY_SECRET,
                "DRY_RUN": "true",
                "LOG_LEVEL": "WARNING",
            }
            ours_cmd = [python, "-I", "-B", "-c", _OURS_COLD.format(code=str(code))]
            sdk_source = _SDK_COLD.format(
                code=str(SDK_FOR_FC),
                host=endpoint.split("://", 1)[1],
                key=DEFAULT_ACCESS_KEY_ID,
                secret=DEFAULT_ACCESS_KEY_SECRET,
            )
            sdk_cmd = [python, "-I", "-B", "-c", sdk_source]
            ours, ours_failed = _wall(ours_cmd, env, runs)
            sdk, sdk_failed = _wall(sdk_cmd, env, runs)
    finally:
        for path in code.rglob("*"):
            if path.is_dir():
                path.chmod(0o755)
        code.chmod(0o755)
        shutil.rmtree(code)
    return {
        "ours_s": round(ours, 3),
        "sdk_s": round(sdk, 3),
        "ratio": round(ours / sdk, 2),
        "pycs_in_package": pycs,
        "failed_found": [ours_failed, sdk_failed],
    }


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


def table(figures: dict) -> str:
    lines = [
        f"checks at {LATENCY * 1000:.0f} ms a request, {WORKERS} workers"
        f" (load average {figures['load']})",
        "",
        "| shippers x tasks | requests | floor s | wire s | ours s | ours/floor"
        " | SDK serial/ours | SDK serial/wire | SDK pool/ours | RSS MiB ours / SDK / pool |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in figures["cases"]:
        ours, sdk, pool = case["ours"], case["sdk"], case["sdk_pool"]
        lines.append(
            f"| {case['case']} | {case['requests']} | {case['floor_s']:.2f}"
            f" | {case['wire_s']:.2f} | {ours['wall']:.2f} | {case['ours_per_floor']:.2f}"
            f" | {case['sdk_per_ours']:.2f} | {case['sdk_per_wire']:.2f}"
            f" | {case['pool_per_ours']:.2f}"
            f" | {ours['rss_mib']:.0f} / {sdk['rss_mib']:.0f} / {pool['rss_mib']:.0f} |"
        )
    cold, messages, imports = figures["cold_check"], figures["messages"], figures["import_ms"]
    lines += [
        "",
        "| figure | ours | baseline | ratio |",
        "|---|---|---|---|",
        f"| cold check from the package, 3.10, no bytecode cache ({cold['pycs_in_package']}"
        f" pycs in zip) | {cold['ours_s']:.3f} s | {cold['sdk_s']:.3f} s (SDK script)"
        f" | {cold['ratio']:.2f} |",
        f"| messages, 2,500 failures x every channel (first / warm) | {messages['cold']:.3f} s"
        f" / {messages['warm']:.3f} s | - | - |",
        f"| cold import | {imports['ours']:.1f} ms (index) | {imports['baseline']:.1f} ms"
        f" (aliyun.log) | {imports['ratio']:.2f} |",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller cases, fewer repeats")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE")
    parser.add_argument(
        "--only", choices=("checks", "cold", "messages", "imports"), help="one part only"
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="instead: cProfile our check of the first case (pool run inline) into FILE",
    )
    args = parser.parse_args()
    if args.profile:
        return profile((QUICK_CASES if args.quick else FULL_CASES)[0], Path(args.profile))
    runs = 3 if args.quick else 7
    # Our modules run from bytecode, as the package ships them and as the SDK's (compiled by
    # pip) do: else, where PYTHONDONTWRITEBYTECODE is set, every fresh process compiles them.
    compileall.compile_dir(ROOT / "src", quiet=1)
    figures: dict = {"load": " ".join(f"{x:.1f}" for x in os.getloadavg())}
    figures["quick"] = args.quick
    with tempfile.TemporaryDirectory() as folder:
        if args.only in (None, "checks"):
            cases = QUICK_CASES if args.quick else FULL_CASES
            figures["cases"] = [check_case(s, t, Path(folder)) for s, t in cases]
        if args.only in (None, "cold"):
            figures["cold_check"] = cold_check(Path(folder), runs)
    if args.only in (None, "messages"):
        figures["messages"] = median_of(CHECK_RUNS, "messages")
    if args.only in (None, "imports"):
        ours, base = cold_import_us("index", runs), cold_import_us("aliyun.log", runs)
        figures["import_ms"] = {
            "ours": ours / 1000,
            "baseline": base / 1000,
            "ratio": round(ours / base, 3),
        }
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    if args.only is None:
        print(table(figures))
    else:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
