"""What the migration commands show, from a report alone: the summary and accounting lines."""

from __future__ import annotations

from rich.console import Console

from rms.migrate.cli.output import STAND_INS_SHOWN, accounting_lines, summary
from rms.migrate.report import MigrationReport, TableReport


def _report() -> MigrationReport:
    report = MigrationReport(run_id="r1")
    report.tables["accounts"] = TableReport(name="accounts")
    return report


def test_the_summary_has_a_row_per_table_and_a_total() -> None:
    console = Console(width=200, record=True)
    console.print(summary(_report(), "migrated, run r1"))
    text = console.export_text()
    assert "migrated, run r1" in text
    assert "accounts" in text
    assert "total" in text


def test_accounting_lines_name_where_the_source_went() -> None:
    report = _report()
    report.accounting = {
        "history_point": {"description": "migration 05"},
        "archived": {"trades.note": 2, "old_table": 3},
        "derived": {"trades": {"quantity": "from the amount", "*": "ignored"}},
        "left_behind": {"junk": 1},
        "stand_ins": [
            {"table": "accounts", "id": i, "name": f"stand-in account {i}", "referenced_by": {}}
            for i in range(STAND_INS_SHOWN + 2)
        ],
    }
    report.notes = ["a note"]
    lines = accounting_lines(report)
    assert lines[0] == "source schema: migration 05"
    assert lines[1] == (
        "archived into rms_archive (origin migrate:r1): trades.note 2 value(s), old_table 3 row(s)"
    )
    assert lines[2] == "trades.quantity: derived from the amount"
    assert sum(line.startswith("stand-in accounts") for line in lines) == STAND_INS_SHOWN
    assert "... and 2 more stand-ins" in lines[3 + STAND_INS_SHOWN]
    assert lines[-2:] == [
        "a note",
        "left behind in the SQLite file (--leave-behind): junk (1 row(s))",
    ]
