"""Nothing lost when a month fails at any stage; the working-day calendar and 2027; review
decisions only for proposed pairs. Real flows, real DuckDB files."""
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import SAMPLE
from flows.monthly import STAGES, RunFailed, monthly_run


def _owed(wh: Path, months: list[str]) -> dict:
    """Listed amount per (policy, beneficiary, person) over the published months."""
    con = duckdb.connect(str(wh), read_only=True)
    rows = con.execute(
        "SELECT policy_code, beneficiary_id, person_id_number, sum(amount) FROM eligibility "
        "WHERE run_month IN (SELECT run_month FROM published_runs) AND run_month IN "
        f"({','.join('?' * len(months))}) GROUP BY ALL", months).fetchall()
    con.close()
    return {r[:3]: r[3] for r in rows}


@pytest.mark.parametrize("stage", STAGES)
def test_fail_at_a_stage_then_next_month_loses_nothing_and_lists_nothing_twice(
        sample_run, sample_months, tmp_path, stage, monkeypatch):
    ref_wh, _ = sample_run
    first, second = sample_months[0], sample_months[1]
    wh, out = tmp_path / "wh.duckdb", tmp_path / "out"
    monkeypatch.setenv("ZHIBU_FAIL_AT", stage)
    with pytest.raises(RunFailed) as failed:
        monthly_run(month=first, input_dir=str(SAMPLE / "incoming" / first), warehouse=str(wh), output=str(out))
    assert failed.value.stage == stage and failed.value.month == first
    assert not (out / first).exists()
    monkeypatch.delenv("ZHIBU_FAIL_AT")
    monthly_run(month=second, input_dir=str(SAMPLE / "incoming" / second), warehouse=str(wh), output=str(out))

    con = duckdb.connect(str(wh), read_only=True)
    assert [r[0] for r in con.execute("SELECT run_month FROM published_runs").fetchall()] == [second]
    # nothing listed twice: one row per decision key in the published months
    dup = con.execute("SELECT count(*) - count(DISTINCT (policy_code, beneficiary_id, person_id_number, "
                      "period_start)) FROM eligibility WHERE run_month IN (SELECT run_month FROM published_runs)"
                      ).fetchone()[0]
    ledger = {r for r in con.execute("SELECT policy_code, beneficiary_id, person_id_number FROM exclusions "
                                     "WHERE run_month = ? AND reason = 'ledger_granted'", [second]).fetchall()}
    con.close()
    assert dup == 0
    if stage == "load":          # the first month's extracts never got in: the run saw only the second
        return
    # nothing lost: what the uninterrupted runs listed over both months is listed by the second,
    # except what the ledger shows as granted meanwhile (then it is not owed any more)
    expected = {k: v for k, v in _owed(ref_wh, [first, second]).items() if k not in ledger}
    got = _owed(wh, [first, second])
    assert {k: v for k, v in got.items() if k not in ledger} == expected


def _month_folder(tmp_path: Path, month: str, sample_month: str = "2025-06") -> Path:
    d = tmp_path / "incoming" / month
    shutil.copytree(SAMPLE / "incoming" / sample_month, d)
    return d


def _override(tmp_path: Path) -> Path:
    f = tmp_path / "override.yaml"
    # test data in the override format (NOT the official 2027 notice)
    f.write_text("years:\n  2027:\n    source: test fixture (format only, not the official notice)\n"
                 "    holidays: [2027-01-01, 2027-02-08, 2027-02-09]\n    workdays: [2027-02-07]\n",
                 encoding="utf-8")
    return f


def test_october_warns_2027_stops_at_start_and_runs_with_the_override(prefect_harness, tmp_path, monkeypatch):
    import datetime as dt
    from schemas import loader
    monkeypatch.delenv("ZHIBU_WORKDAYS_OVERRIDE", raising=False)
    wh, out = tmp_path / "w" / "wh.duckdb", tmp_path / "out"
    # October 2026: next year's schedule is missing -> the report and the manifest warn
    folder = Path(monthly_run(month="2026-10", input_dir=str(_month_folder(tmp_path, "2026-10")),
                              warehouse=str(wh), output=str(out)))
    cal = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["calendar"]
    assert cal["next_year"] == 2027 and cal["next_year_covered"] is False and "2027" in cal["warning"]
    assert "2027年工作日历" in (folder / "report.html").read_text(encoding="utf-8")

    # January 2027 without the schedule: fails at the start, nothing written
    jan = _month_folder(tmp_path, "2027-01", "2025-05")
    before = {p: p.stat().st_mtime_ns for p in wh.parent.iterdir()}
    with pytest.raises(RunFailed) as failed:
        monthly_run(month="2027-01", input_dir=str(jan), warehouse=str(wh), output=str(out))
    assert failed.value.stage == "start" and "2027" in str(failed.value.cause)
    assert "docs/calendar.md" in str(failed.value.cause)
    assert {p: p.stat().st_mtime_ns for p in wh.parent.iterdir()} == before
    assert not (out / "2027-01").exists()

    # with the year in an override file: the run gets through (clock set to February 2027 so the
    # loader accepts the month; everything else real)
    monkeypatch.setenv("ZHIBU_WORKDAYS_OVERRIDE", str(_override(tmp_path)))
    real_check = loader.check_run_month
    monkeypatch.setattr(loader, "check_run_month",
                        lambda month, input_dir, today=None: real_check(month, input_dir, dt.date(2027, 2, 5)))
    folder = Path(monthly_run(month="2027-01", input_dir=str(jan), warehouse=str(wh), output=str(out)))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert "2027" in manifest["calendar"]["override_sources"]
    assert manifest["calendar"]["warning"] is None


def test_review_decision_for_an_unproposed_pair_is_refused(tmp_path):
    from matchers.review import check_proposed, read_decisions, record_proposed
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("CREATE TABLE review_queue (run_month VARCHAR, kind VARCHAR, left_id VARCHAR, left_name VARCHAR, "
                "right_id VARCHAR)")
    con.execute("INSERT INTO review_queue VALUES ('2025-06', 'person', '152101197906077958', '李嘉', "
                "'152101197906077978')")
    record_proposed(con)
    con.execute("DELETE FROM review_queue")        # a later re-run confirmed it: still valid
    f = tmp_path / "review_decisions.csv"
    f.write_text("kind,raw_id,name,candidate_id,decision,reviewer,date\n"
                 "person,152101197906077958,李嘉,152101197906077978,confirm,王,2025-07-01\n", encoding="utf-8")
    check_proposed(con, read_decisions(f), f)
    f.write_text(f.read_text(encoding="utf-8") +
                 "person,152101197906077958,李嘉,150102199003071234,confirm,王,2025-07-01\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3: .*never proposed"):
        check_proposed(con, read_decisions(f), f)
