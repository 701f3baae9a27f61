"""`make demo`: the whole path on a laptop, with no cloud account and no network.

Starts the local SLS simulator with scenarios/demo.json (failing, stuck, stalled and
healthy shippers), runs three consecutive timer checks through `index.handler` in dry-run
mode, printing what would be sent and the result JSON of each, and stops everything it
started. Not part of the FC package.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "demo.json"
INTERVAL = 300
RULE = "=" * 78


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _context(timeout: int = 60) -> SimpleNamespace:
    """What FC passes (python3.12 shape: credentials come from the environment)."""
    return SimpleNamespace(
        request_id="demo-request",
        region="cn-hangzhou",
        function=SimpleNamespace(
            name="shipper-alert-demo", timeout=timeout, handler="index.handler"
        ),
    )


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    with mock.patch.dict(os.environ, values, clear=True):
        yield


def demo_environment(endpoint: str, key_id: str, key_secret: str) -> dict[str, str]:
    return {
        "SLS_ENDPOINT": endpoint,
        "SHIPPERS": "shop-prod/*/*",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": key_secret,
        "RUNNING_TIMEOUT": "3h",
        "STALL_TIMEOUT": "3h",
        "AUTO_RETRY": "true",
        "ALERT_TIMEZONE": "Asia/Shanghai",
        "LOG_LEVEL": "WARNING",
    }


def run_dry_checks(
    endpoint: str, key_id: str, key_secret: str, checks: int = 3, out=sys.stdout
) -> list[dict]:
    """Consecutive timer checks ending with the latest window; returns their results."""
    import index  # noqa: PLC0415 - the FC entry point, exactly as FC loads it

    env = demo_environment(endpoint, key_id, key_secret)
    env["DRY_RUN"] = "true"
    aligned = int(time.time()) // INTERVAL * INTERVAL
    results = []
    for number in range(checks):
        trigger = aligned - (checks - 1 - number) * INTERVAL
        event = {"triggerTime": _iso(trigger), "triggerName": "every-5m", "payload": ""}
        heading = f"Timer check {number + 1} of {checks}: triggerTime {_iso(trigger)}"
        print(f"\n{RULE}\n{heading}\n{RULE}", file=out)
        with _environment(env):
            result = json.loads(index.handler(json.dumps(event).encode(), _context()))
        for message in result["messages"]:
            print(f"\n--- would send to {message['channel']}: {message['title']}\n", file=out)
            print(message["text"], file=out)
        if not result["messages"]:
            print("\n(nothing to send for this window)", file=out)
        shown = {**result, "messages": f"[{len(result['messages'])} message(s), shown above]"}
        print("\nresult:", json.dumps(shown, indent=2, ensure_ascii=False), file=out)
        results.append(result)
    return results


def main() -> int:
    from shipper_alert.sim import Scenario, SlsSimulator  # noqa: PLC0415

    started = time.monotonic()
    scenario = Scenario.load(SCENARIO)
    with SlsSimulator(scenario) as sim:
        key_id, key_secret = sim.credential.access_key_id, sim.credential.access_key_secret
        print(f"SLS simulator on {sim.endpoint} with {SCENARIO.name}")
        run_dry_checks(sim.endpoint, key_id, key_secret)
    print(f"\ndemo finished in {time.monotonic() - started:.1f}s; everything it started is stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
