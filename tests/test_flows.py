"""Real Prefect flow runs of the monthly pipeline on the committed sample."""
import hashlib
import json
import os
import re
import threading
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import SAMPLE, copy_warehouse
from flows.monthly import STAGES, monthly_run
from zhibu.warehouse import exclusive


def data_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every output; the manifest without its run section (timings live there)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = str(p.relative_to(folder))
        if rel == "manifest.json":
            m = json.loads(p.read_text(encoding="utf-8"))
            m.pop("run", None)
            out[rel] = hashlib.sha256(json.dumps(m, sort_keys=True).encode()).hexdigest()
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_full_sample_run_publishes_every_month(sample_run, sample_months):
    wh, out = sample_run
    for m in sample_months:
        folder = out / m
        for name in ("eligibility.parquet", "review_queue.parquet", "quarantine.parquet", "report.html",
                     "manifest.json"):
            assert (folder / name).is_file(), f"{m}/{name} missing"
    total = sum(len(pd.read_parquet(out / m / "eligibility.parquet")) for m in sample_months)
    assert total > 0, "the sample must produce beneficiaries"
    con = duckdb.connect(str(wh), read_only=True)
    read, loaded, quarantined = con.execute(
        "SELECT sum(rows_read), sum(rows_loaded), sum(rows_quarantined) FROM load_files").fetchone()
    con.close()
    assert read == loaded + quarantined


def test_rerun_gives_identical_outputs(sample_run, sample_months, tmp_path):
    wh, out = sample_run
    last = sample_months[-1]
    wh2 = copy_warehouse(wh, tmp_path)
    folder = monthly_run(month=last, input_dir=str(SAMPLE / "incoming" / last), warehouse=str(wh2),
                         output=str(tmp_path / "out"))
    assert data_hashes(Path(folder)) == data_hashes(out / last)


def _counts(wh: Path, month: str) -> dict:
    """Rows per table; each file's raw table (named per load) counted under its source."""
    con = duckdb.connect(str(wh), read_only=True)
    tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    counts = {}
    for t in sorted(tables):
        key = re.sub(r"__f[0-9a-f]{12}(__in)?$", "  (files)", t)
        counts[key] = counts.get(key, 0) + con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
    con.close()
    return counts


@pytest.mark.parametrize("stage", STAGES)
def test_interrupted_run_then_rerun_gives_the_same_result(sample_run, sample_months, tmp_path, stage, monkeypatch):
    wh, out = sample_run
    last = sample_months[-1]
    wh2 = copy_warehouse(wh, tmp_path)
    before = _counts(wh2, last)
    out2 = tmp_path / "out"
    monkeypatch.setenv("ZHIBU_FAIL_AT", stage)
    with pytest.raises(Exception, match=f"injected failure at stage {stage}"):
        monthly_run(month=last, input_dir=str(SAMPLE / "incoming" / last), warehouse=str(wh2), output=str(out2))
    assert not (out2 / last).exists(), "a failed run must not leave a month folder"
    monkeypatch.delenv("ZHIBU_FAIL_AT")
    folder = monthly_run(month=last, input_dir=str(SAMPLE / "incoming" / last), warehouse=str(wh2), output=str(out2))
    assert data_hashes(Path(folder)) == data_hashes(out / last)
    assert _counts(wh2, last) == before, "re-running must not duplicate warehouse rows"


def test_second_run_on_the_same_warehouse_fails_clearly(sample_run, sample_months, tmp_path):
    wh, _ = sample_run
    wh2 = copy_warehouse(wh, tmp_path)
    last = sample_months[-1]
    with exclusive(wh2):
        with pytest.raises(Exception, match="in use by another run"):
            monthly_run(month=last, input_dir=str(SAMPLE / "incoming" / last), warehouse=str(wh2),
                        output=str(tmp_path / "out"))


def test_run_records_its_memory_limit_sized_to_the_month(sample_run, sample_months):
    """The sample's files are small: the run used the 1 GiB floor, and its manifest says so."""
    _, out = sample_run
    manifest = json.loads((out / sample_months[-1] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run"]["settings"]["memory_limit"] == "1024MiB"


def test_month_memory_limit_follows_the_files_not_the_warehouse(tmp_path, monkeypatch):
    from zhibu.warehouse import month_memory_limit
    monkeypatch.delenv("ZHIBU_MEMORY_LIMIT", raising=False)
    month = tmp_path / "2026-12"
    month.mkdir()
    assert month_memory_limit(month) == "1024MiB"                 # small month: the floor
    with open(month / "social_insurance.csv", "wb") as f:          # sparse: the size is what counts
        f.truncate(600 * 2**20)
    assert month_memory_limit(month) == f"{4 * 600}MiB"            # 4x the month's bytes
    with open(month / "social_insurance.csv", "wb") as f:
        f.truncate(3 * 2**30)
    assert month_memory_limit(month) == f"{4_000_000_000 // 2**20}MiB"   # never above the 4GB default
    monkeypatch.setenv("ZHIBU_MEMORY_LIMIT", "2GB")
    assert month_memory_limit(month) == "2GB"                      # the operator's setting wins
    # DuckDB takes the value as given
    con = duckdb.connect(config={"memory_limit": month_memory_limit(tmp_path)})
    assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0].startswith("1.8")


def test_ctrl_c_inside_a_query_reads_as_an_interruption_not_a_stage_failure(tmp_path):
    """A query interrupted mid-transaction, then a clean-up statement failing on the aborted
    transaction (what the loader's `finally` does): the run must say 已中断, not 装载失败."""
    from flows.monthly import _interrupted
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("CREATE TABLE t AS SELECT range AS i FROM range(10)")
    con.execute("BEGIN TRANSACTION")
    timer = threading.Timer(0.5, con.interrupt)
    timer.start()
    try:
        try:
            con.execute("SELECT count(*) FROM range(10000000000) a, t WHERE a.range % 7 = t.i").fetchall()
        finally:
            con.execute("DROP TABLE IF EXISTS nothing_here")
    except Exception as e:            # noqa: BLE001 — the error a stage would see
        error = e
    timer.cancel()
    assert _interrupted(error), repr(error)
    assert not _interrupted(ValueError("a bad file"))
