"""Every channel's messages, byte for byte, for reports large and small: digests of what
each channel sends (title, readable text and the wire bytes) recorded from the code
before the message build was made faster, so that a change meant to be only faster
cannot change a message unseen.

A change that alters a message on purpose changes these digests: check the messages
themselves (the channel's own tests), then record the new digests with
`.venv/bin/python tests/unit/test_message_digests.py` (it prints the table).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

if __name__ == "__main__":  # run as a script: the package from src/, the factories beside
    ROOT = Path(__file__).resolve().parents[2]
    sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

import factories
from shipper_alert.config import load_settings
from shipper_alert.evaluate import FailedTask, Stall, StuckTask
from shipper_alert.models import ShipperRef
from shipper_alert.notify.email.message import wire_bytes
from shipper_alert.notify.http import encode_json
from shipper_alert.notify.registry import build_notifiers
from shipper_alert.render import Renderer
from shipper_alert.report import Report, RetryOutcome, ShipperReport

WINDOW = factories.WINDOW
VERSION = "0.0.0-digests"  # the version sent (webhook, X-Mailer), fixed: a release changes it

ENV = {  # one of every channel; nothing is sent
    "SLS_ENDPOINT": "https://cn-hangzhou.log.aliyuncs.com",
    "SHIPPERS": "bench/logs/*",
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "digest-id",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "digest-secret",
    "DINGTALK_WEBHOOK_URL": "https://oapi.dingtalk.com/robot/send?access_token=digest",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/digest",
    "WECOM_WEBHOOK_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=digest",
    "FEISHU_WEBHOOK_URL": "https://open.feishu.cn/open-apis/bot/v2/hook/digest",
    "WEBHOOK_URL": "https://hooks.example.com/digest",
    "EMAIL_TO": "ops@example.com",
    "EMAIL_FROM": "alerts@example.com",
    "SMTP_HOST": "smtp.example.com",
}
ENVS = {
    "plain": ENV,
    "mentions": {
        **ENV,
        "DINGTALK_AT_MOBILES": "13800000000,@all",
        "WECOM_MENTIONED_MOBILES": "13800000001",
        "ALERT_TIMEZONE": "Asia/Shanghai",
    },
}
BENCH_MESSAGE = "UnAuthorized: role {r} cannot write bucket bench-{s}"


def _shipper(s: int, failures: int, message: str, mixed: bool) -> ShipperReport:
    count = (failures * (s + 1)) % 97 if mixed else failures
    tasks = tuple(
        FailedTask(
            f"task-{s:03d}-{i:04d}",
            message.format(r=i % 3, s=s, i=i),
            "UnAuthorized" if i % 4 else "InternalError",
            WINDOW.start - 100 + i,
            WINDOW.start + 10 + i,
            WINDOW.start + 10 + i,
        )
        for i in range(count)
    )
    extra: dict = {}
    if mixed and s % 3 == 0:
        extra["stall"] = Stall(WINDOW.start - 4000, WINDOW.start - 400, s % 2 == 0)
    if mixed and s % 5 == 1:
        extra["retry"] = RetryOutcome(tuple(t.id for t in tasks[:3]), False)
    if mixed and s % 4 == 2:
        extra["stuck_tasks"] = tuple(
            StuckTask(f"stuck-{s}-{j}", WINDOW.start - 4000 + j, WINDOW.start - 400 + j)
            for j in range(s % 7 + 1)
        )
    return ShipperReport(
        ref=ShipperRef("bench", "logs", f"s{s:04d}"),
        failed=count,
        succeeded=count,
        ratio=0.5 if count else None,
        breached=bool(count),
        failed_tasks=tasks,
        **extra,
    )


# name -> (shippers, failed tasks each, message, mixed findings)
CASES = {
    "50 x 50 (the benchmark's)": (50, 50, BENCH_MESSAGE, False),
    "1 x 3": (1, 3, BENCH_MESSAGE, False),
    "2 x 300": (2, 300, BENCH_MESSAGE, False),
    "10 x 120": (10, 120, BENCH_MESSAGE, False),
    "400 x 2 (parts)": (400, 2, BENCH_MESSAGE, False),
    "30 x 30 CJK": (30, 30, "数据写入失败 {s} 第 {i} 个 " + "长" * 40, False),
    "60 mixed": (60, 10, "err {i} " + "x" * 200, True),
    "nothing": (0, 0, BENCH_MESSAGE, False),
}


def _report(settings, case: str) -> Report:
    shippers, failures, message, mixed = CASES[case]
    return Report(
        window=WINDOW,
        timezone=settings.timezone,
        timezone_name=settings.timezone_name,
        shippers=tuple(_shipper(s, failures, message, mixed) for s in range(shippers)),
        dry_run=True,
        checked_at=WINDOW.end + 65,
    )


def digests(env_name: str, case: str) -> dict[str, str]:
    """channel -> sha256 (16 hex digits) of its messages, in order: title, text, wire bytes."""
    settings = load_settings(ENVS[env_name], None, True)
    renderer = Renderer(settings.template_dir, settings.timezone)
    report = _report(settings, case)
    sums: dict[str, hashlib._Hash] = {}
    for notifier in build_notifiers(settings.channels):
        try:
            for message in notifier.build(report, renderer):
                payload = message.payload
                body = wire_bytes(payload) if hasattr(payload, "as_bytes") else encode_json(payload)
                digest = sums.setdefault(message.channel, hashlib.sha256())
                for part in (message.title.encode(), message.text.encode(), body):
                    digest.update(len(part).to_bytes(8, "big") + part)
        finally:
            notifier.close()
    return {channel: digest.hexdigest()[:16] for channel, digest in sums.items()}


def _fixed_version(monkeypatch) -> None:
    monkeypatch.setattr("shipper_alert.notify.webhook.notifier.__version__", VERSION)
    monkeypatch.setattr("shipper_alert.notify.email.message.USER_AGENT", f"shipper-alert/{VERSION}")


# Recorded from the code before the build was made faster (commit 683e8c1).
EXPECTED = {
    ("plain", "50 x 50 (the benchmark's)"): {
        "dingtalk": "77ba9163d6f1e9c0",
        "slack": "d7d73b0354ca720f",
        "wecom": "e3160490791a2438",
        "feishu": "d3d5acba7ae0eefb",
        "webhook": "732bb8b65253ba75",
        "email": "8040cd0676d50922",
    },
    ("plain", "1 x 3"): {
        "dingtalk": "36c7fffe4854b91f",
        "slack": "85bcf15cab869e4e",
        "wecom": "d750ddc5bf5504ed",
        "feishu": "76be5ae9241a70c1",
        "webhook": "944df2988111728d",
        "email": "61c639a206aa5388",
    },
    ("plain", "2 x 300"): {
        "dingtalk": "a69e334087c88d6f",
        "slack": "359c65c2d72f482e",
        "wecom": "f61dd184baa6cdba",
        "feishu": "c1cc3b47e9d04882",
        "webhook": "6793059096669d62",
        "email": "4ae7ca071967f018",
    },
    ("plain", "10 x 120"): {
        "dingtalk": "bb504780a1c28e7f",
        "slack": "3ec054161d033979",
        "wecom": "a8bf4929fdb95d7e",
        "feishu": "25fe20af1c88d2cb",
        "webhook": "740ebb8f5b071bd5",
        "email": "cf3f91b7707272be",
    },
    ("plain", "400 x 2 (parts)"): {
        "dingtalk": "b4c505ba08893609",
        "slack": "bbae0cf320754ca9",
        "wecom": "9960a5b00849827c",
        "feishu": "ddda1696986a712e",
        "webhook": "4e7d00db7888d490",
        "email": "458ba8dabf1b67e3",
    },
    ("plain", "30 x 30 CJK"): {
        "dingtalk": "948ca20c69bde345",
        "slack": "4f14ce9e2f2c079d",
        "wecom": "452881a59d7043fa",
        "feishu": "7e2fc5261d19264f",
        "webhook": "5f91c7342540c473",
        "email": "4631dc509149638a",
    },
    ("plain", "60 mixed"): {
        "dingtalk": "7f875bead46bf78d",
        "slack": "60f4e3b99860140b",
        "wecom": "24e638ab461ea6b3",
        "feishu": "e99e2f9b954c60fa",
        "webhook": "529a468c74e76896",
        "email": "3c97deefbc1f2242",
    },
    ("plain", "nothing"): {
        "dingtalk": "906d53048004dbf1",
        "slack": "0662f7f35b45c1a2",
        "wecom": "3ed58c9c7219d4e2",
        "feishu": "83d65e02eaa4969d",
        "webhook": "4cbe9db27d53e77c",
        "email": "1fdf4878102fe33f",
    },
    ("mentions", "50 x 50 (the benchmark's)"): {
        "dingtalk": "eba2935c1e9e0a15",
        "slack": "65e5c4578f74c166",
        "wecom": "992a8bfd8e68d4dd",
        "feishu": "ca8119eb39bff894",
        "webhook": "b045f63e3f0b9daf",
        "email": "a5871f8785ce32f5",
    },
    ("mentions", "1 x 3"): {
        "dingtalk": "850367a838862330",
        "slack": "8e768d0527244e66",
        "wecom": "452266315cdd5225",
        "feishu": "a4bc461656685eaa",
        "webhook": "b74a8fc4af745e44",
        "email": "57f11e3a471b0ebc",
    },
    ("mentions", "2 x 300"): {
        "dingtalk": "77276a664c68d2a0",
        "slack": "436534ce9a5c6749",
        "wecom": "0f7406bd421d80d4",
        "feishu": "021ab3db005ca65f",
        "webhook": "71a18d1fc5d13c63",
        "email": "f7c823f60228a402",
    },
    ("mentions", "10 x 120"): {
        "dingtalk": "79c2a9bac3ce7a97",
        "slack": "822485ba1a3648b4",
        "wecom": "f563cd291f626841",
        "feishu": "c8728da76f344218",
        "webhook": "d8abed48b2ac1b18",
        "email": "c0402b46509510f3",
    },
    ("mentions", "400 x 2 (parts)"): {
        "dingtalk": "911c5e42f582fa5a",
        "slack": "d62c3db20e050d56",
        "wecom": "3b190347513d2a7c",
        "feishu": "2309742bbb1673a6",
        "webhook": "ee15ce36c9038744",
        "email": "930b8cfb6c252add",
    },
    ("mentions", "30 x 30 CJK"): {
        "dingtalk": "1f51ac3f8e401440",
        "slack": "4009c33b0c34e9f8",
        "wecom": "98f74dfd1cab51bf",
        "feishu": "5b091347b7fac751",
        "webhook": "2e7c9164056ebf4b",
        "email": "d5450bb07a2c3b4c",
    },
    ("mentions", "60 mixed"): {
        "dingtalk": "500adafa53d93626",
        "slack": "c0d77ec8d317b706",
        "wecom": "c2d9c9dcf3242bba",
        "feishu": "66ca746bcba35aee",
        "webhook": "7d2ede207ba94b21",
        "email": "ff20f85b07b88a44",
    },
    ("mentions", "nothing"): {
        "dingtalk": "9b542c25f8c0aeaa",
        "slack": "03e697950d4f001e",
        "wecom": "30b074dd2506ea1e",
        "feishu": "ea3b43948f6d82f8",
        "webhook": "6575c7d7c91082c1",
        "email": "74eee78ac9461e45",
    },
}


SLOW = ("400 x 2 (parts)", "60 mixed")  # seconds each: left to `make test`


@pytest.mark.parametrize("env_name", ENVS)
@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c for c in CASES]
)
def test_every_channel_sends_the_same_bytes(env_name, case, monkeypatch):
    _fixed_version(monkeypatch)
    assert digests(env_name, case) == EXPECTED[env_name, case]


if __name__ == "__main__":
    with pytest.MonkeyPatch.context() as patch:
        _fixed_version(patch)
        for env_name in ENVS:
            for case in CASES:
                print(f"    ({env_name!r}, {case!r}): {digests(env_name, case)!r},")
