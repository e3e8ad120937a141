"""The test run's summary says when the shipped CA bundle's copy is over a year old."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.bundle_age import MANIFEST, stale_message, summary_line

MANIFEST_FIELDS = {"copied": "2026-12-02", "source_url": "https://example.test/bundle.pem"}


@pytest.mark.parametrize("today", [date(2026, 12, 2), date(2027, 12, 2)])
def test_a_copy_up_to_a_year_old_says_nothing(today: date) -> None:
    assert stale_message(MANIFEST_FIELDS, today) is None


def test_an_older_copy_is_named_with_its_age_and_what_to_do() -> None:
    message = stale_message(MANIFEST_FIELDS, date(2027, 12, 3))
    assert message is not None
    assert "2026-12-02 (366 days ago)" in message
    assert "https://example.test/bundle.pem" in message
    assert "manifest.json" in message


def test_the_summary_reads_the_shipped_manifest() -> None:
    copied = date.fromisoformat(json.loads(MANIFEST.read_text())["copied"])
    assert summary_line(copied) is None
    assert summary_line(date(copied.year + 2, copied.month, 1)) is not None


class Reporter:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write_sep(self, sep: str, title: str, **markup: bool) -> None:
        self.lines.append(f"{sep * 3} {title} {sep * 3}")

    def write_line(self, line: str) -> None:
        self.lines.append(line)


def test_the_hook_writes_the_summary_only_when_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.bundle_age
    from tests.conftest import pytest_terminal_summary

    copied = date.fromisoformat(json.loads(MANIFEST.read_text())["copied"])
    fresh, stale = Reporter(), Reporter()
    monkeypatch.setattr(tests.bundle_age, "summary_line", lambda: summary_line(copied))
    pytest_terminal_summary(fresh)  # type: ignore[arg-type]
    assert fresh.lines == []
    later = copied.replace(year=2099)
    monkeypatch.setattr(tests.bundle_age, "summary_line", lambda: summary_line(later))
    pytest_terminal_summary(stale)  # type: ignore[arg-type]
    assert stale.lines[0] == "=== RDS CA bundle ==="
    assert "shipped RDS CA bundle was copied on" in stale.lines[1]
