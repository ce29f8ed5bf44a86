"""Review in Excel, round trip: the month's queue to a real xlsx, decisions typed in with
openpyxl as an analyst would, imported through the CLI, applied by the real next run."""
from __future__ import annotations

import csv
import datetime as dt

import duckdb
import openpyxl
import pytest

from conftest import SAMPLE
from matchers.review_xlsx import COLUMNS, DECISION_HEADERS, SHEET

pytestmark = pytest.mark.slow


def test_review_round_trip_through_xlsx_and_next_run(tmp_path, prefect_harness):
    from flows.monthly import monthly_run
    from zhibu.cli import main
    wh, out = tmp_path / "wh.duckdb", tmp_path / "out"
    monthly_run(month="2025-03", input_dir=str(SAMPLE / "incoming" / "2025-03"), warehouse=str(wh),
                output=str(out))
    xlsx = tmp_path / "review.xlsx"
    assert main(["review", "export", "--month", "2025-03", "--output", str(out), "--warehouse", str(wh),
                 "--out", str(xlsx)]) == 0
    wb = openpyxl.load_workbook(xlsx)
    ws = wb[SHEET]
    ncol = len(COLUMNS)
    assert [c.value for c in ws[1]] == [h for h, _k, _w in COLUMNS] + DECISION_HEADERS
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) >= 2
    dv = {str(d.sqref): d for d in ws.data_validations.dataValidation}
    lst = [d for d in dv.values() if d.type == "list"]
    assert lst and lst[0].formula1 == '"确认,否决"'
    left = {h: i for i, (h, _k, _w) in enumerate(COLUMNS)}
    confirm_pair = (rows[0][left["原始证件号码/代码"]].value, rows[0][left["候选证件号码/代码"]].value)
    reject_pair = (rows[1][left["原始证件号码/代码"]].value, rows[1][left["候选证件号码/代码"]].value)
    rows[0][ncol].value, rows[0][ncol + 1].value, rows[0][ncol + 2].value = "确认", "王审核", dt.datetime(2025, 4, 2)
    rows[1][ncol].value, rows[1][ncol + 1].value, rows[1][ncol + 2].value = "否决", "王审核", "2025-04-02"
    # bad rows: a pair nobody proposed, a missing reviewer
    bad = ws.max_row + 1
    for i, c in enumerate(rows[0][:ncol]):
        ws.cell(row=bad, column=i + 1, value=c.value)
    ws.cell(row=bad, column=left["候选证件号码/代码"] + 1, value="150102199001011234")
    ws.cell(row=bad, column=ncol + 1, value="确认")
    ws.cell(row=bad, column=ncol + 2, value="王审核")
    ws.cell(row=bad, column=ncol + 3, value="2025-04-02")
    ws.cell(row=bad + 1, column=1, value=rows[1][0].value)
    for i, c in enumerate(rows[1][:ncol]):
        ws.cell(row=bad + 1, column=i + 1, value=c.value)
    ws.cell(row=bad + 1, column=ncol + 1, value="确认")
    ws.cell(row=bad + 1, column=ncol + 3, value="2025-04-03")
    wb.save(xlsx)

    with pytest.raises(SystemExit) as e:
        main(["review", "import", str(xlsx), "--output", str(out), "--warehouse", str(wh)])
    assert "2 row(s) rejected, nothing imported" in str(e.value)
    decisions = wh.with_name("review_decisions.csv")
    assert not decisions.exists()            # all or nothing: fix the rows, import again
    wb = openpyxl.load_workbook(xlsx)
    wb[SHEET].delete_rows(bad, 2)
    wb.save(xlsx)
    for _ in range(2):                       # importing the same workbook twice changes nothing
        main(["review", "import", str(xlsx), "--output", str(out), "--warehouse", str(wh)])
    got = list(csv.DictReader(decisions.read_text(encoding="utf-8").splitlines()))
    assert list(got[0]) == ["kind", "raw_id", "name", "candidate_id", "decision", "reviewer", "date"]
    assert [(r["raw_id"], r["candidate_id"], r["decision"], r["reviewer"], r["date"]) for r in got] == [
        (*confirm_pair, "confirm", "王审核", "2025-04-02"), (*reject_pair, "reject", "王审核", "2025-04-02")]

    monthly_run(month="2025-04", input_dir=str(SAMPLE / "incoming" / "2025-04"), warehouse=str(wh),
                output=str(out))
    con = duckdb.connect(str(wh), read_only=True)
    linked = con.execute("SELECT raw_id, person_id, method FROM person_links WHERE run_month = '2025-04' "
                         "AND method = 'reviewed'").fetchall()
    queued = con.execute("SELECT left_id, right_id FROM review_queue WHERE run_month = '2025-04'").fetchall()
    con.close()
    assert (confirm_pair[0], confirm_pair[1], "reviewed") in linked
    assert confirm_pair not in queued and reject_pair not in queued
