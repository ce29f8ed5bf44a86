"""Working-day calendar (工作日) for the 核查 deadlines.

The official calendar is the State Council's yearly holiday notice (国务院办公厅关于XXXX年部分节假日
安排的通知), with its 调休: some weekdays are days off, some Saturdays/Sundays are working days.
The `chinesecalendar` package carries those notices; `workdays_override.yaml` (next to this file)
supplies years the package does not cover yet (or corrects one). A date in a year covered by
neither is an error naming the year (`CalendarYearNotCovered`), never a guess.

Terms used throughout:
- `add_workdays(start, n)`: the n-th working day after `start`; `start` itself is not counted,
  whether or not it is a working day ("5 working days after apply_date").
- `workdays_between(a, b)`: the number of working days d with a < d <= b.
- `register_calendar(con, y0, y1)`: a DuckDB table `workdays(day, is_workday, workday_seq)` for
  set-based SQL, `workday_seq` = working days from 1 January of y0 up to and including `day`.
  The n-th working day after d is the working day whose seq equals seq(d) + n. The table comes
  with two macros: `nth_workday_after(d, n)` and `workdays_between(a, b)`.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import yaml

import os

DEFAULT_OVERRIDE_FILE = Path(__file__).with_name("workdays_override.yaml")
OVERRIDE_ENV = "ZHIBU_WORKDAYS_OVERRIDE"     # another override file (tests, a site's own copy)


def override_file() -> Path:
    return Path(os.environ.get(OVERRIDE_ENV) or DEFAULT_OVERRIDE_FILE)


class CalendarYearNotCovered(LookupError):
    """A date falls in a year for which no official working-day calendar is available."""

    def __init__(self, year: int, covered: str):
        self.year = year
        super().__init__(
            f"no working-day calendar for year {year} (covered: {covered}); add {year}'s holidays and "
            f"调休 workdays from 国务院办公厅关于{year}年部分节假日安排的通知 (www.gov.cn) to "
            f"{override_file()} as docs/calendar.md describes, then run again"
        )


class CalendarOverrideError(ValueError):
    """The override file is malformed."""


def _as_date(value: dt.date | dt.datetime | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    raise TypeError(f"expected a date, got {type(value).__name__}")


class WorkdayCalendar:
    """Official working days: chinesecalendar, with per-year overrides taking precedence."""

    def __init__(self, override_file: Path | str | None = DEFAULT_OVERRIDE_FILE):
        self.sources: dict[int, str] = {}
        import chinese_calendar
        from chinese_calendar import constants

        self._package = chinese_calendar
        self.package_years = range(min(constants.holidays).year, max(constants.holidays).year + 1)
        self.override_holidays: dict[int, frozenset[dt.date]] = {}
        self.override_workdays: dict[int, frozenset[dt.date]] = {}
        if override_file is not None and Path(override_file).exists():
            self._load_override(Path(override_file))

    def _load_override(self, path: Path) -> None:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        years = doc.get("years") or {}
        if not isinstance(years, dict):
            raise CalendarOverrideError(f"{path}: 'years' must be a mapping year -> holidays/workdays")
        for year, entry in years.items():
            year = int(year)
            entry = entry or {}
            unknown = set(entry) - {"holidays", "workdays", "source"}
            if unknown:
                raise CalendarOverrideError(f"{path}: year {year}: unknown keys {sorted(unknown)}")
            if not str(entry.get("source") or "").strip():
                raise CalendarOverrideError(f"{path}: year {year}: 'source' (the State Council notice, "
                                            "its number and date) is required")
            holidays = frozenset(_as_date(d) for d in entry.get("holidays") or [])
            workdays = frozenset(_as_date(d) for d in entry.get("workdays") or [])
            for d in holidays | workdays:
                if d.year != year:
                    raise CalendarOverrideError(f"{path}: {d} is listed under year {year}")
            if holidays & workdays:
                raise CalendarOverrideError(
                    f"{path}: year {year}: listed both as holiday and workday: {sorted(holidays & workdays)}"
                )
            self.override_holidays[year] = holidays
            self.override_workdays[year] = workdays
            self.sources[year] = str(entry["source"]).strip()

    # -- coverage -------------------------------------------------------------------------------
    def covers(self, year: int) -> bool:
        return year in self.override_holidays or year in self.package_years

    def covered_description(self) -> str:
        text = f"chinesecalendar {self.package_years.start}-{self.package_years.stop - 1}"
        if self.override_holidays:
            text += ", override " + ", ".join(str(y) for y in sorted(self.override_holidays))
        return text

    def check_year(self, year: int) -> None:
        if not self.covers(year):
            raise CalendarYearNotCovered(year, self.covered_description())

    # -- days -----------------------------------------------------------------------------------
    def is_workday(self, day: dt.date | dt.datetime | str) -> bool:
        day = _as_date(day)
        self.check_year(day.year)
        if day.year in self.override_holidays:
            if day in self.override_workdays[day.year]:
                return True
            if day in self.override_holidays[day.year]:
                return False
            return day.weekday() < 5
        return bool(self._package.is_workday(day))

    def add_workdays(self, start: dt.date | dt.datetime | str, n: int) -> dt.date:
        """The n-th working day after `start` (start not counted). n = 0 returns start."""
        day = _as_date(start)
        if n < 0:
            raise ValueError("n must be >= 0")
        self.check_year(day.year)
        remaining = n
        while remaining > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return day

    def workdays_between(self, after: dt.date | dt.datetime | str, upto: dt.date | dt.datetime | str) -> int:
        """Working days d with after < d <= upto (negative if upto < after)."""
        a, b = _as_date(after), _as_date(upto)
        if b < a:
            return -self.workdays_between(b, a)
        self.check_year(a.year)
        count, day = 0, a
        while day < b:
            day += dt.timedelta(days=1)
            count += self.is_workday(day)
        return count

    def days(self, start_year: int, end_year: int) -> Iterable[tuple[dt.date, bool]]:
        for year in range(start_year, end_year + 1):
            self.check_year(year)
        day = dt.date(start_year, 1, 1)
        while day.year <= end_year:
            yield day, self.is_workday(day)
            day += dt.timedelta(days=1)


@lru_cache(maxsize=4)
def _calendar(path: str, mtime: float) -> WorkdayCalendar:
    return WorkdayCalendar(path)


def default_calendar() -> WorkdayCalendar:
    """The calendar of the override file in force (re-read when the file changes)."""
    path = override_file()
    return _calendar(str(path), path.stat().st_mtime if path.exists() else -1.0)


def is_workday(day: dt.date | dt.datetime | str) -> bool:
    return default_calendar().is_workday(day)


def add_workdays(start: dt.date | dt.datetime | str, n: int) -> dt.date:
    """The n-th working day after `start` (the start day itself is not counted)."""
    return default_calendar().add_workdays(start, n)


def workdays_between(after: dt.date | dt.datetime | str, upto: dt.date | dt.datetime | str) -> int:
    return default_calendar().workdays_between(after, upto)


def register_calendar(con, start_year: int, end_year: int, calendar: WorkdayCalendar | None = None) -> None:
    """Write table `workdays(day DATE, is_workday BOOLEAN, workday_seq INTEGER)` for the years
    start_year..end_year (replacing any previous one), plus the macros
    `nth_workday_after(d, n)` (NULL when it falls after end_year) and `workdays_between(a, b)`.
    Raises CalendarYearNotCovered before touching the database if a year is not covered."""
    if end_year < start_year:
        raise ValueError(f"end_year {end_year} < start_year {start_year}")
    calendar = calendar or default_calendar()
    rows, seq = [], 0
    for day, working in calendar.days(start_year, end_year):
        seq += working
        rows.append((day.isoformat(), working, seq))
    values = ",".join(f"(DATE '{d}', {str(w).lower()}, {s})" for d, w, s in rows)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE workdays AS
        SELECT day, is_workday, workday_seq::INTEGER AS workday_seq
        FROM (VALUES {values}) AS t(day, is_workday, workday_seq)
        ORDER BY day
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP MACRO nth_workday_after(d, n) AS (
            SELECT w.day FROM workdays AS w
            WHERE w.is_workday
              AND w.workday_seq = (SELECT s.workday_seq FROM workdays AS s WHERE s.day = d) + n
        )
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP MACRO workdays_between(a, b) AS (
            (SELECT wb.workday_seq FROM workdays AS wb WHERE wb.day = b)
            - (SELECT wa.workday_seq FROM workdays AS wa WHERE wa.day = a)
        )
        """
    )
