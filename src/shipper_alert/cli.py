"""Command line: `check`, `validate` and `sim` (contract, "Command line").

Exit codes of `check`: 0 when everything was read and every message went out (or nothing
needed to), 1 when a shipper could not be read or a message was not delivered, 2 on bad
configuration or arguments. `validate` exits 2 when there is any problem.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from shipper_alert import __version__
from shipper_alert.errors import ConfigError, EventError

EXIT_OK = 0
EXIT_NOT_OK = 1
EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shipper-alert",
        description="Alert on failed SLS LogShipper tasks (configured by environment variables).",
    )
    parser.add_argument("--version", action="version", version=f"shipper-alert {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="run one check with the current environment")
    check.add_argument(
        "--from", dest="start", metavar="T", help="window start: epoch seconds or ISO-8601"
    )
    check.add_argument(
        "--to", dest="end", metavar="T", help="window end: epoch seconds or ISO-8601"
    )
    check.add_argument("--dry-run", action="store_true", help="evaluate and render, send nothing")
    check.add_argument("--json", action="store_true", help="print only the result JSON")

    commands.add_parser("validate", help="print the effective configuration and every problem")

    # Listed for --help only: `main` hands `sim ...` to the simulator's own parser, so that
    # the development package (not in the FC zip) is imported only when the simulator runs.
    commands.add_parser("sim", help="run the local SLS simulator (development checkouts)")
    return parser


def _check(args: argparse.Namespace, out: TextIO) -> int:
    from shipper_alert.handler import run  # noqa: PLC0415

    event: dict[str, str] = {}
    if args.start:
        event["from"] = args.start
    if args.end:
        event["to"] = args.end
    try:
        outcome = run(event, None, os.environ, dry_run=True if args.dry_run else None)
    except (ConfigError, EventError) as exc:
        print(f"shipper-alert: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    result = outcome.result
    if args.json:
        print(outcome.to_json(), file=out)
    else:
        _print_summary(outcome, out)
    if outcome.undelivered or not result["ok"]:
        return EXIT_NOT_OK
    return EXIT_OK


def _print_summary(outcome, out: TextIO) -> None:
    result = outcome.result
    window = result["window"]
    print(f"window [{window['from']}, {window['to']})", file=out)
    for shipper in result["shippers"]:
        name = f"{shipper['project']}/{shipper['logstore']}/{shipper['shipper']}"
        if shipper["error"]:
            error = shipper["error"]
            print(f"  {name}: ERROR {error['code']}: {error['message']}", file=out)
            continue
        flags = [
            flag
            for flag, on in (
                ("BREACHED", shipper["breached"]),
                (f"{len(shipper['stuckTaskIds'])} stuck", shipper["stuckTaskIds"]),
                ("STALLED", shipper["stalled"]),
                ("resolved", shipper.get("resolved")),
            )
            if on
        ]
        print(
            f"  {name}: {shipper['failed']} failed, {shipper['succeeded']} succeeded, "
            f"{shipper['running']} running{'  ' + ', '.join(flags) if flags else ''}",
            file=out,
        )
    for message in outcome.messages if result["dryRun"] else []:
        print(f"\n--- {message.channel}: {message.title}\n{message.text}", file=out)
    for delivery in result["notifications"]:
        state = "delivered" if delivery["delivered"] else f"NOT delivered: {delivery['error']}"
        print(f"  {delivery['channel']}: {state} ({delivery['attempts']} attempt(s))", file=out)
    print(f"ok: {str(result['ok']).lower()}", file=out)


def _validate(out: TextIO) -> int:
    from shipper_alert.config import inspect_settings  # noqa: PLC0415

    inspection = inspect_settings(os.environ)
    width = max((len(s.variable) for s in inspection.shown), default=0)
    for shown in inspection.shown:
        note = "" if shown.source == "env" else f"  ({shown.source})"
        print(f"{shown.variable.ljust(width)}  {shown.value}{note}", file=out)
    if inspection.problems:
        print(f"\n{len(inspection.problems)} problem(s):", file=out)
        for problem in inspection.problems:
            print(f"  - {problem}", file=out)
        return EXIT_CONFIG
    print("\nconfiguration is valid", file=out)
    return EXIT_OK


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sim"]:
        return _sim(argv[1:])
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.command == "check":
        return _check(args, out)
    return _validate(out)


def _sim(argv: list[str]) -> int:
    try:
        from shipper_alert_dev.sim.cli import main as run_sim  # noqa: PLC0415
    except ImportError:
        print(
            "shipper-alert: the simulator is not part of the FC package; "
            "run it from a checkout (make demo, or python -m shipper_alert sim)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    return run_sim(argv)
