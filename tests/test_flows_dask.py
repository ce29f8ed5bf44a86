"""Reproducibility as outputs.md defines it: every file byte-identical (manifest.json without its
`run` section) for the same inputs from another folder into another output folder, for a second
run, and for a partitioned run on a real dask.distributed cluster of 2 worker processes."""
import json
import shutil
from pathlib import Path

from conftest import SAMPLE, copy_warehouse
from flows.monthly import monthly_run


def month_files(folder: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            rel = p.relative_to(folder).as_posix()
            if rel == "manifest.json":
                m = json.loads(p.read_text(encoding="utf-8"))
                assert "run" in m
                m.pop("run")
                out[rel] = json.dumps(m, sort_keys=True, ensure_ascii=False).encode()
            else:
                out[rel] = p.read_bytes()
    return out


def assert_identical(a: Path, b: Path) -> None:
    fa, fb = month_files(a), month_files(b)
    assert sorted(fa) == sorted(fb)
    differ = [k for k in fa if fa[k] != fb[k]]
    assert not differ, f"files differ between {a} and {b}: {differ}"


def test_same_inputs_elsewhere_other_output_and_second_run_are_byte_identical(sample_run, sample_months, tmp_path):
    wh, out = sample_run
    moved = tmp_path / "somewhere" / "else"
    shutil.copytree(SAMPLE / "incoming", moved)
    wh2, out2 = tmp_path / "w2" / "wh.duckdb", tmp_path / "other-output"
    for m in sample_months:
        folder = Path(monthly_run(month=m, input_dir=str(moved / m), warehouse=str(wh2), output=str(out2)))
        assert_identical(folder, out / m)
        html = (folder / "report.html").read_text(encoding="utf-8")
        assert str(moved) not in html and str(SAMPLE) not in html
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        p = manifest["parameters"]
        assert p["input_files"] and all(set(f) == {"file", "source", "sha256"} for f in p["input_files"])
        assert p["policy_parameters"] and p["verification"]
        assert manifest["run"]["input"] == str(moved / m)
    last = sample_months[-1]
    again = Path(monthly_run(month=last, input_dir=str(moved / last), warehouse=str(wh2), output=str(out2)))
    assert_identical(again, out / last)


def test_partitioned_dask_run_is_byte_identical(sample_run, sample_months, tmp_path, monkeypatch):
    wh, out = sample_run
    last = sample_months[-1]
    copy_warehouse(wh, tmp_path)   # earlier months' listings as the single-process run left them
    monkeypatch.chdir(tmp_path)    # a relative --warehouse: workers get the absolute partition path
    folder = Path(monthly_run(month=last, input_dir=str(SAMPLE / "incoming" / last), warehouse=wh.name,
                              output="out", partitions=4))
    assert_identical(folder, out / last)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run"]["stage_stats"]["decide"]["partitions"] == 4
    assert len(manifest["run"]["stage_stats"]["decide"]["rows_per_partition"]) == 4
    # the unmasked partition scratch data is gone
    assert not (tmp_path / "partitions").exists()


def test_decisions_file_is_recorded(sample_run, sample_months, tmp_path):
    """The review-decisions file shapes the result, so the manifest records it with its sha256."""
    import duckdb
    wh, out = sample_run
    last = sample_months[-1]
    wh2 = copy_warehouse(wh, tmp_path)
    con = duckdb.connect(str(wh2), read_only=True)
    kind, left_id, left_name, right_id = con.execute(
        "SELECT kind, left_id, left_name, right_id FROM review_queue WHERE run_month = ? ORDER BY ALL LIMIT 1",
        [last]).fetchone()
    con.close()
    dec = tmp_path / "review_decisions.csv"
    dec.write_text("kind,raw_id,name,candidate_id,decision,reviewer,date\n"
                   f"{kind},{left_id},{left_name or ''},{right_id},confirm,王审核,2025-07-01\n", encoding="utf-8")
    folder = Path(monthly_run(month=last, input_dir=str(SAMPLE / "incoming" / last), warehouse=str(wh2),
                              output=str(tmp_path / "out")))
    rd = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["parameters"]["review_decisions"]
    import hashlib
    assert rd == {"file": "review_decisions.csv", "sha256": hashlib.sha256(dec.read_bytes()).hexdigest(),
                  "decisions": 1}
