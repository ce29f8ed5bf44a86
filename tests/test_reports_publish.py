import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

import reports.report_html
import reports.publish
from test_reports_data import MONTH, RUN_INFO, make_warehouse, publish, warehouse  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def tree_hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_rerun_gives_identical_data_outputs(warehouse, tmp_path):  # noqa: F811
    root = tmp_path / "out"
    out = publish(warehouse, root)
    first = tree_hashes(out)
    m1 = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    out2 = publish(warehouse, root, run_info={**RUN_INFO, "timings": {"load": 9.9, "link": 0.1}})
    second = tree_hashes(out2)
    m2 = json.loads((out2 / "manifest.json").read_text(encoding="utf-8"))
    data = {k: v for k, v in first.items() if k != "manifest.json"}
    assert data == {k: v for k, v in second.items() if k != "manifest.json"}
    assert len(data) > 40
    # manifest: identical outside `run`, and it lists every file with its sha256
    assert m1["run"] != m2["run"]
    m1.pop("run"), m2.pop("run")
    assert m1 == m2
    assert {o["path"]: o["sha256"] for o in m1["outputs"]} == data
    assert sorted(p.name for p in root.iterdir()) == [MONTH]     # no temp leftovers


def test_manifest_contents(warehouse, tmp_path):  # noqa: F811
    out = publish(warehouse, tmp_path / "out")
    text = (out / "manifest.json").read_text(encoding="utf-8")
    m = json.loads(text)
    assert text == json.dumps(m, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    assert m["month"] == MONTH and m["code_version"] == "test-1.0"
    assert m["parameters"] == {"flexible_ratio": "2/3", "startup_amount": "5000.00"}
    assert m["input_files"] == ["graduates.csv", "social_insurance.parquet"]
    ins = {i["file"]: i for i in m["inputs"]}
    assert set(ins) == {"graduates.csv", "social_insurance.parquet", "hiring_filing.xlsx"}
    g = ins["graduates.csv"]
    assert (g["sha256"], g["rows_read"], g["rows_loaded"], g["rows_quarantined"]) == ("aa11", 1200, 1195, 5)
    paths = [o["path"] for o in m["outputs"]]
    assert paths == sorted(paths) and "manifest.json" not in paths
    assert "report.html" in paths and "eligibility.parquet" in paths
    assert m["run"]["timings"]["load"] == 1.25
    assert "timings" not in {k for k in m if k != "run"} and "publish_build" in m["run"]["timings"]
    assert m["summary"]["total_amount"] == "138614.79"


def test_failure_mid_publish_keeps_previous_result(warehouse, tmp_path, monkeypatch):  # noqa: F811
    root = tmp_path / "out"
    out = publish(warehouse, root)
    before = tree_hashes(out)

    # change the warehouse so a successful publish would change the result
    con = duckdb.connect(str(warehouse))
    con.execute("DELETE FROM eligibility WHERE policy_code = 'job_search'")
    con.close()

    def boom(*a, **k):
        raise RuntimeError("injected failure while rendering the report")

    monkeypatch.setattr(reports.report_html, "render_report", boom)
    with pytest.raises(RuntimeError, match="injected"):
        publish(warehouse, root)
    assert tree_hashes(out) == before
    assert sorted(p.name for p in root.iterdir()) == [MONTH]

    # a failure at the very last step (after the manifest is written) also leaves it intact
    monkeypatch.undo()

    def boom_swap(tmp, final):
        assert (tmp / "manifest.json").is_file() and (tmp / "report.html").is_file()
        raise OSError("injected failure at swap")

    monkeypatch.setattr(reports.publish, "_swap_in", boom_swap)
    with pytest.raises(OSError, match="injected"):
        publish(warehouse, root)
    assert tree_hashes(out) == before
    assert sorted(p.name for p in root.iterdir()) == [MONTH]

    monkeypatch.undo()
    out = publish(warehouse, root)
    assert tree_hashes(out) != before


def test_failed_first_publish_leaves_nothing(warehouse, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(reports.report_html, "render_report",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("injected")))
    root = tmp_path / "out"
    with pytest.raises(RuntimeError):
        publish(warehouse, root)
    assert list(root.iterdir()) == []


def test_hard_crash_leaves_previous_and_is_cleaned_up(warehouse, tmp_path):  # noqa: F811
    """A process killed mid-publish (no exception handling) leaves the old folder intact."""
    root = tmp_path / "out"
    out = publish(warehouse, root)
    before = tree_hashes(out)
    script = textwrap.dedent(f"""
        import os, sys, duckdb
        from decimal import Decimal
        sys.path.insert(0, {str(ROOT)!r})
        import reports.report_html as rh
        from reports.publish import publish_month
        def die(*a, **k):
            os._exit(17)          # simulate SIGKILL / power loss after exports were written
        rh.render_report = die
        con = duckdb.connect({str(warehouse)!r})
        publish_month(con, {MONTH!r}, {str(root)!r}, {RUN_INFO!r})
    """)
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 17, r.stderr
    leftovers = [p.name for p in root.iterdir() if p.name != MONTH]
    assert leftovers and all(n.startswith(f".{MONTH}.tmp-") for n in leftovers)
    assert tree_hashes(out) == before
    publish(warehouse, root)                       # the next run cleans up
    assert sorted(p.name for p in root.iterdir()) == [MONTH]
    assert {k: v for k, v in tree_hashes(out).items() if k != "manifest.json"} == \
        {k: v for k, v in before.items() if k != "manifest.json"}


def test_interrupted_fallback_swap_is_restored(warehouse, tmp_path):  # noqa: F811
    root = tmp_path / "out"
    out = publish(warehouse, root)
    before = tree_hashes(out)
    os.rename(out, root / f".{MONTH}.old-deadbeef")     # died between the two renames
    reports.publish._recover(root, MONTH)
    assert tree_hashes(root / MONTH) == before


def test_fallback_swap_without_renameat2(warehouse, tmp_path, monkeypatch):  # noqa: F811
    root = tmp_path / "out"
    publish(warehouse, root)
    con = duckdb.connect(str(warehouse))
    con.execute("DELETE FROM eligibility WHERE policy_code = 'job_search'")
    con.close()
    monkeypatch.setattr(reports.publish, "_exchange", lambda a, b: False)
    out = publish(warehouse, root)
    assert sorted(p.name for p in root.iterdir()) == [MONTH]
    import pyarrow.parquet as pq
    assert "job_search" not in pq.read_table(out / "eligibility.parquet").column("policy_code").to_pylist()


def test_verification_absent(tmp_path):
    db = make_warehouse(tmp_path / "wh.duckdb", verification=False)
    out = publish(db, tmp_path / "out")
    assert [p.name for p in (out / "verification").iterdir()] == ["NOT_RUN.txt"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "核查环节本次未运行" in html


def test_verification_outputs(warehouse, tmp_path):  # noqa: F811
    import csv
    import pyarrow.parquet as pq
    out = publish(warehouse, tmp_path / "out")
    v = out / "verification"
    names = sorted(p.name for p in v.iterdir())
    assert names == ["counts_by_league.csv", "findings_fiscal_staff_paid.csv",
                     "findings_fiscal_staff_paid.parquet", "findings_overdue_accept.csv",
                     "findings_overdue_accept.parquet", "spot_check_sample.csv",
                     "spot_check_sample.parquet"]
    t = pq.read_table(v / "findings_overdue_accept.parquet")
    assert t.num_rows == 2 and set(t.column("run_month").to_pylist()) == {MONTH}
    rows = list(csv.reader((v / "findings_fiscal_staff_paid.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:3] == ["运行月份", "核查代码", "核查项目"] and rows[1][-1] == "'=cmd"
    counts = list(csv.DictReader((v / "counts_by_league.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert len(counts) == 2 * 12
    got = {(r["核查代码"], r["盟市代码"]): int(r["发现数"]) for r in counts}
    assert got[("overdue_accept", "150100")] == 1 and got[("overdue_accept", "150900")] == 0
    sample = list(csv.reader((v / "spot_check_sample.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert len(sample) == 3 and sample[0][1] == "单位统一社会信用代码"


def test_bad_month_rejected(warehouse, tmp_path):  # noqa: F811
    with pytest.raises(ValueError):
        publish(warehouse, tmp_path / "out", month="2026-13")
