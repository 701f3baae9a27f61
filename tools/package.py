"""`make package`: the FC code package, dist/shipper-alert-fc.zip.

Holds `index.py`, the whole `shipper_alert` package (what never ships lives in
`shipper_alert_dev`) and the runtime dependencies of requirements.txt, installed for FC's
python3.10 on x86_64 Linux from binary wheels. Everything is compiled by a Python 3.10 into
unchecked-hash pycs (`__pycache__/*.cpython-310.pyc`, PEP 552): FC's code directory is
read-only, so without them every cold start compiles requests, urllib3 and jinja2 again,
and an unchecked-hash pyc stays valid whatever file times the zip and FC give the sources.
The built-in templates are compiled to modules first (`render.COMPILED`), so that a check
does not compile them from source either.
The Python 3.10 is `FC_PYTHON` (a path), else `python3.10` on PATH, else pyenv's newest 3.10.
Prints the size of the zip and of each top-level entry, so the package stays small.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "package"
ZIP = ROOT / "dist" / "shipper-alert-fc.zip"
FC_PYTHON_VERSION = (3, 10)  # FC's python3.10 runtime
FC_PLATFORM = "manylinux2014_x86_64"
FC_PYTHON_ENV = "FC_PYTHON"


class PackageError(Exception):
    """The package cannot be built; the message says what to do."""


def _dotted(version: tuple[int, int]) -> str:
    return ".".join(map(str, version))


def _release(path: Path) -> tuple[int, ...]:
    """3.10.13 sorts after 3.10.9."""
    return tuple(int(part) for part in path.name.split(".") if part.isdigit())


def _python_version(python: str) -> tuple[int, int] | None:
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = done.stdout.split()
    if done.returncode != 0 or len(parts) != 2:  # e.g. a pyenv shim of a missing version
        return None
    return int(parts[0]), int(parts[1])


def find_python(version: tuple[int, int], environ: dict[str, str]) -> str | None:
    """`python3.X` on PATH if it is that version, else pyenv's newest 3.X; None if neither."""
    pyenv = Path(environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    wanted = _dotted(version)
    candidates = [shutil.which(f"python{wanted}", path=environ.get("PATH", ""))]
    candidates += [
        str(path / "bin" / "python")
        for path in sorted(pyenv.glob(f"{wanted}.*"), key=_release, reverse=True)
    ]
    for candidate in candidates:
        if candidate and _python_version(candidate) == version:
            return candidate
    return None


def find_fc_python(environ: dict[str, str] | None = None) -> str:
    """The Python 3.10 that compiles the package's bytecode; PackageError if there is none."""
    environ = dict(os.environ if environ is None else environ)
    wanted = _dotted(FC_PYTHON_VERSION)
    explicit = environ.get(FC_PYTHON_ENV)
    if explicit:
        version = _python_version(explicit)
        if version != FC_PYTHON_VERSION:
            found = "does not run" if version is None else f"is Python {_dotted(version)}"
            raise PackageError(f"{FC_PYTHON_ENV}={explicit} {found}; it must be a Python {wanted}")
        return explicit
    found = find_python(FC_PYTHON_VERSION, environ)
    if found is None:
        raise PackageError(
            f"the package's bytecode must be compiled by Python {wanted}, FC's python{wanted} "
            f"runtime, and none was found ({FC_PYTHON_ENV}, python{wanted} on PATH, "
            f"pyenv's {wanted}.*). Install it (pyenv install {wanted}, or apt-get install "
            f"python{wanted}) or set {FC_PYTHON_ENV}=/path/to/python{wanted}"
        )
    return found


def _copy_sources(build: Path) -> None:
    shutil.copy2(ROOT / "src" / "index.py", build / "index.py")
    source = ROOT / "src" / "shipper_alert"
    shutil.copytree(
        source,
        build / "shipper_alert",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )


def _install_dependencies(build: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(build),
            "--python-version",
            _dotted(FC_PYTHON_VERSION),
            "--platform",
            FC_PLATFORM,
            "--implementation",
            "cp",
            "--only-binary=:all:",
            "--no-compile",
            "-r",
            str(ROOT / "requirements.txt"),
        ],
        check=True,
    )
    for cache in build.rglob("__pycache__"):
        shutil.rmtree(cache)


def _compile_templates(build: Path, python: str) -> None:
    """The built-in templates as Python modules, which `_compile` then turns into pycs."""
    # The build's own copy of render (and of jinja2): COMPILED is then inside the build.
    program = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from shipper_alert import render; render.compile_builtin(render.COMPILED)"
    )
    subprocess.run([python, "-I", "-B", "-c", program, str(build)], check=True)


def _compile(build: Path, python: str) -> None:
    """Every .py into `__pycache__/<name>.cpython-310.pyc`, where FC's Python looks first."""
    subprocess.run(
        [
            python,
            "-I",
            "-m",
            "compileall",
            "-q",
            "--invalidation-mode",
            "unchecked-hash",
            # Names in tracebacks relative to the code directory, not this build's path.
            "-s",
            str(build),
            str(build),
        ],
        check=True,
    )


def _zip(build: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(build.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(build))


def _report(target: Path) -> None:
    sizes: dict[str, int] = {}
    with zipfile.ZipFile(target) as archive:
        for info in archive.infolist():
            top = info.filename.split("/", 1)[0]
            sizes[top] = sizes.get(top, 0) + info.compress_size
    print(f"{target}: {target.stat().st_size / 1024:.0f} KiB")
    for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
        if size >= 4096:
            print(f"  {name:40} {size / 1024:7.0f} KiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the FC code package.")
    parser.add_argument("--zip", type=Path, default=ZIP, help=f"the zip to write ({ZIP})")
    parser.add_argument("--build-dir", type=Path, default=BUILD, help=f"work folder ({BUILD})")
    args = parser.parse_args(argv)
    try:
        python = find_fc_python()
    except PackageError as exc:
        print(f"make package: {exc}", file=sys.stderr)
        return 2
    build: Path = args.build_dir
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    _copy_sources(build)
    _install_dependencies(build)
    _compile_templates(build, python)
    _compile(build, python)
    _zip(build, args.zip)
    _report(args.zip)
    return 0


if __name__ == "__main__":
    sys.exit(main())
