"""Collects each adversarial case's time and peak memory and prints them as a table."""

from __future__ import annotations

import pytest

_ROWS: list[tuple[str, float, float]] = []


@pytest.fixture
def adversarial_table() -> list[tuple[str, float, float]]:
    return _ROWS


def pytest_terminal_summary(terminalreporter) -> None:
    if not _ROWS:
        return
    terminalreporter.section("adversarial cases: time to return, peak RSS of the child")
    width = max(len(name) for name, _, _ in _ROWS)
    terminalreporter.write_line(f"{'case'.ljust(width)}  {'seconds':>7}  {'peak MB':>7}")
    for name, seconds, megabytes in _ROWS:
        terminalreporter.write_line(f"{name.ljust(width)}  {seconds:7.2f}  {megabytes:7.1f}")
