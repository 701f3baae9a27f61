import pytest

from shipper_alert.durations import format_duration, parse_duration, parse_iso_time


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("5m", 300),
        ("1h30m", 5400),
        ("2d", 172800),
        ("1d2h3m4s", 93784),
        (" 5M ", 300),
        ("0", 0),
    ],
)
def test_parse_duration_accepts_the_documented_forms(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5 m", "m", "1.5h", "-5m", "5x", "30m1h", "h1"])
def test_parse_duration_rejects_anything_else_naming_the_forms(text):
    with pytest.raises(ValueError, match="is not a duration \\(use 90, 90s, 5m, 1h30m or 2d\\)"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (59, "59s"), (300, "5m"), (5400, "1h30m"), (172800, "2d")]
)
def test_format_duration_round_trips(seconds, text):
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2026-11-28T08:00:00Z", 1795852800),
        ("2026-11-28T08:00:00z", 1795852800),
        ("2026-11-28T16:00:00+08:00", 1795852800),
        ("2026-11-28T08:00:00", 1795852800),  # no zone: UTC
        (" 2026-11-28T08:00:00.9Z ", 1795852800),  # Python 3.10 takes only 3 or 6 digits
        ("2026-11-28T08:00:01.1234567+00:00", 1795852801),
    ],
)
def test_parse_iso_time(text, epoch):
    assert parse_iso_time(text) == epoch


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z"])
def test_parse_iso_time_rejects_other_text(text):
    with pytest.raises(ValueError, match=r"."):
        parse_iso_time(text)
