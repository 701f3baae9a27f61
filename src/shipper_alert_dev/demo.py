"""`make demo`: the whole path on a laptop, with no cloud account and no network.

1. Starts the local SLS simulator with scenarios/demo.json (failing, stuck, stalled and
   healthy shippers) and runs three consecutive timer checks through `index.handler` in
   dry-run mode, printing what would be sent and one line per target of each result.
2. Starts loopback stand-ins for DingTalk (signed), Slack, WeCom, Feishu (signed), a
   generic webhook and an SMTP server, runs the latest check for real, and writes what
   each service received to demo-output/ (the email as .eml, .html and its .csv), printing
   where.
Everything it started is stopped at the end. Not part of the FC package.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
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
DEMO_OUTPUT = Path("demo-output")  # relative to where `make demo` runs: the checkout


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
        "EXPORTS": "shop-prod/*",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": key_secret,
        "RUNNING_TIMEOUT": "3h",
        "STALL_TIMEOUT": "3h",
        "AUTO_RETRY": "true",
        "ALERT_TIMEZONE": "Asia/Shanghai",
        "LOG_LEVEL": "WARNING",
        # A fresh ledger: the first timer check of the shippers' trouble is its FIRING,
        # whatever the time of day (stateless checks may take it for one already sent).
        "STATE_URL": "file://" + tempfile.mkdtemp(prefix="shipper-alert-demo-ledger-"),
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
        print(f"\nok: {str(result['ok']).lower()}", file=out)
        for target in result["shippers"]:
            name = "/".join(target[k] for k in ("project", "logstore", "shipper"))
            state = target.get("state") or ("breached" if target["breached"] else "ok")
            print(f"  {name}: {target['failed']} failed, {state}", file=out)
        results.append(result)
    return results


def make_standins() -> dict:
    from shipper_alert_dev.standins.dingtalk import DingTalkStandIn  # noqa: PLC0415
    from shipper_alert_dev.standins.feishu import FeishuStandIn  # noqa: PLC0415
    from shipper_alert_dev.standins.slack import SlackStandIn  # noqa: PLC0415
    from shipper_alert_dev.standins.smtp import SmtpStandIn  # noqa: PLC0415
    from shipper_alert_dev.standins.webhook import WebhookStandIn  # noqa: PLC0415
    from shipper_alert_dev.standins.wecom import WeComStandIn  # noqa: PLC0415

    return {
        "dingtalk": DingTalkStandIn(secret=DEMO_DINGTALK_SECRET),
        "slack": SlackStandIn(),
        "wecom": WeComStandIn(),
        "feishu": FeishuStandIn(secret=DEMO_FEISHU_SECRET),
        "webhook": WebhookStandIn(),
        "email": SmtpStandIn(),
    }


# Made-up values for the local stand-ins only.
DEMO_DINGTALK_SECRET = "SECdemo-dingtalk-signing-secret"  # noqa: S105
DEMO_FEISHU_SECRET = "demo-feishu-signing-secret"  # noqa: S105


def channel_environment(standins: dict) -> dict[str, str]:
    return {
        "DINGTALK_WEBHOOK_URL": standins["dingtalk"].webhook_url,
        "DINGTALK_SECRET": DEMO_DINGTALK_SECRET,
        "DINGTALK_AT_MOBILES": "13800000000",
        "SLACK_WEBHOOK_URL": standins["slack"].webhook_url,
        "WECOM_WEBHOOK_URL": standins["wecom"].webhook_url,
        "FEISHU_WEBHOOK_URL": standins["feishu"].webhook_url,
        "FEISHU_SECRET": DEMO_FEISHU_SECRET,
        "WEBHOOK_URL": standins["webhook"].webhook_url,
        "EMAIL_TO": "oncall@example.com",
        "EMAIL_FROM": "shipper-alert <alerts@example.com>",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(standins["email"].port),
        "SMTP_SECURITY": "none",
    }


def run_delivery(
    endpoint: str,
    key_id: str,
    key_secret: str,
    standins: dict,
    out=sys.stdout,
    output: Path = DEMO_OUTPUT,
) -> dict:
    """The latest window's check for real, into the stand-ins; writes what each received
    under `output` and prints where, with the result in one line per target and channel."""
    import index  # noqa: PLC0415

    env = {**demo_environment(endpoint, key_id, key_secret), **channel_environment(standins)}
    trigger = int(time.time()) // INTERVAL * INTERVAL
    event = {"triggerTime": _iso(trigger), "triggerName": "every-5m", "payload": ""}
    heading = f"Delivery: the check of {_iso(trigger)} again, sent for real to local stand-ins"
    print(f"\n{RULE}\n{heading}\n{RULE}", file=out)
    with _environment(env):
        result = json.loads(index.handler(json.dumps(event).encode(), _context()))
    for name, what, path in write_received(standins, output):
        print(f"--- {name} received ({what}): {path}", file=out)
    print(f"\nok: {str(result['ok']).lower()}", file=out)
    for n in result["notifications"]:
        state = "delivered" if n["delivered"] else f"NOT delivered: {n['error']}"
        print(f"  {n['channel']}: {state} after {n['attempts']} attempt(s)", file=out)
    return result


def write_received(standins: dict, output: Path) -> list[tuple[str, str, Path]]:
    """Every message each stand-in received, one file each under `output` (emptied first):
    what a reader sees (markdown, JSON, the email as .eml, its HTML as .html and its attached
    CSV as .csv)."""
    output.mkdir(parents=True, exist_ok=True)
    for old in output.iterdir():
        if old.is_file():
            old.unlink()
    written: list[tuple[str, str, Path]] = []

    def write(name: str, what: str, file: str, body: str | bytes) -> None:
        path = output / file
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8")
        written.append((name, what, path))

    def as_json(body: object) -> str:
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"

    for i, request in enumerate(standins["dingtalk"].delivered(), start=1):
        url = f"{request.path}?{'&'.join(sorted(request.query))}"
        write(
            "DingTalk",
            f"markdown, signed: {url}",
            f"dingtalk-{i}.md",
            request.json["markdown"]["text"],
        )
    for i, request in enumerate(standins["slack"].delivered(), start=1):
        write(
            "Slack",
            f"{len(request.json['blocks'])} blocks",
            f"slack-{i}.json",
            as_json(request.json),
        )
    for i, request in enumerate(standins["wecom"].delivered(), start=1):
        body = request.json
        if body["msgtype"] == "markdown":
            write("WeCom", "markdown", f"wecom-{i}.md", body["markdown"]["content"])
        else:
            write("WeCom", body["msgtype"], f"wecom-{i}.json", as_json(body))
    for i, request in enumerate(standins["feishu"].delivered(), start=1):
        body = request.json
        what = f"{body['msg_type']}, signed at {body.get('timestamp')}"
        write("Feishu", what, f"feishu-{i}.json", as_json(body))
    for i, request in enumerate(standins["webhook"].delivered(), start=1):
        write("webhook", "JSON", f"webhook-{i}.json", as_json(request.json))
    for i, mail in enumerate(standins["email"].received, start=1):
        what = f"to {', '.join(mail.rcpt_tos)}: {mail.message['Subject']}"
        write("SMTP", what, f"email-{i}.eml", mail.data)
        write("SMTP", "text/html part", f"email-{i}.html", mail.part("html"))
        for name, data in mail.attachments.items():
            write("SMTP", f"attachment {name}", f"email-{i}.csv", data)
    return written


def run_episode(standins: dict, out=sys.stdout) -> list[str]:
    """A shipper failing for two hours, checked every 5 minutes on a simulated clock.

    The notification policy's episode with a ledger: FIRING at once, STILL FAILING digests
    once an hour, RESOLVED an hour after the last failure. Returns the titles sent.
    """
    import index  # noqa: PLC0415
    from shipper_alert_dev.sim import SimClock, SlsSimulator  # noqa: PLC0415
    from shipper_alert_dev.sim.scenario import TaskSpec  # noqa: PLC0415

    hour = 3600
    clock = SimClock(int(time.time()) // hour * hour - 4 * hour)
    begin = int(clock.now())
    failing = [
        TaskSpec(
            f"ep-{n}",
            begin + n * INTERVAL,
            "fail",
            begin + n * INTERVAL + 90,
            message="UnAuthorized: the role cannot write the bucket",
            code="UnAuthorized",
        )
        for n in range(24)
    ]
    healthy = [
        TaskSpec(f"ok-{n}", begin + n * INTERVAL, "success", begin + n * INTERVAL + 90)
        for n in range(24, 48)
    ]
    slack = standins["slack"]
    before = len(slack.messages())
    titles: list[str] = []
    print(f"\n{RULE}\nAn episode: 2 hours of failures, a check every 5 minutes\n{RULE}", file=out)
    with SlsSimulator(None, clock=clock) as sim:
        sim.scenario.add_tasks("shop-prod", "orders", "to-oss-episode", tasks=failing + healthy)
        env = {
            **demo_environment(sim.endpoint, *_key(sim)),
            "SHIPPERS": "shop-prod/orders/to-oss-episode",
            "SLACK_WEBHOOK_URL": slack.webhook_url,
        }
        with _environment(env), mock.patch("time.time", clock.now):
            for _ in range(48):
                clock.advance(INTERVAL)
                trigger = int(clock.now())
                event = {"triggerTime": _iso(trigger), "triggerName": "every-5m", "payload": ""}
                json.loads(index.handler(json.dumps(event).encode(), _context()))
                for message in slack.messages()[before + len(titles) :]:
                    titles.append(message["text"].split(" | ")[0])
                    print(f"{_iso(trigger)}  {titles[-1]}", file=out)
    return titles


def _key(sim) -> tuple[str, str]:
    return sim.credential.access_key_id, sim.credential.access_key_secret


def main() -> int:
    from shipper_alert_dev.sim import Scenario, SlsSimulator  # noqa: PLC0415

    started = time.monotonic()
    scenario = Scenario.load(SCENARIO)
    standins = make_standins()
    with (
        tempfile.TemporaryDirectory(prefix="shipper-alert-demo-") as state,
        mock.patch("tempfile.tempdir", state),
        SlsSimulator(scenario) as sim,
    ):
        key_id, key_secret = sim.credential.access_key_id, sim.credential.access_key_secret
        print(f"SLS simulator on {sim.endpoint} with {SCENARIO.name}")
        run_dry_checks(sim.endpoint, key_id, key_secret)
        try:
            for standin in standins.values():
                standin.start()
            run_delivery(sim.endpoint, key_id, key_secret, standins)
            run_episode(standins)
        finally:
            for standin in standins.values():
                standin.stop()
    print(f"\ndemo finished in {time.monotonic() - started:.1f}s; everything it started is stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
