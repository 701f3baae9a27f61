"""Command line: `check`, `validate`, `send-test` and `sim` (contract, "Command line").

Exit codes of `check`: 0 when everything was read and every message went out (or nothing
needed to), 1 when a shipper could not be read or a message was not delivered, 2 on bad
configuration or arguments. `validate` exits 2 when there is any problem (with `--online`,
also a target that cannot be read); `send-test` exits 1 when a channel did not deliver.
`--env-file PATH` (every subcommand but `sim`) reads NAME=value lines over the environment.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from shipper_alert import __version__
from shipper_alert.envfile import read_env_file
from shipper_alert.errors import ConfigError, EventError
from shipper_alert.redact import SecretScrubber

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

    validate = commands.add_parser(
        "validate", help="print the effective configuration and every problem"
    )
    validate.add_argument(
        "--online",
        action="store_true",
        help="also read each target once: credentials, names and permissions",
    )
    send_test = commands.add_parser(
        "send-test", help="send a clearly marked test message to every configured channel"
    )
    send_test.add_argument("--channel", metavar="NAME", help="only this channel (e.g. dingtalk)")
    for command in (check, validate, send_test):
        command.add_argument(
            "--env-file",
            metavar="PATH",
            type=Path,
            help="NAME=value lines (# comments, quotes optional) read over the environment",
        )

    # Listed for --help only: `main` hands `sim ...` to the simulator's own parser, so that
    # the development package (not in the FC zip) is imported only when the simulator runs.
    commands.add_parser("sim", help="run the local SLS simulator (development checkouts)")
    return parser


def _environment(path: Path | None) -> tuple[dict[str, str], list[str]]:
    """The process environment with the env file's lines over it (the file wins)."""
    environ = dict(os.environ)
    if path is None:
        return environ, []
    lines, problems = read_env_file(path)
    environ.update((line.name, line.value) for line in lines)
    return environ, [f"--env-file: {problem}" for problem in problems]


def _check(args: argparse.Namespace, environ: dict[str, str], out: TextIO) -> int:
    from shipper_alert.handler import run  # noqa: PLC0415

    event: dict[str, str] = {}
    if args.start:
        event["from"] = args.start
    if args.end:
        event["to"] = args.end
    try:
        outcome = run(event, None, environ, dry_run=True if args.dry_run else None)
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


def _validate(args: argparse.Namespace, environ: dict[str, str], out: TextIO) -> int:
    from shipper_alert.config import inspect_settings  # noqa: PLC0415

    inspection = inspect_settings(environ)
    width = max((len(s.variable) for s in inspection.shown), default=0)
    for shown in inspection.shown:
        note = "" if shown.source == "env" else f"  ({shown.source})"
        print(f"{shown.variable.ljust(width)}  {shown.value}{note}", file=out)
    problems = list(inspection.problems)
    if args.online and inspection.settings is not None:
        from shipper_alert.online import probe_targets  # noqa: PLC0415

        print("\nreading each target once:", file=out)
        for probe in probe_targets(inspection.settings):
            state = "ok" if probe.ok else "FAILED"
            print(SecretScrubber.scrub(f"  {probe.target}: {state}: {probe.detail}"), file=out)
            if not probe.ok:
                problems.append(f"{probe.target}: {probe.detail}")
    elif args.online:
        print("\nnot read online: fix the configuration first", file=out)
    if problems:
        print(f"\n{len(problems)} problem(s):", file=out)
        for problem in problems:
            print(SecretScrubber.scrub(f"  - {problem}"), file=out)
        return EXIT_CONFIG
    print(
        "\nconfiguration is valid" + (" and every target was read" if args.online else ""), file=out
    )
    return EXIT_OK


def _send_test(args: argparse.Namespace, environ: dict[str, str], out: TextIO) -> int:
    from shipper_alert.config import load_settings  # noqa: PLC0415
    from shipper_alert.sendtest import only_channel, send_test  # noqa: PLC0415

    try:
        settings = load_settings(environ, None, dry_run=False)
    except ConfigError as exc:
        print(f"shipper-alert: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    settings, problem = only_channel(settings, args.channel)
    if problem:
        print(f"shipper-alert: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    deliveries = send_test(settings)
    for delivery in deliveries:
        state = "delivered" if delivery.delivered else f"NOT delivered: {delivery.error}"
        line = f"{delivery.channel}: test message {state} ({delivery.attempts} attempt(s))"
        print(SecretScrubber.scrub(line), file=out)
    return EXIT_OK if deliveries and all(d.delivered for d in deliveries) else EXIT_NOT_OK


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
    environ, problems = _environment(args.env_file)
    if problems:
        for problem in problems:
            print(f"shipper-alert: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    command = {"check": _check, "validate": _validate, "send-test": _send_test}[args.command]
    return command(args, environ, out)


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
