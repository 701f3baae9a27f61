"""`python -m shipper_alert sim`: run the local SLS simulator until Ctrl-C or SIGTERM.

The package's command line hands its `sim` arguments to `main`; it is a development tool,
not part of the FC package. The simulator prints its endpoint and the (made-up, non-secret)
credentials it accepts, in the environment-variable form the function reads, then serves
until it is stopped.
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from shipper_alert_dev.sim.clock import Clock, RealClock, SimClock
from shipper_alert_dev.sim.http_server import loopback_address
from shipper_alert_dev.sim.scenario import Scenario, ScenarioError, parse_instant
from shipper_alert_dev.sim.server import SlsSimulator
from shipper_alert_dev.sim.sls_auth import DATE_TOLERANCE_SECONDS

DEFAULT_SCENARIO = Path("scenarios") / "demo.json"

EXIT_OK = 0
EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        metavar="FILE",
        help=f"scenario JSON file (default: {DEFAULT_SCENARIO} if it exists, else empty)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="loopback address to listen on: 127.0.0.1 (default), ::1 or localhost",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port to listen on (default 0: any free port)"
    )
    parser.add_argument(
        "--now",
        metavar="TIME",
        help="start the simulated clock at this time (epoch seconds or ISO-8601); "
        "it then runs at real speed (default: the real time)",
    )
    parser.add_argument(
        "--no-date-check",
        action="store_true",
        help="accept requests whose Date is more than 15 minutes from the simulated clock",
    )
    parser.add_argument(
        "--frozen",
        action="store_true",
        help="with --now: keep the simulated clock at that time (benchmarks: the same pages;"
        " the garbage collector is off)",
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="shipper-alert sim", description="Run the local SLS simulator on loopback."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(
    args: argparse.Namespace,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Serve until SIGINT/SIGTERM (or `stop` is set); 0 on a clean stop, 2 on bad input."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        loopback_address(args.host)
        clock: Clock = RealClock()
        check_date = not args.no_date_check
        if args.now:
            start = parse_instant(args.now)
            clock = SimClock(start, ticking=not args.frozen)
            if check_date and abs(start - time.time()) > DATE_TOLERANCE_SECONDS:
                check_date = False
                print(
                    "note: --now is more than 15 minutes from the real time, so the Date check "
                    "is off (clients sign with the real time)",
                    file=err,
                )
        elif args.frozen:
            print("shipper-alert sim: --frozen needs --now", file=err)
            return EXIT_USAGE
        scenario_path = args.scenario
        if scenario_path is None and DEFAULT_SCENARIO.is_file():
            scenario_path = str(DEFAULT_SCENARIO)
        scenario = Scenario.load(scenario_path, now=clock.now())
        simulator = SlsSimulator(
            scenario, clock=clock, host=args.host, port=args.port, check_date=check_date
        )
        simulator.start()
    except (ValueError, OSError) as exc:  # ScenarioError is a ValueError
        kind = "scenario" if isinstance(exc, ScenarioError) else "sim"
        print(f"error ({kind}): {exc}", file=err)
        return EXIT_USAGE

    if args.frozen:
        # Benchmarks: the pages it caches grow a heap whose full collections stall every
        # reply (some 0.2 s of a 3 s check); the garbage it makes meanwhile is a few cycles.
        gc.disable()
    stop_event = stop or threading.Event()
    restore = _install_signal_handlers(stop_event)
    try:
        _print_banner(simulator, scenario_path, out)
        while not stop_event.is_set():
            stop_event.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        restore()
        simulator.stop()
        if args.frozen:
            gc.enable()
    print("SLS simulator stopped", file=out, flush=True)
    return EXIT_OK


def _print_banner(simulator: SlsSimulator, scenario_path: str | None, out: TextIO) -> None:
    credential = simulator.credential
    lines = [
        f"SLS simulator listening on {simulator.url}",
        f"scenario: {scenario_path or '(empty)'}",
        "point shipper-alert at it with:",
        f"  SLS_ENDPOINT={simulator.endpoint}",
        f"  ALIBABA_CLOUD_ACCESS_KEY_ID={credential.access_key_id}",
        f"  ALIBABA_CLOUD_ACCESS_KEY_SECRET={credential.access_key_secret}",
    ]
    if credential.security_token:
        lines.append(f"  ALIBABA_CLOUD_SECURITY_TOKEN={credential.security_token}")
    shippers = simulator.scenario.shipper_paths()
    if shippers:
        lines.append(f"  SHIPPERS={','.join(shippers)}")
    exports = simulator.scenario.exports.job_paths()
    if exports:
        lines.append(f"  EXPORTS={','.join(exports)}")
    lines.append("press Ctrl-C to stop")
    print("\n".join(lines), file=out, flush=True)


def _install_signal_handlers(stop: threading.Event) -> Callable[[], None]:
    """Stop on SIGTERM and SIGINT when running in the main thread; returns an undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
