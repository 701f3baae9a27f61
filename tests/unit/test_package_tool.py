"""tools/package.py finds FC's Python 3.10, or says what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tools_loader import load_tool

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "package.py"


package_tool = load_tool("package")


def fake_python(path: Path, major_minor: str) -> Path:
    """An executable that answers the version probe as that Python would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {major_minor}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def empty_env(tmp_path):
    (tmp_path / "bin").mkdir()
    return {"PATH": str(tmp_path / "bin"), "PYENV_ROOT": str(tmp_path / "pyenv")}


def test_fc_python_is_used_when_it_is_a_python310(tmp_path, empty_env):
    python = fake_python(tmp_path / "py310", "3 10")
    env = {**empty_env, "FC_PYTHON": str(python)}
    assert package_tool.find_fc_python(env) == str(python)


@pytest.mark.parametrize(("answer", "reason"), [("3 12", "is Python 3.12"), (None, "does not run")])
def test_fc_python_that_is_not_a_python310_is_refused(tmp_path, empty_env, answer, reason):
    python = tmp_path / "other"
    if answer:
        fake_python(python, answer)
    env = {**empty_env, "FC_PYTHON": str(python)}
    with pytest.raises(package_tool.PackageError) as excinfo:
        package_tool.find_fc_python(env)
    assert str(excinfo.value) == f"FC_PYTHON={python} {reason}; it must be a Python 3.10"


def test_python310_on_path_comes_before_pyenv(tmp_path, empty_env):
    on_path = fake_python(tmp_path / "bin" / "python3.10", "3 10")
    fake_python(tmp_path / "pyenv" / "versions" / "3.10.13" / "bin" / "python", "3 10")
    assert package_tool.find_fc_python(empty_env) == str(on_path)


def test_pyenv_newest_310_is_taken_and_a_broken_shim_skipped(tmp_path, empty_env):
    fake_python(tmp_path / "bin" / "python3.10", "pyenv: python3.10: command not found")
    versions = tmp_path / "pyenv" / "versions"
    fake_python(versions / "3.10.9" / "bin" / "python", "3 10")
    newest = fake_python(versions / "3.10.13" / "bin" / "python", "3 10")
    fake_python(versions / "3.12.1" / "bin" / "python", "3 12")
    assert package_tool.find_fc_python(empty_env) == str(newest)


def test_make_package_without_python310_fails_naming_what_to_install(tmp_path, empty_env):
    done = subprocess.run(  # noqa: S603 - our own interpreter and tool
        [sys.executable, str(TOOL), "--zip", str(tmp_path / "x.zip")],
        env=empty_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(
        "make package: the package's bytecode must be compiled by Python 3.10"
    )
    assert "pyenv install 3.10, or apt-get install python3.10" in done.stderr
    assert "FC_PYTHON=/path/to/python3.10" in done.stderr
    assert not (tmp_path / "x.zip").exists()
