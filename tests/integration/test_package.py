"""The FC zip as FC runs it: built by tools/package.py, unzipped, run by a bare interpreter.

Each run is `python -I -S` from a folder outside the repository, with nothing on sys.path
but the standard library and the unzipped code directory, against the simulator on
loopback: the CLI (`validate`, `check --dry-run`, `sim`) and `index.handler` with a fake FC
context, under FC's Python 3.10 and, where it is installed, 3.12 (whose context carries no
credentials). The bytecode tests prove that 3.10 imports the shipped pycs and compiles
nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from factories import sim_scenario
from shipper_alert_dev.sim import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET
from tools_loader import load_tool

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

STS_ID, STS_SECRET, STS_TOKEN = "STS.context-id", "context-secret", "context-token"


def _task(task_id: str, status: str, finished: str, message: str = "") -> dict[str, str]:
    return {
        "id": task_id,
        "created": "-9m",
        "status": status,
        "finished": finished,
        "message": message,
    }


# One shipper that breaches in the 5 minutes before the simulator's now: f-1 failed.
SCENARIO = sim_scenario(
    {"bad": [_task("f-1", "fail", "-3m", "UnAuthorized"), _task("s-1", "success", "-2m")]},
    credentials=[
        {"accessKeyId": STS_ID, "accessKeySecret": STS_SECRET, "securityToken": STS_TOKEN},
        {"accessKeyId": DEFAULT_ACCESS_KEY_ID, "accessKeySecret": DEFAULT_ACCESS_KEY_SECRET},
    ],
)

# Puts the code directory first on sys.path, as FC does, refuses to run if anything but the
# standard library is there too, then runs a module as `python -m` would, or the handler.
BOOT = """
import json, os, runpy, sys
code, mode = sys.argv[1], sys.argv[2]
stray = [p for p in sys.path if "site-packages" in p or not p.startswith(sys.base_prefix)]
if stray:
    raise SystemExit(f"not isolated: {stray}")
sys.path.insert(0, code)
if mode == "-m":
    sys.argv = [sys.argv[3], *sys.argv[4:]]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    raise SystemExit(0)

class Obj:
    def __init__(self, **values):
        self.__dict__.update(values)

credentials = json.loads(sys.argv[4])
context = Obj(
    request_id="req-1",
    region="cn-hangzhou",
    function=Obj(name="shipper-alert", handler="index.handler", memory=128, timeout=60),
    **({"credentials": Obj(**credentials)} if credentials else {}),
)
import importlib, threading
import index
result = index.handler(sys.argv[3].encode(), context)
for thread in threading.enumerate():
    if thread.name == "shipper-alert preload":
        thread.join()
# What a check did not load (requests, for one: SLS reads do not use it) is loaded here.
for name in ("index", "shipper_alert", "requests", "jinja2", "urllib3"):
    where = importlib.import_module(name).__file__
    if not where.startswith(code):
        raise SystemExit(f"{name} imported from {where}, not from the package")
print(result)
"""

# Imports `index` (and, through a check, everything it loads) with a record of every
# source compile, then lists the shipped modules that were compiled from source.
BYTECODE_PROBE = """
import importlib.machinery, json, sys
code = sys.argv[1]
sys.path.insert(0, code)
compiled = []
original = importlib.machinery.SourceFileLoader.source_to_code
def source_to_code(self, data, path, *args, **kwargs):
    compiled.append(str(path))
    return original(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = source_to_code
import index
import shipper_alert.check, shipper_alert.sls.client, shipper_alert.render
import shipper_alert.notify.delivery, shipper_alert.notify.registry
shipped = {
    name: module.__cached__
    for name, module in sys.modules.items()
    if (getattr(module, "__file__", None) or "").startswith(code)
    and module.__file__.endswith(".py")
}
print(json.dumps({"compiled": [p for p in compiled if p.startswith(code)], "cached": shipped}))
"""


package_tool = load_tool("package")


@pytest.fixture(scope="session")
def package_zip(fc_package) -> Path:
    return fc_package


@pytest.fixture
def code_dir(package_zip, tmp_path) -> Path:
    code = tmp_path / "code"
    with zipfile.ZipFile(package_zip) as archive:
        archive.extractall(code)
    return code


@pytest.fixture(scope="session")
def python310() -> str:
    return package_tool.find_fc_python()  # the one that compiled the package


def _cli(python, code_dir, tmp_path, env, *args):
    """`python -m shipper_alert ARGS` from the unzipped package."""
    return _run(python, code_dir, tmp_path, env, "-m", "shipper_alert", *args)


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _run(python, code_dir, tmp_path, env, *args):
    """`python -I -S boot.py CODE ...` from a folder outside the repository."""
    boot = tmp_path / "boot.py"
    boot.write_text(BOOT)
    work = tmp_path / "cwd"
    work.mkdir(exist_ok=True)
    return subprocess.run(  # noqa: S603 - our own scripts and package
        [python, "-I", "-S", str(boot), str(code_dir), *args],
        cwd=work,
        env={"PATH": os.environ.get("PATH", ""), "TMPDIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def target_env(sls_sim):
    sim = sls_sim(SCENARIO)
    now = sim.clock.now()
    env = {
        "SLS_ENDPOINT": sim.endpoint,
        "SLS_PROJECT": "proj-a",
        "SLS_LOGSTORE": "logs",
        "SLS_SHIPPER": "bad",
    }
    return env, int(now)


ENV_CREDENTIALS = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY_ID,
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEFAULT_ACCESS_KEY_SECRET,
}


def test_the_zip_holds_what_ships_and_nothing_else(package_zip):
    names = zipfile.ZipFile(package_zip).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert {"index.py", "shipper_alert", "requests", "jinja2", "urllib3", "orjson"} <= tops
    assert not any(top.startswith(("shipper_alert_dev", "tests", "tools")) for top in tops)
    shipped = {
        str(p.relative_to(ROOT / "src"))
        for p in (ROOT / "src" / "shipper_alert").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert shipped <= set(names)  # the whole package: built from what ships, not a name list


def test_validate_from_the_zip(python310, code_dir, tmp_path, target_env):
    env, _ = target_env
    channel = {"WEBHOOK_URL": "http://127.0.0.1:9/alerts"}
    done = _cli(python310, code_dir, tmp_path, {**env, **ENV_CREDENTIALS, **channel}, "validate")
    assert done.returncode == 0, done.stderr
    assert "configuration is valid" in done.stdout
    assert DEFAULT_ACCESS_KEY_SECRET not in done.stdout

    bad = _cli(python310, code_dir, tmp_path, {"FAIL_TRESHOLD": "2"}, "validate")
    assert bad.returncode == 2
    assert "FAIL_THRESHOLD" in bad.stdout


def test_check_dry_run_from_the_zip(python310, code_dir, tmp_path, target_env):
    env, now = target_env
    window = ("--from", str(now - 300), "--to", str(now))
    done = _cli(
        python310,
        code_dir,
        tmp_path,
        {**env, **ENV_CREDENTIALS},
        "check",
        "--dry-run",
        "--json",
        *window,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] is True
    [shipper] = result["shippers"]
    assert (shipper["failed"], shipper["succeeded"], shipper["breached"]) == (1, 1, True)
    assert shipper["failedTaskIds"] == ["f-1"]
    assert "UnAuthorized" in result["messages"][0]["text"]


def test_sim_is_not_in_the_zip(python310, code_dir, tmp_path):
    done = _cli(python310, code_dir, tmp_path, {}, "sim")
    assert done.returncode == 2
    assert "the simulator is not part of the FC package" in done.stderr
    assert "Traceback" not in done.stderr


def _handler(python, code_dir, tmp_path, env, now, credentials):
    event = json.dumps({"from": now - 300, "to": now, "dryRun": True})
    done = _run(python, code_dir, tmp_path, env, "handler", event, json.dumps(credentials))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_handler_on_python310_reads_with_the_context_credentials(
    python310, code_dir, tmp_path, target_env
):
    env, now = target_env
    # The environment's keys are wrong: only the context's STS credentials can read.
    wrong = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "wrong", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "wrong"}
    credentials = {
        "access_key_id": STS_ID,
        "access_key_secret": STS_SECRET,
        "security_token": STS_TOKEN,
    }
    result = _handler(python310, code_dir, tmp_path, {**env, **wrong}, now, credentials)
    assert result["ok"] is True
    assert result["shippers"][0]["error"] is None
    assert result["shippers"][0]["failedTaskIds"] == ["f-1"]
    assert result["messages"], "a dry run returns the rendered messages"
    assert STS_SECRET not in json.dumps(result)


def test_handler_on_python312_reads_with_the_environment_credentials(
    code_dir, tmp_path, target_env
):
    python = package_tool.find_python((3, 12), dict(os.environ))
    if python is None:
        pytest.skip("Python 3.12 is not installed")
    env, now = target_env
    result = _handler(python, code_dir, tmp_path, {**env, **ENV_CREDENTIALS}, now, None)
    assert result["ok"] is True
    assert result["shippers"][0]["failedTaskIds"] == ["f-1"]


def test_the_zip_carries_unchecked_hash_pycs_for_python310(package_zip):
    names = set(zipfile.ZipFile(package_zip).namelist())
    expected = {
        str(PurePosixPath(n).parent / "__pycache__" / f"{PurePosixPath(n).stem}.cpython-310.pyc")
        for n in names
        if n.endswith(".py")
    }
    assert "__pycache__/index.cpython-310.pyc" in expected
    assert expected - names == set()  # every module has its pyc beside it
    with zipfile.ZipFile(package_zip) as archive:
        header = archive.read("shipper_alert/__pycache__/handler.cpython-310.pyc")[:8]
    # PEP 552 flags: bit 0 hash-based, bit 1 check_source; unchecked = 0b01.
    assert int.from_bytes(header[4:8], "little") == 0b01


def test_python310_imports_the_shipped_bytecode_and_writes_nothing(python310, code_dir, tmp_path):
    before = _tree(code_dir)
    # Old file times, as an unzip may give: an unchecked-hash pyc is valid whatever they are.
    for path in code_dir.rglob("*.py"):
        os.utime(path, (0, 0))
    report = _probe(python310, code_dir, tmp_path, BYTECODE_PROBE)
    assert report["compiled"] == []  # nothing compiled from source: the pycs were used
    assert "index" in report["cached"]
    assert len(report["cached"]) > 50  # requests, urllib3, jinja2 and ours
    for name, cached in report["cached"].items():
        assert cached.endswith(".cpython-310.pyc"), name
        assert Path(cached).is_file(), name
    assert _tree(code_dir) == before  # no pyc written beside the shipped ones


# Which file each built-in template is served from, in the unzipped package.
TEMPLATE_PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from shipper_alert import render
current = render.compiled_current()
environment = render.Renderer()._environment(custom=False, compiled=current)
print(json.dumps({"current": current, "served": {
    p.name: environment.get_template(p.name).filename for p in render.TEMPLATES.glob("*.j2")}}))
"""


def test_the_zip_serves_every_built_in_template_compiled(python310, code_dir, tmp_path):
    answer = _probe(python310, code_dir, tmp_path, TEMPLATE_PROBE)
    assert answer["current"] is True  # the manifest matches the shipped sources and jinja2
    served = answer["served"]
    assert "text.body.j2" in served
    assert len(served) == len(list((ROOT / "src" / "shipper_alert" / "templates").glob("*.j2")))
    compiled = code_dir / "shipper_alert" / "templates" / "compiled"
    assert {name: Path(path).parent for name, path in served.items()} == dict.fromkeys(
        served, compiled
    )


def _probe(python: str, code_dir: Path, tmp_path: Path, source: str):
    """Run `source` with the unzipped package's folder as its argument; its JSON answer."""
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    done = subprocess.run(  # noqa: S603 - our own probe and package
        [python, "-I", "-S", str(probe), str(code_dir)],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# Which JSON parser the shipped safe_json found: orjson's file, or None (json alone).
PARSER_PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from shipper_alert import safe_json
print(json.dumps({"orjson": getattr(safe_json._orjson, "__file__", None)}))
"""


def test_python310_parses_with_the_shipped_orjson(python310, code_dir, tmp_path):
    found = _probe(python310, code_dir, tmp_path, PARSER_PROBE)["orjson"]
    assert found == str(code_dir / "orjson" / "__init__.py")


def test_python312_falls_back_to_json_as_the_shipped_orjson_is_built_for_310(code_dir, tmp_path):
    python = package_tool.find_python((3, 12), dict(os.environ))
    if python is None:
        pytest.skip("Python 3.12 is not installed")
    assert _probe(python, code_dir, tmp_path, PARSER_PROBE) == {"orjson": None}
