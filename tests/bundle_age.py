"""How old the shipped RDS CA bundle is, for a line in the test run's summary.

AWS adds regions' roots every few months; a copy over a year old probably lacks some. This is
said in the terminal summary rather than as a Python warning, because the suite turns warnings
into errors and an old copy is a reason to refresh it, not a broken build.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

MANIFEST = Path(__file__).resolve().parents[1] / "rds_iam_auth" / "_data" / "manifest.json"
MAX_AGE_DAYS = 365


def stale_message(manifest: dict[str, object], today: date) -> str | None:
    """A sentence for the summary when the bundle was copied over a year before ``today``."""
    copied = date.fromisoformat(str(manifest["copied"]))
    age_days = (today - copied).days
    if age_days <= MAX_AGE_DAYS:
        return None
    return (
        f"the shipped RDS CA bundle was copied on {copied} ({age_days} days ago): compare "
        f"{manifest['source_url']} with rds_iam_auth/_data/global-bundle.pem and refresh both "
        "it and manifest.json (new regions' roots appear every few months)"
    )


def summary_line(today: date | None = None) -> str | None:
    """:func:`stale_message` for the manifest in this checkout."""
    manifest = json.loads(MANIFEST.read_text("utf-8"))
    return stale_message(manifest, today or date.today())
