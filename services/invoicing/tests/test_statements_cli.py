"""`make statements`: periods, the progress bar and the summary."""
from datetime import date

from invoicing.statements_cli import bar, last_month, month, summary


def test_a_month_is_its_first_and_last_day():
    assert month("2026-11") == ("2026-11-01", "2026-11-30")
    assert month("2028-02") == ("2028-02-01", "2028-02-29")
    assert last_month(date(2027, 1, 15)) == ("2026-12-01", "2026-12-31")


def test_progress_bar_and_summary():
    progress = {"id": "run_1", "period_start": "2026-11-01", "period_end": "2026-11-30",
                "status": "finished", "total": 10, "done": 5, "issued": 4, "skipped": 1,
                "total_due": 123456}
    assert bar(progress) == "[###############...............] 5/10 clients · 4 issued"
    text = summary(progress)
    assert "issued:    4" in text and "skipped:   1" in text and "$1,234.56" in text
