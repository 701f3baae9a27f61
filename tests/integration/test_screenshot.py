"""tools/screenshot.py in real headless Chromium: exact viewports, positions and PNG sizes.

This is the check the email test uses for "every cause is within the first screen": render
the email HTML at a desktop (900x700) and a phone (390x664) viewport, read the box of every
`[data-cause]` element, and require each bottom to be at most the viewport height.
Without Chromium these tests are skipped, with a warning that says so, except under CI=1
or SHIPPER_ALERT_REQUIRE_CHROMIUM=1, where they fail; CI installs it (.ci/run).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "screenshot.py"
sys.path.insert(0, str(ROOT / "tools"))
import screenshot  # noqa: E402

DESKTOP = (900, 700)
PHONE = (390, 664)  # iPhone 12-15 width; 844 px high less the mail app's header and bars

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<style>body{margin:0;font:16px/18px Arial,sans-serif}</style></head><body>
<div data-cause="UnAuthorized" style="height:100px">UnAuthorized ×200</div>
<p style="margin:0">%s</p>
<div data-cause="InternalServerError">InternalServerError ×120</div>
<div style="height:1500px"></div>
<div data-cause="late">a cause far below the fold</div>
</body></html>""" % ("wrapping words " * 40)


def chromium_required() -> bool:
    """CI (CI=1) and SHIPPER_ALERT_REQUIRE_CHROMIUM=1 make a missing Chromium a failure."""
    return "1" in (os.environ.get("CI"), os.environ.get("SHIPPER_ALERT_REQUIRE_CHROMIUM"))


def _need_chromium() -> None:
    if screenshot.find_chromium() is None:
        message = (
            "CHROMIUM IS NOT INSTALLED: the screenshot and first-screen tests did NOT run. "
            "Install it with `apt-get install -y chromium` (or set CHROMIUM)."
        )
        if chromium_required():
            pytest.fail(message)
        warnings.warn(message, stacklevel=2)
        pytest.skip(message)


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "email.html"
    path.write_text(PAGE, encoding="utf-8")
    return path


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own tool with our arguments
        [sys.executable, str(TOOL), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def below_the_fold(found: dict) -> list[str]:
    height = found["viewport"]["height"]
    return [e["text"] for e in found["elements"] if e["bottom"] > height]


@pytest.mark.parametrize(("width", "height"), [DESKTOP, PHONE])
def test_positions_use_the_exact_viewport_and_find_what_is_below_the_fold(page, width, height):
    _need_chromium()
    done = run(
        "positions",
        str(page),
        "--width",
        str(width),
        "--height",
        str(height),
        "--selector",
        "[data-cause]",
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["viewport"] == {"width": width, "height": height}
    assert found["pageWidth"] == width  # nothing overflows sideways
    assert [e["text"] for e in found["elements"]] == [
        "UnAuthorized ×200",
        "InternalServerError ×120",
        "a cause far below the fold",
    ]
    assert found["elements"][0]["top"] == 0
    assert below_the_fold(found) == ["a cause far below the fold"]


def test_text_wraps_more_at_phone_width(page):
    _need_chromium()
    desktop = screenshot.positions(page, *DESKTOP, "[data-cause]")
    phone = screenshot.positions(page, *PHONE, "[data-cause]")
    # The paragraph between the first two causes is taller on the phone.
    gap = [f["elements"][1]["top"] - f["elements"][0]["bottom"] for f in (desktop, phone)]
    assert gap[1] > gap[0] > 0


def test_shot_writes_a_png_of_the_viewport_or_the_whole_page(page, tmp_path):
    _need_chromium()
    out = tmp_path / "shot.png"
    for args, size in (
        (["--width", "390", "--height", "300"], (390, 300)),
        (["--width", "900"], (900, screenshot.positions(page, 900, 700, "body")["pageHeight"])),
    ):
        done = run("shot", str(page), str(out), *args)
        assert done.returncode == 0, done.stderr
        head = out.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", head[16:24]) == size


def test_first_screen_names_what_ends_below_the_fold_at_each_viewport(page, tmp_path):
    _need_chromium()
    args = ["--selector", "[data-cause]", "--viewport", "900x700", "--viewport", "390x664"]
    done = run("first-screen", str(page), *args)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "900x700: 1 below it",
        "  below: a cause far below the fold",
        "390x664: 1 below it",
        "  below: a cause far below the fold",
    ]
    fits = tmp_path / "fits.html"
    fits.write_text(PAGE.replace('<div style="height:1500px"></div>', ""), encoding="utf-8")
    done = run("first-screen", str(fits), *args)
    assert (done.returncode, done.stdout.splitlines()) == (
        0,
        ["900x700: all within the first screen", "390x664: all within the first screen"],
    )


def test_missing_chromium_is_exit_2_with_the_install_line(page, tmp_path):
    env = {**os.environ, "CHROMIUM": str(tmp_path / "no-such-chromium")}
    done = run("positions", str(page), "--width", "390", "--selector", "div", env=env)
    assert done.returncode == 2
    assert "apt-get install -y chromium" in done.stderr


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["900px", "390px"])
def test_every_cause_of_the_sample_email_is_within_the_first_screen(tmp_path, viewport):
    _need_chromium()
    from shipper_alert_dev.samples import CAUSES, sample_email_html  # noqa: PLC0415

    page = tmp_path / "email.html"
    page.write_text(sample_email_html(), encoding="utf-8")
    found = screenshot.positions(page, *viewport, "[data-cause]")
    assert len(found["elements"]) == len(CAUSES)  # the check sees every cause
    assert screenshot.below_first_screen(page, *viewport, "[data-cause]") == []
    # The page does go on below the fold: the task tables follow the causes.
    assert found["pageHeight"] > viewport[1]
