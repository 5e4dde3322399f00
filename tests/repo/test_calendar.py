"""The holidays of a year: the table's rows merged with the NYSE calendar, table first."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import insert

from rms.db.database import Database
from rms.repo.calendar import year_holidays
from rms.schema.tables import Holiday
from rms.schema.types import utcnow


def _row(key: str, day: date, name: str, *, deleted: bool = False) -> dict[str, object]:
    now = utcnow()
    return {
        "id": key,
        "date": datetime(day.year, day.month, day.day, tzinfo=UTC),
        "name": name,
        "createdAt": now,
        "updatedAt": now,
        "version": 1,
        "deletedAt": now if deleted else None,
    }


def test_a_year_far_ahead_comes_from_the_calendar(db: Database) -> None:
    days = db.run(lambda s: year_holidays(s, 2041))
    assert {h.source for h in days} == {"calendar"}
    by_day = {h.day: h.name for h in days}
    assert by_day[date(2041, 12, 25)] == "Christmas Day"
    assert date(2041, 7, 4) in by_day and len(days) >= 9
    assert [h.day for h in days] == sorted(h.day for h in days)


def test_the_table_wins_and_adds_its_own_days(db: Database) -> None:
    rows = [
        _row("h1", date(2041, 12, 25), "Christmas"),  # renamed
        _row("h2", date(2041, 3, 5), "Day of mourning"),  # not in the calendar
        _row("h3", date(2041, 7, 4), "Deleted row", deleted=True),
        _row("h4", date(2040, 3, 6), "Another year"),
    ]
    db.run(lambda s: s.execute(insert(Holiday), rows), write=True)
    days = {h.day: h for h in db.run(lambda s: year_holidays(s, 2041))}
    christmas = days[date(2041, 12, 25)]
    assert (christmas.name, christmas.source, christmas.calendar_name) == (
        "Christmas",
        "table",
        "Christmas Day",
    )
    assert days[date(2041, 3, 5)].source == "table"
    assert days[date(2041, 3, 5)].calendar_name is None
    assert days[date(2041, 7, 4)].source == "calendar"  # the deleted row does not count
    assert date(2040, 3, 6) not in days
