"""The holidays page: any year, by year, the table's rows and the NYSE calendar's."""

from __future__ import annotations

from tests.web.conftest import Pages


def test_a_year_beyond_the_table_has_the_nyse_calendar(pages: Pages) -> None:
    html = pages.get("/holidays?year=2045").text
    assert "2045-12-25" in html and "Christmas Day" in html and "NYSE calendar" in html
    assert 'href="/holidays?year=2044"' in html and 'href="/holidays?year=2046"' in html
    assert 'data-source="table"' not in html


def test_seeded_years_say_recorded(pages: Pages) -> None:
    html = pages.get("/holidays?year=2025").text
    assert 'data-source="table"' in html and "Recorded" in html and "Christmas" in html


def test_a_bad_year_is_said_and_the_ends_have_no_link_beyond(pages: Pages) -> None:
    bad = pages.get("/holidays?year=20x5")
    assert bad.status_code == 400
    assert "is not a year from 1900 to 2199" in bad.text
    first = pages.get("/holidays?year=1900").text
    assert 'href="/holidays?year=1899"' not in first and 'href="/holidays?year=1901"' in first
    last = pages.get("/holidays?year=2199").text
    assert 'href="/holidays?year=2200"' not in last
