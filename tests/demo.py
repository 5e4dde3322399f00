"""The day the tests' demo portfolio runs through.

``seed_demo`` runs through today by default; the tests pin the day so their figures do not
move with the calendar. Through 2025-12-31 the rows are exactly those the demo had before it
ran to the seeding day (its last dividends on 2025-12-28), the ones the fixtures were made
from: the months after it are the tests' own.
"""

from __future__ import annotations

from datetime import date

DEMO_THROUGH = date(2025, 12, 31)
