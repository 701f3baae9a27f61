"""What a cold start loads: `import index` and one check, each in a fresh interpreter.

FC imports `index` on every cold start, and a cold start compiles nothing it can skip: the
export-job and ledger modules load when a check first needs them, and not at all when it
does not; SLS reads need no requests; what a report is rendered and sent with (jinja2, the
channels' notifiers, requests) loads on a thread of its own while the reads wait.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from shipper_alert_dev.sim import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET

# Loaded by no check unless it needs them: typo suggestions, the ledger's OSS store, the
# export jobs (EXPORTS), email, boto3 (SES), every channel's notifier.
NEVER_UNLESS_NEEDED = (
    "difflib",
    "shipper_alert.ledger.oss",
    "shipper_alert.sls.exports",
    "shipper_alert.exports_check",
    "shipper_alert.exports_report",
    "shipper_alert.export_policy",
    "smtplib",
    "email.mime",
    "boto3",
    "shipper_alert.notify.delivery",
    *(
        f"shipper_alert.notify.{channel}.notifier"
        for channel in ("dingtalk", "email", "feishu", "slack", "webhook", "wecom")
    ),
)
# ... and not by `import index`, which loads what every invocation needs before its check.
NOT_AT_IMPORT = (
    *NEVER_UNLESS_NEEDED,
    "tempfile",  # requests loads it
    "requests",
    "urllib3",
    "http.client",
    "jinja2",
    "shipper_alert.check",
    "shipper_alert.sls.client",
    "shipper_alert.report",
    "shipper_alert.policy_run",
    "shipper_alert.render",
)

CHECK = """
import json, sys
import index
result = json.loads(index.handler(sys.argv[1].encode(), None))
loaded = [name for name in json.loads(sys.argv[2]) if name in sys.modules]
print(json.dumps({"failed": [s["failed"] for s in result["shippers"]], "loaded": loaded}))
"""


def scenario(fail_every: int | None) -> dict:
    """One shipper with a task every 10 s over the last hour; every `fail_every`th fails."""
    generate = {"start": "-1h", "every": "10s", "count": 360, "duration": "5s"}
    generate["status"] = "success"
    if fail_every:
        generate |= {"failEvery": fail_every, "failMessage": "UnAuthorized: role cannot write"}
    shipper = {"name": "to-oss", "generate": [generate]}
    logstore = {"name": "logs", "shippers": [shipper]}
    return {"projects": [{"name": "proj", "logstores": [logstore]}]}


def fresh(code: str, *args: str, environ: dict[str, str] | None = None) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(environ or {})}
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_importing_index_loads_nothing_that_a_check_loads_when_it_needs_it():
    probe = f"import index, json, sys\nprint(json.dumps([n for n in {NOT_AT_IMPORT!r} if n in sys.modules]))"
    assert json.loads(fresh(probe)) == []
    # The probe sees what it looks for: requests loads some of them itself.
    loaded_by_requests = json.loads(fresh(probe.replace("import index", "import requests")))
    assert loaded_by_requests == ["tempfile", "requests", "urllib3", "http.client"]


def dry_run_env(sim, channel: dict[str, str]) -> dict[str, str]:
    return {
        "SLS_ENDPOINT": sim.endpoint,
        "SHIPPERS": "proj/logs/to-oss",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEFAULT_ACCESS_KEY_SECRET,
        "DRY_RUN": "true",
        **channel,
    }


TIMER = json.dumps({"triggerTime": "now", "triggerName": "every-5-min"})


WEBHOOK = {"WEBHOOK_URL": "http://127.0.0.1:9/alerts"}  # built, not sent: a dry run
WEBHOOK_NOTIFIER = "shipper_alert.notify.webhook.notifier"
HTTP_CLIENT = ("http.client", "email.parser")


@pytest.mark.parametrize(
    ("fail_every", "event", "channel", "also_not_loaded"),
    [
        # SLS reads use sls/http11.py: neither http.client nor the email package loads.
        (3, "", {}, HTTP_CLIENT),  # findings: the plain-text message is rendered, not sent
        (None, "", {}, HTTP_CLIENT),  # nothing to report (jinja2 may load in the background)
        (3, TIMER, {}, HTTP_CLIENT),  # a timer's check paces what it reports, no ledger
        (3, "", WEBHOOK, ()),  # one channel: its notifier loads, no other channel's
    ],
)
def test_a_dry_run_check_loads_no_channel_export_ledger_or_email_module(
    sls_sim, fail_every, event, channel, also_not_loaded
):
    sim = sls_sim(scenario(fail_every), clock=None)  # the child checks at the real time
    environ = dry_run_env(sim, channel)
    if event:
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        event = event.replace('"now"', json.dumps(now.isoformat().replace("+00:00", "Z")))
    watched = [*NEVER_UNLESS_NEEDED, *also_not_loaded, "requests", "shipper_alert.check"]
    out = json.loads(fresh(CHECK, event, json.dumps(watched), environ=environ))

    assert out["failed"] == [10 if fail_every else 0]  # 30 tasks in the 5 min window
    # SLS reads need no requests; a channel's notifier loads it, to send.
    expected = [WEBHOOK_NOTIFIER, "requests"] if channel else []
    assert out["loaded"] == [*expected, "shipper_alert.check"]
    assert [r.api for r in sim.received] == ["GetShipperStatus"]  # one page, nothing else


PRELOADED = """
import json, sys, threading
import index
result = json.loads(index.handler(sys.argv[1].encode(), None))
preload = [t for t in threading.enumerate() if t.name == "shipper-alert preload"]
for thread in preload:
    thread.join()
loaded = [name for name in json.loads(sys.argv[2]) if name in sys.modules]
print(json.dumps({"preload": len(preload), "loaded": loaded, "ok": result["ok"]}))
"""


@pytest.mark.parametrize(
    ("channel", "modules"),
    [
        ({}, ["jinja2", "shipper_alert.render", "shipper_alert.notify.preview"]),
        (WEBHOOK, ["jinja2", "shipper_alert.render", WEBHOOK_NOTIFIER, "requests"]),
    ],
)
def test_what_a_check_renders_and_sends_with_loads_while_its_reads_wait(sls_sim, channel, modules):
    """With nothing to report, the check returns whether or not the preload is done; once
    it is, what a report with findings needs is loaded, and nothing else."""
    sim = sls_sim(scenario(None), clock=None)
    environ = dry_run_env(sim, channel)
    watched = [*NEVER_UNLESS_NEEDED, "jinja2", "shipper_alert.render", "requests"]
    watched.append("shipper_alert.notify.preview")
    out = json.loads(fresh(PRELOADED, "", json.dumps(watched), environ=environ))
    assert out["ok"] is True
    # Nothing to report loads none of these itself: the preload thread did (one, at most).
    assert out["loaded"] == sorted(modules, key=watched.index)
    assert out["preload"] in (0, 1)  # 0: it had finished before the check returned


def test_a_module_that_cannot_be_preloaded_leaves_the_others_loaded():
    code = (
        "import sys\n"
        "from shipper_alert import preload\n"
        "preload.start(['shipper_alert.no_such_module', 'jinja2']).join()\n"
        "print(sorted(n for n in ('jinja2', 'shipper_alert.no_such_module') if n in sys.modules))"
    )
    assert fresh(code) == "['jinja2']"
