"""The committed sample (data/sample) holds every format, encoding, noise kind, planted
scenario and finding type, and stays small. Regenerate with
``python -m data.synth --months 2025-03..2025-06 --scale sample --seed 20250301 --out data/sample``."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
def test_the_sample_is_committed():
    assert (SAMPLE / "truth" / "manifest.json").exists(), "data/sample must be committed"

NOISE_KINDS = {
    "id_typo_digit", "id_transposed", "id_15digit", "id_scientific", "id_fullwidth", "id_lowercase_x",
    "id_apostrophe", "id_spaces", "uscc_typo", "uscc_lowercase", "uscc_fullwidth", "uscc_spaces",
    "name_traditional", "name_homophone", "name_space", "name_dot_variant",
    "firm_bracket_halfwidth", "firm_suffix_variant", "firm_no_region_prefix",
}
ROW_NOISE = {"phone_plus86", "phone_spaces", "phone_dashes", "date_slash", "date_slash_nopad", "date_compact",
             "date_cn", "date_excel_serial", "month_compact", "amount_thousands"}


def q(sql):
    return duckdb.connect().execute(sql).fetchall()


def test_sample_is_small_and_complete():
    size = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert size < 15_000_000
    man = json.loads((SAMPLE / "truth" / "manifest.json").read_text(encoding="utf-8"))
    assert man["seed"] == 20250301 and man["months"] == ["2025-03", "2025-04", "2025-05", "2025-06"]
    kinds = {(f["format"], f["encoding"]) for f in man["files"]}
    assert {("csv", "utf-8"), ("csv", "utf-8-sig"), ("csv", "gb18030"), ("xlsx", None), ("parquet", None)} <= kinds
    for f in man["files"]:
        assert (SAMPLE / f["file"]).stat().st_size == f["bytes"]


def test_sample_has_every_noise_kind():
    t = SAMPLE / "truth" / "record_truth.parquet"
    seen = {r[0] for r in q(f"SELECT DISTINCT unnest(string_split(noise, ';')) FROM '{t}' WHERE noise IS NOT NULL")}
    assert NOISE_KINDS <= seen, NOISE_KINDS - seen
    seen = {r[0] for r in q(f"SELECT DISTINCT unnest(string_split(row_noise, ';')) FROM '{t}' WHERE row_noise IS NOT NULL")}
    assert ROW_NOISE <= seen, ROW_NOISE - seen
    bad = {r[0] for r in q(f"SELECT DISTINCT reason FROM '{SAMPLE}/truth/expected_quarantine.parquet'")}
    assert {"missing_required", "bad_date", "bad_enum", "id_scientific_notation"} <= bad


def test_sample_has_every_scenario_kind():
    exp = q(f"SELECT policy_code, expected_outcome FROM '{SAMPLE}/truth/expected_decisions.parquet'")
    for pol in ["one_time_hiring", "hiring_social_insurance", "flexible_social_insurance", "startup_one_time",
                "job_search", "job_retention_refund"]:
        assert any(p == pol and o == "eligible" for p, o in exp), pol
        assert any(p == pol and o != "eligible" for p, o in exp), pol
    outcomes = {o for _, o in exp}
    assert {"contract_11_months", "only_2_paid_months", "graduated_2_5_years_ago", "aged_25", "firm_deregistered",
            "firm_dishonest", "fiscal_staff", "deceased", "ledger_granted", "firm_not_small_micro"} <= outcomes
    codes = {r[0] for r in q(f"SELECT DISTINCT check_code FROM '{SAMPLE}/truth/expected_findings.parquet'")}
    assert len(codes) == 14
