"""Where the spec tests' fixture data lives: tests/data/specs/ (good sites, bad-spec cases)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "specs"
GOOD_SITE = DATA / "good" / "minimal"
BAD_CASES = DATA / "bad"
SHIPPED_INVENTORY = Path(__file__).resolve().parents[2] / "inventory"
TODAY = date(2026, 6, 1)  # every test judges waiver expiry as of this day
