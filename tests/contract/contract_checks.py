"""Running the product as a black box and checking what it publishes."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from stdnum.cn import uscc

from contract_builders import id_checksum_ok

RECURRING = {"hiring_social_insurance", "flexible_social_insurance"}


def run_month(month: str, input_dir: Path, wh: Path, out: Path, **kw) -> Path:
    from flows.monthly import monthly_run
    folder = monthly_run(month=month, input_dir=str(input_dir), warehouse=str(wh), output=str(out), **kw)
    return Path(folder)


def fresh_dir(base: Path, prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def manifest_inputs(folder: Path) -> dict:
    return {e["file"]: e for e in manifest(folder)["inputs"]}


def quarantine(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "quarantine.parquet")


def eligibility(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "eligibility.parquet")


def quarantine_of(folder: Path, file_name: str, month: str) -> pd.DataFrame:
    q = quarantine(folder)
    q = q[q["source_file"] == file_name]
    if "extract_month" in q.columns:
        q = q[q["extract_month"].astype(str).str.startswith(month)]
    return q


def check_month(folder: Path, expect) -> pd.DataFrame:
    """Every invariant a single published month must satisfy; returns its eligibility rows."""
    assert folder.is_dir() and (folder / "manifest.json").is_file(), f"{folder} not published"
    ins = manifest_inputs(folder)
    for name, fe in expect.files.items():
        assert name in ins, f"{name} missing from manifest inputs {sorted(ins)}"
        e = ins[name]
        assert e["rows_read"] == fe.rows, f"{name}: rows_read {e['rows_read']} != {fe.rows} data rows written"
        assert e["rows_loaded"] + e["rows_quarantined"] == e["rows_read"], \
            f"{name}: loaded {e['rows_loaded']} + quarantined {e['rows_quarantined']} != read {e['rows_read']}"
        assert e["rows_quarantined"] >= fe.must_quarantine, \
            f"{name}: {fe.must_quarantine} rows are quarantinable by contract but only {e['rows_quarantined']} quarantined"
        assert e["rows_loaded"] >= fe.must_load, \
            f"{name}: {fe.must_load} rows are valid by contract but only {e['rows_loaded']} loaded"
        q = quarantine_of(folder, name, expect.month)
        assert len(q) == e["rows_quarantined"], \
            f"{name}: quarantine.parquet has {len(q)} rows, manifest says {e['rows_quarantined']}"
        assert q["reason"].fillna("").str.len().gt(0).all(), f"{name}: quarantined row without a reason"
    el = eligibility(folder)
    for _, r in el.iterrows():
        bid = r["beneficiary_id"]
        ok = id_checksum_ok(bid) if r["beneficiary_type"] == "person" else uscc.is_valid(bid)
        assert ok and len(bid) == 18 and bid == bid.upper(), f"non-canonical beneficiary_id {bid!r}"
        assert id_checksum_ok(r["person_id_number"]) and len(r["person_id_number"]) == 18, \
            f"non-canonical person_id_number {r['person_id_number']!r}"
    listed = set(el.loc[el["policy_code"] == "job_search", "beneficiary_id"])
    return el


def decision_keys(el: pd.DataFrame):
    """(policy, beneficiary, person, subsidy month) for every decision row; one-offs have month None."""
    keys = []
    for _, r in el.iterrows():
        base = (r["policy_code"], r["beneficiary_id"], r["person_id_number"])
        if r["policy_code"] in RECURRING and r.get("period_start") and r.get("period_end"):
            y, m = map(int, str(r["period_start"]).split("-"))
            ey, em = map(int, str(r["period_end"]).split("-"))
            while (y, m) <= (ey, em):
                keys.append(base + (f"{y}-{m:02d}",))
                y, m = (y + (m == 12), m % 12 + 1)
        elif r["policy_code"] in RECURRING:
            keys.append(base + (r.get("period_start"),))
        else:
            keys.append(base + (None,))
    return keys


def assert_no_decision_twice(eligibilities: list[pd.DataFrame]):
    seen = {}
    for i, el in enumerate(eligibilities):
        for k in decision_keys(el):
            assert k not in seen, f"decision {k} listed twice (runs #{seen[k]} and #{i})"
            seen[k] = i


def tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_same_outputs(a: Path, b: Path):
    ta, tb = tree(a), tree(b)
    assert sorted(ta) == sorted(tb), f"file sets differ: {sorted(set(ta) ^ set(tb))}"
    for rel in ta:
        if rel == "manifest.json":
            ma, mb = manifest(a), manifest(b)
            ma.pop("run", None)
            mb.pop("run", None)
            assert ma == mb, "manifest.json differs outside its run section"
        else:
            assert ta[rel].read_bytes() == tb[rel].read_bytes(), f"{rel} differs between two identical runs"


def copy_file(src: Path, dst_dir: Path) -> Path:
    dst_dir.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(src, dst_dir / src.name))
