"""Render an HTML file in headless Chromium: a PNG at a given width, or element positions.

    python tools/screenshot.py shot PAGE.html OUT.png --width 900 [--height 700]
    python tools/screenshot.py positions PAGE.html --width 390 [--height 664] --selector CSS
    python tools/screenshot.py first-screen PAGE.html --selector CSS --viewport 900x700 ...

`shot` without --height captures the whole page. `positions` prints JSON: the viewport, the
page's full size and, for every element that matches the selector, its index, top, bottom,
left and right (CSS px from the top of the page) and first 80 characters of text.
`first-screen` says, per viewport, which matching elements end below its first screen, and
exits 1 if any does: the check behind "every cause is within the first screen".

Chromium is driven over its DevTools pipe (--remote-debugging-pipe, the standard library
only): the viewport is set exactly with Emulation.setDeviceMetricsOverride, because headless
Chromium's --window-size has a minimum width of 500 px and subtracts window decorations, so
a 390 px phone could not be measured with it. Layout is a desktop layout at the given width
(no mobile emulation), which is how phone mail apps lay out an email that fits the screen.

Chromium is Debian's `chromium` package (`apt-get install -y chromium`); CHROMIUM may name
another binary. Exit 2 when it is missing, 1 when rendering fails.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 60.0  # seconds for one page: start, load, measure, capture
MEASURE = """
(function (selector) {
  var found = Array.prototype.slice.call(document.querySelectorAll(selector));
  return {
    viewport: {width: window.innerWidth, height: window.innerHeight},
    pageHeight: Math.max(document.documentElement.scrollHeight, document.body.scrollHeight),
    pageWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    elements: found.map(function (el, i) {
      var r = el.getBoundingClientRect();
      return {index: i, top: r.top + window.scrollY, bottom: r.bottom + window.scrollY,
              left: r.left, right: r.right,
              text: (el.textContent || "").replace(/\\s+/g, " ").trim().slice(0, 80)};
    })
  };
})(%s)
"""


class ChromiumMissing(RuntimeError):
    pass


def find_chromium() -> str | None:
    named = os.environ.get("CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Page:
    """One headless Chromium with one page, driven over the DevTools pipe (fd 3 in, 4 out)."""

    def __init__(self, width: int, height: int) -> None:
        binary = find_chromium()
        if binary is None:
            raise ChromiumMissing(
                "Chromium not found: apt-get install -y chromium, or set CHROMIUM"
            )
        self.deadline = time.monotonic() + TIMEOUT
        self._profile = tempfile.TemporaryDirectory()
        to_child, self._out = os.pipe()
        self._in, from_child = os.pipe()

        def wire() -> None:  # in the child: the pipe ends on the fds Chromium expects
            # Moved out of the way first: either end may itself be fd 3 or 4.
            reads, writes = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_child, from_child))
            os.dup2(reads, 3)  # dup2 makes the copy inheritable
            os.dup2(writes, 4)

        self._proc = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",  # root in containers and CI has no user-namespace sandbox
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile.name}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire,  # noqa: PLW1509 - single-threaded tool
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session = ""
        try:
            targets = self.call("Target.getTargets")["targetInfos"]
            page = next(t for t in targets if t["type"] == "page")
            self.session = self.call(
                "Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}
            )["sessionId"]
            self.resize(width, height)
            self.call("Page.enable", session=True)
        except BaseException:
            self.close()
            raise

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            left = self.deadline - time.monotonic()
            ready, _, _ = select.select([self._in], [], [], max(left, 0))
            if not ready:
                raise RuntimeError(f"Chromium did not answer within {TIMEOUT:.0f}s")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        self._next_id += 1
        request = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = self.session
        try:
            os.write(self._out, json.dumps(request).encode() + b"\0")
        except BrokenPipeError as closed:
            raise RuntimeError(f"Chromium exited before {method}") from closed
        while True:
            message = self._read()
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str) -> None:
        while not any(m.get("method") == event for m in self.events):
            self.events.append(self._read())

    def resize(self, width: int, height: int) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )

    def open(self, page: Path) -> None:
        self.events.clear()
        self.call("Page.navigate", {"url": page.resolve().as_uri()}, session=True)
        self.wait_for("Page.loadEventFired")

    def measure(self, selector: str) -> dict:
        result = self.call(
            "Runtime.evaluate",
            {"expression": MEASURE % json.dumps(selector), "returnByValue": True},
            session=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"measuring {selector!r} failed: {result['exceptionDetails']}")
        return result["result"]["value"]

    def png(self) -> bytes:
        data = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        return base64.b64decode(data)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.call("Browser.close")
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._in)
        os.close(self._out)
        self._profile.cleanup()

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def positions(page: Path, width: int, height: int, selector: str) -> dict:
    """Viewport, page size and the box of every element matching `selector`."""
    with Page(width, height) as chrome:
        chrome.open(page)
        return chrome.measure(selector)


def shot(page: Path, out: Path, width: int, height: int | None) -> tuple[int, int]:
    """A PNG of the page at `width`; `height` None means the whole page."""
    with Page(width, height or 800) as chrome:
        chrome.open(page)
        if height is None:
            height = int(chrome.measure("body")["pageHeight"])
            chrome.resize(width, height)
        out.write_bytes(chrome.png())
    return width, height


def below_first_screen(page: Path, width: int, height: int, selector: str) -> list[str]:
    """The text of every element matching `selector` whose bottom is below the viewport."""
    found = positions(page, width, height, selector)
    return [e["text"] for e in found["elements"] if e["bottom"] > found["viewport"]["height"]]


def _viewport(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    if not (width.isdigit() and height.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 390x664")
    return int(width), int(height)


def _first_screen(page: Path, selector: str, viewports: list[tuple[int, int]]) -> int:
    missing = 0
    for width, height in viewports:
        below = below_first_screen(page, width, height, selector)
        missing += len(below)
        state = "all within the first screen" if not below else f"{len(below)} below it"
        print(f"{width}x{height}: {state}")
        for text in below:
            print(f"  below: {text}")
    return 1 if missing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("shot", help="write a PNG of the page")
    s.add_argument("page", type=Path)
    s.add_argument("out", type=Path)
    s.add_argument("--width", type=int, required=True)
    s.add_argument("--height", type=int, default=None, help="default: the whole page")
    p = sub.add_parser("positions", help="print the boxes of the elements matching a selector")
    p.add_argument("page", type=Path)
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--height", type=int, default=800)
    p.add_argument("--selector", required=True)
    f = sub.add_parser("first-screen", help="exit 1 if a matching element ends below the fold")
    f.add_argument("page", type=Path)
    f.add_argument("--selector", required=True)
    f.add_argument("--viewport", type=_viewport, action="append", required=True)
    args = parser.parse_args(argv)
    if not args.page.is_file():
        parser.error(f"{args.page}: no such file")
    try:
        if args.command == "shot":
            width, height = shot(args.page, args.out, args.width, args.height)
            print(f"{args.out}: {width}x{height}")
        elif args.command == "first-screen":
            return _first_screen(args.page, args.selector, args.viewport)
        else:
            print(json.dumps(positions(args.page, args.width, args.height, args.selector)))
    except ChromiumMissing as missing:
        print(missing, file=sys.stderr)
        return 2
    except RuntimeError as failed:
        print(failed, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
