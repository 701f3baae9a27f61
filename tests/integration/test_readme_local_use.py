"""The README's "Local use" commands run exactly as written, in a checkout with its .venv.

The first line (creating .venv) needs PyPI, so here `.venv` is this test run's own
environment, linked into a scratch checkout; every other line is run as the README gives
it (split like a shell would, without one), against the simulator and a DingTalk stand-in.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shipper_alert_dev.sim import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET
from shipper_alert_dev.standins.dingtalk import DingTalkStandIn

ROOT = Path(__file__).resolve().parents[2]
SETUP = "python3 -m venv .venv && .venv/bin/pip install -e ."
COPY = "cp shipper-alert.env.example shipper-alert.env"
SCENARIO = {
    "projects": [
        {
            "name": "my-project",
            "logstores": [
                {
                    "name": "my-logstore",
                    "shippers": [
                        {
                            "name": "my-shipper",
                            "tasks": [
                                {
                                    "id": "s-1",
                                    "created": "-9m",
                                    "status": "success",
                                    "finished": "-8m",
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    ]
}


def local_use_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Local use\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_starts_local_use_with_the_venv_and_the_env_file():
    commands = local_use_commands()
    assert commands[:2] == [SETUP, COPY]
    assert all(c.startswith(".venv/bin/shipper-alert ") for c in commands[2:])


@pytest.fixture
def checkout(tmp_path, sls_sim):
    sim = sls_sim(SCENARIO)
    dingtalk = DingTalkStandIn("readme-token-5e1").start()
    shutil.copy(ROOT / "shipper-alert.env.example", tmp_path)
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    yield tmp_path, sim, dingtalk
    dingtalk.stop()


def test_every_local_use_command_runs_as_written(checkout):
    workdir, sim, dingtalk = checkout
    venv_bin = workdir / ".venv" / "bin"
    if not (venv_bin / "shipper-alert").exists():
        pytest.fail("this environment has no shipper-alert console script: pip install -e .")
    outputs = {}
    for command in local_use_commands()[1:]:
        if command == COPY:
            subprocess.run(shlex.split(command), cwd=workdir, check=True)  # noqa: S603 - the README's own line
            # What the reader edits in: this machine's SLS, key and channel (later lines win).
            with (workdir / "shipper-alert.env").open("a") as env_file:
                env_file.write(
                    f"SLS_ENDPOINT={sim.endpoint}\n"
                    f"ALIBABA_CLOUD_ACCESS_KEY_ID={DEFAULT_ACCESS_KEY_ID}\n"
                    f"ALIBABA_CLOUD_ACCESS_KEY_SECRET={DEFAULT_ACCESS_KEY_SECRET}\n"
                    f"DINGTALK_WEBHOOK_URL={dingtalk.webhook_url}\n"
                    "DINGTALK_SECRET=\n"
                )
            continue
        done = subprocess.run(  # noqa: S603 - the README's own lines
            shlex.split(command),
            cwd=workdir,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": str(workdir)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        outputs[command] = done.stdout
    validate, online, send_test, dry_run, real = outputs.values()
    assert validate.rstrip().endswith("configuration is valid")
    assert "my-project/my-logstore/my-shipper: ok: readable: 1 task(s)" in online
    assert send_test == "dingtalk: test message delivered (1 attempt(s))\n"
    assert "my-project/my-logstore/my-shipper: 0 failed" in dry_run
    assert json.loads(real)["ok"] is True
    [test_message] = dingtalk.received  # the dry run and the quiet check sent nothing
    assert "TEST MESSAGE" in test_message.json["markdown"]["text"]
