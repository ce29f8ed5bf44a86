"""Working-day calendar: checked against the State Council notices, not against the package.

Expected days are typed in from:
- 国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号，2024-11-12）
- 国务院办公厅关于2026年部分节假日安排的通知（2025-11-04）
"""

import datetime as dt

import duckdb
import pytest

from zhibu import workdays
from zhibu.workdays import (
    CalendarOverrideError,
    CalendarYearNotCovered,
    WorkdayCalendar,
    add_workdays,
    register_calendar,
    workdays_between,
)

D = dt.date


def _span(a: dt.date, b: dt.date) -> set[dt.date]:
    return {a + dt.timedelta(days=i) for i in range((b - a).days + 1)}


# 放假 (days off, weekends inside the break included) and 调休上班 (weekend days that are worked),
# as printed in the notices.
OFFICIAL = {
    2025: {
        "off": (
            {D(2025, 1, 1)}  # 元旦 1月1日（周三）放假1天，不调休
            | _span(D(2025, 1, 28), D(2025, 2, 4))  # 春节 1月28日至2月4日，共8天
            | _span(D(2025, 4, 4), D(2025, 4, 6))  # 清明 4月4日至6日
            | _span(D(2025, 5, 1), D(2025, 5, 5))  # 劳动节 5月1日至5日
            | _span(D(2025, 5, 31), D(2025, 6, 2))  # 端午 5月31日至6月2日
            | _span(D(2025, 10, 1), D(2025, 10, 8))  # 国庆节、中秋节 10月1日至8日，共8天
        ),
        # 1月26日（周日）、2月8日（周六）、4月27日（周日）、9月28日（周日）、10月11日（周六）上班
        "worked_weekends": {D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)},
    },
    2026: {
        "off": (
            _span(D(2026, 1, 1), D(2026, 1, 3))  # 元旦 1月1日至3日
            | _span(D(2026, 2, 15), D(2026, 2, 23))  # 春节 2月15日至23日，共9天
            | _span(D(2026, 4, 4), D(2026, 4, 6))  # 清明 4月4日至6日
            | _span(D(2026, 5, 1), D(2026, 5, 5))  # 劳动节 5月1日至5日
            | _span(D(2026, 6, 19), D(2026, 6, 21))  # 端午 6月19日至21日
            | _span(D(2026, 9, 25), D(2026, 9, 27))  # 中秋 9月25日至27日
            | _span(D(2026, 10, 1), D(2026, 10, 7))  # 国庆 10月1日至7日
        ),
        # 1月4日（周日）、2月14日（周六）、2月28日（周六）、5月9日（周六）、9月20日（周日）、10月10日（周六）上班
        "worked_weekends": {
            D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10),
        },
    },
}


def official_is_workday(day: dt.date) -> bool:
    notice = OFFICIAL[day.year]
    if day in notice["worked_weekends"]:
        return True
    return day.weekday() < 5 and day not in notice["off"]


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_of_the_year_matches_the_notice(year):
    wrong = [d for d in _span(D(year, 1, 1), D(year, 12, 31)) if workdays.is_workday(d) != official_is_workday(d)]
    assert wrong == []


def test_worked_weekend_days_are_weekends():
    # guards the test data itself: 调休上班 days are Saturdays or Sundays
    for notice in OFFICIAL.values():
        assert all(d.weekday() >= 5 for d in notice["worked_weekends"])


@pytest.mark.parametrize(
    "start, n, expected",
    [
        # 2025 春节: Sunday 1-26 worked, 1-28..2-4 off, Saturday 2-8 worked
        (D(2025, 1, 24), 1, D(2025, 1, 26)),
        (D(2025, 1, 26), 1, D(2025, 1, 27)),
        (D(2025, 1, 27), 1, D(2025, 2, 5)),
        (D(2025, 2, 7), 1, D(2025, 2, 8)),
        (D(2025, 2, 8), 1, D(2025, 2, 10)),
        # 20 working days across the Spring Festival: 18 in January (1-26 included), 2-5, 2-6
        (D(2025, 1, 2), 20, D(2025, 2, 6)),
        # 劳动节: Sunday 4-27 worked, 5-1..5-5 off
        (D(2025, 4, 25), 1, D(2025, 4, 27)),
        (D(2025, 4, 30), 1, D(2025, 5, 6)),
        # 国庆+中秋 2025: Sunday 9-28 worked, 10-1..10-8 off, Saturday 10-11 worked
        (D(2025, 9, 26), 1, D(2025, 9, 28)),
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        (D(2025, 9, 26), 5, D(2025, 10, 10)),  # 9-28, 9-29, 9-30, 10-9, 10-10
        (D(2025, 10, 10), 1, D(2025, 10, 11)),
        (D(2025, 10, 1), 1, D(2025, 10, 9)),  # start on a holiday: not counted either
        (D(2025, 9, 30), 10, D(2025, 10, 21)),  # 10-9,10,11,13,14,15,16,17,20,21
        # New Year 2026: 1-1..1-3 off, Sunday 1-4 worked
        (D(2025, 12, 31), 1, D(2026, 1, 4)),
        (D(2025, 12, 31), 2, D(2026, 1, 5)),
        # 春节 2026: Saturday 2-14 worked, 2-15..2-23 off, Saturday 2-28 worked
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 14), 1, D(2026, 2, 24)),
        (D(2026, 2, 13), 5, D(2026, 2, 27)),  # 2-14, 2-24, 2-25, 2-26, 2-27
        (D(2026, 2, 14), 5, D(2026, 2, 28)),
        (D(2026, 2, 27), 1, D(2026, 2, 28)),
        # 劳动节 2026: 5-1..5-5 off, Saturday 5-9 worked
        (D(2026, 4, 30), 1, D(2026, 5, 6)),
        (D(2026, 5, 8), 1, D(2026, 5, 9)),
        # 中秋 + 国庆 2026: Sunday 9-20 worked, 9-25..9-27 off, 10-1..10-7 off, Saturday 10-10 worked
        (D(2026, 9, 18), 1, D(2026, 9, 20)),
        (D(2026, 9, 24), 1, D(2026, 9, 28)),
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 10, 9), 1, D(2026, 10, 10)),
        # n = 0 is the start day itself
        (D(2025, 10, 3), 0, D(2025, 10, 3)),
    ],
)
def test_add_workdays(start, n, expected):
    assert add_workdays(start, n) == expected


def test_add_workdays_accepts_iso_strings_and_rejects_negative():
    assert add_workdays("2025-09-26", 5) == D(2025, 10, 10)
    with pytest.raises(ValueError):
        add_workdays(D(2025, 1, 1), -1)


def test_workdays_between():
    assert workdays_between(D(2025, 9, 26), D(2025, 10, 10)) == 5
    assert workdays_between(D(2025, 10, 1), D(2025, 10, 8)) == 0
    assert workdays_between(D(2026, 2, 13), D(2026, 2, 28)) == 6
    assert workdays_between(D(2026, 2, 28), D(2026, 2, 13)) == -6


def test_uncovered_year_is_an_error_naming_the_year():
    cal = WorkdayCalendar(override_file=None)
    with pytest.raises(CalendarYearNotCovered) as err:
        cal.is_workday(D(2099, 3, 2))
    assert err.value.year == 2099 and "2099" in str(err.value)
    # a deadline that runs past the last covered year fails too, naming the next year
    last = cal.package_years.stop - 1
    with pytest.raises(CalendarYearNotCovered, match=str(last + 1)):
        cal.add_workdays(D(last, 12, 31), 1)
    with pytest.raises(CalendarYearNotCovered, match="1990"):
        cal.add_workdays(D(1990, 5, 1), 1)


def test_override_supplies_an_uncovered_year(tmp_path):
    override = tmp_path / "override.yaml"
    override.write_text(
        "years:\n"
        "  2099:\n"
        "    source: test notice\n"
        "    holidays: [2099-01-01, 2099-01-02]\n"
        "    workdays: [2099-01-04]\n",
        encoding="utf-8",
    )
    cal = WorkdayCalendar(override_file=override)
    assert cal.covers(2099)
    # 2099-01-01 is a Thursday: off; Friday 1-2 off; Sunday 1-4 worked
    assert not cal.is_workday(D(2099, 1, 1))
    assert not cal.is_workday(D(2099, 1, 2))
    assert not cal.is_workday(D(2099, 1, 3))
    assert cal.is_workday(D(2099, 1, 4))
    assert cal.add_workdays(D(2099, 1, 1), 2) == D(2099, 1, 5)


def test_override_replaces_a_covered_year(tmp_path):
    override = tmp_path / "override.yaml"
    override.write_text("years:\n  2025:\n    source: test notice\n    holidays: [2025-03-03]\n", encoding="utf-8")
    cal = WorkdayCalendar(override_file=override)
    assert not cal.is_workday(D(2025, 3, 3))
    assert cal.is_workday(D(2025, 10, 1))  # the year is taken wholly from the override


def test_malformed_override_is_rejected(tmp_path):
    override = tmp_path / "override.yaml"
    override.write_text("years:\n  2099:\n    source: test notice\n    holidays: [2098-12-31]\n", encoding="utf-8")
    with pytest.raises(CalendarOverrideError, match="2098-12-31"):
        WorkdayCalendar(override_file=override)


def test_shipped_override_file_loads():
    cal = WorkdayCalendar()
    assert cal.covers(2025) and cal.covers(2026)


def test_register_calendar_table_and_macros(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    register_calendar(con, 2025, 2026)
    cols = con.execute("SELECT column_name, data_type FROM information_schema.columns "
                       "WHERE table_name = 'workdays' ORDER BY ordinal_position").fetchall()
    assert cols == [("day", "DATE"), ("is_workday", "BOOLEAN"), ("workday_seq", "INTEGER")]
    rows = con.execute("SELECT day, is_workday, workday_seq FROM workdays ORDER BY day").fetchall()
    assert len(rows) == 365 + 365
    seq = 0
    for day, working, workday_seq in rows:
        assert working == official_is_workday(day)
        seq += working
        assert workday_seq == seq
    # set-based "n-th working day after" agrees with the Python calendar
    mismatches = con.execute(
        """
        SELECT d.day, n, nth_workday_after(d.day, n) AS sql_deadline
        FROM workdays AS d, (VALUES (1), (5), (10), (20)) AS t(n)
        WHERE d.day <= DATE '2026-11-30'
        """
    ).fetchall()
    assert all(add_workdays(day, n) == got for day, n, got in mismatches)
    assert con.execute("SELECT nth_workday_after(DATE '2026-02-13', 5), "
                       "workdays_between(DATE '2026-02-13', DATE '2026-02-28')").fetchone() == (D(2026, 2, 27), 6)
    # past the registered range the deadline is unknown (NULL), never a guess
    assert con.execute("SELECT nth_workday_after(DATE '2026-12-30', 5)").fetchone() == (None,)


def test_register_calendar_refuses_uncovered_year(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    cal = WorkdayCalendar(override_file=None)
    first_missing = cal.package_years.stop
    with pytest.raises(CalendarYearNotCovered, match=str(first_missing)):
        register_calendar(con, 2026, first_missing, calendar=cal)
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'workdays'").fetchone() == (0,)
