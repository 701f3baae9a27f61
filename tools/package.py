"""`make package`: the FC code package, dist/shipper-alert-fc.zip.

Holds `index.py`, the whole `shipper_alert` package (what never ships lives in
`shipper_alert_dev`) and the runtime dependencies of requirements.txt, installed for FC's
python3.10 on x86_64 Linux from binary wheels.
Prints the size of the zip and of each top-level entry, so the package stays small.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "package"
ZIP = ROOT / "dist" / "shipper-alert-fc.zip"
FC_PYTHON = "3.10"
FC_PLATFORM = "manylinux2014_x86_64"


def _copy_sources() -> None:
    shutil.copy2(ROOT / "src" / "index.py", BUILD / "index.py")
    source = ROOT / "src" / "shipper_alert"
    shutil.copytree(
        source,
        BUILD / "shipper_alert",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )


def _install_dependencies() -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(BUILD),
            "--python-version",
            FC_PYTHON,
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
    for cache in BUILD.rglob("__pycache__"):
        shutil.rmtree(cache)


def _zip() -> None:
    ZIP.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(ZIP, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(BUILD.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(BUILD))


def _report() -> None:
    sizes: dict[str, int] = {}
    with zipfile.ZipFile(ZIP) as archive:
        for info in archive.infolist():
            top = info.filename.split("/", 1)[0]
            sizes[top] = sizes.get(top, 0) + info.compress_size
    print(f"{ZIP.relative_to(ROOT)}: {ZIP.stat().st_size / 1024:.0f} KiB")
    for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
        if size >= 4096:
            print(f"  {name:40} {size / 1024:7.0f} KiB")


def main() -> int:
    shutil.rmtree(BUILD, ignore_errors=True)
    BUILD.mkdir(parents=True)
    _copy_sources()
    _install_dependencies()
    _zip()
    _report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
