"""The synthetic extracts obey the input contract and their truth matches the files."""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from stdnum.cn import ric, uscc

from data.synth import generate
from data.synth.ids import id_valid, uscc_valid
from data.synth.readback import read_extract
from data.synth.regions import COUNTY_CODES
from data.synth.schema import SOURCES

MONTHS = "2025-03..2025-06"


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    summary = generate(MONTHS, "tiny", 7, out)
    return out, summary


@pytest.fixture(scope="module")
def files(gen):
    out, summary = gen
    res = {}
    for f in summary["files"]:
        res[(f["source"], f["month"])] = (f, read_extract(out / f["file"]))
    return res


def q(sql, *a):
    return duckdb.connect().execute(sql, *a).fetchall()


def test_every_source_every_month(gen, files):
    out, summary = gen
    months = ["2025-03", "2025-04", "2025-05", "2025-06"]
    for m in months:
        for s in SOURCES:
            assert (s, m) in files, (s, m)
            assert len(list((out / "incoming" / m).glob(f"{s}.*"))) == 1
    kinds = {(f["format"], f["encoding"]) for f in summary["files"]}
    for k in [("csv", "utf-8"), ("csv", "utf-8-sig"), ("csv", "gb18030"), ("xlsx", None), ("parquet", None)]:
        assert k in kinds, k


def test_chinese_headers_and_encodings(files):
    for (source, month), (f, (enc, header, rows)) in files.items():
        expected = {h for _, h, _ in SOURCES[source]}
        assert expected <= set(header), (source, month, expected - set(header))
        assert set(header) - expected <= {"备注"}
        if f["format"] == "csv":
            assert enc == f["encoding"], (source, month, enc, f["encoding"])
            for r in rows:
                assert len(r) == len(header)


def test_record_truth_points_at_written_values(gen, files):
    out, _ = gen
    truth = q(f"SELECT source, month, line, field, value_written, name_field, name_written FROM '{out}/truth/record_truth.parquet'")
    assert len(truth) > 1000
    heads = {s: {c: h for c, h, _ in cols} for s, cols in SOURCES.items()}
    for source, month, line, field, vw, nf, nw in truth:
        _, (_, header, rows) = files[(source, month)]
        row = rows[line - 2]
        assert row[header.index(heads[source][field])] == vw, (source, month, line, field)
        if nf:
            assert row[header.index(heads[source][nf])] == nw, (source, month, line, nf)
    # every person-bearing file row has its truth
    per_file = defaultdict(int)
    for source, month, line, field, *_ in truth:
        if field in ("id_number", "beneficiary_id_number"):
            per_file[(source, month)] += 1
    for (source, month), (f, (_, header, rows)) in files.items():
        if source in ("business_registration",):
            continue
        assert per_file[(source, month)] == len(rows), (source, month)


def _fw_to_ascii(s):
    return "".join(chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else c for c in s)


def test_ids_valid_unless_noise_planted(gen):
    out, _ = gen
    rows = q(f"""SELECT kind, value_written, value_true, coalesce(noise, ''), bad FROM '{out}/truth/record_truth.parquet'""")
    seen = defaultdict(int)
    for kind, vw, vt, noise, bad in rows:
        if kind == "person":
            assert ric.is_valid(vt), vt          # also checks the area code existed at birth
        else:
            assert uscc.is_valid(vt) or vt.startswith("12"), vt
            assert uscc_valid(vt)
        if bad or vw is None:
            continue
        kinds = {k for k in noise.split(";") if k.startswith(("id_", "uscc_"))}
        if not kinds:
            assert vw == vt
            continue
        (k,) = kinds
        seen[k] += 1
        if k == "id_typo_digit":
            assert len(vw) == 18 and not id_valid(vw) and sum(a != b for a, b in zip(vw, vt)) == 1
        elif k == "id_transposed":
            assert not id_valid(vw) and sorted(vw) == sorted(vt)
        elif k == "id_15digit":
            assert len(vw) == 15 and vw == vt[:6] + vt[8:17]
        elif k == "id_scientific":
            assert re.fullmatch(r"\d(\.\d+)?E\+17", vw)
        elif k == "id_fullwidth":
            assert _fw_to_ascii(vw) == vt and vw != vt
        elif k == "id_lowercase_x":
            assert vw == vt.lower() and vw.endswith("x")
        elif k == "id_apostrophe":
            assert vw == "'" + vt
        elif k == "id_spaces":
            assert vw.replace(" ", "") == vt
        elif k == "uscc_typo":
            assert not uscc.is_valid(vw) and sum(a != b for a, b in zip(vw, vt)) == 1
        elif k == "uscc_lowercase":
            assert vw.upper() == vt
        elif k == "uscc_fullwidth":
            assert _fw_to_ascii(vw) == vt
        elif k == "uscc_spaces":
            assert vw.replace(" ", "") == vt
    for k in ["id_typo_digit", "id_transposed", "id_15digit", "id_scientific", "id_fullwidth", "id_apostrophe",
              "id_spaces", "uscc_typo"]:
        assert seen[k] > 0, k


def test_name_noise_is_what_it_says(gen):
    import opencc
    from pypinyin import lazy_pinyin

    t2s = opencc.OpenCC("t2s")
    out, _ = gen
    rows = q(f"""SELECT name_written, name_true, noise FROM '{out}/truth/record_truth.parquet'
                 WHERE name_field IS NOT NULL AND bad IS NULL AND kind = 'person'""")
    seen = defaultdict(int)
    for nw, nt, noise in rows:
        kinds = {k for k in (noise or "").split(";") if k.startswith("name_")}
        if not kinds:
            assert nw == nt
            continue
        (k,) = kinds
        seen[k] += 1
        if k == "name_traditional":
            assert nw != nt and "".join(t2s.convert(ch) for ch in nw) == nt
        elif k == "name_homophone":
            assert nw != nt and lazy_pinyin(nw) == lazy_pinyin(nt)
        elif k == "name_space":
            assert nw.replace(" ", "") == nt and " " in nw
        elif k == "name_dot_variant":
            assert "·" in nt and re.sub("[·•・.．]", "", nw) == nt.replace("·", "")
    for k in ["name_traditional", "name_homophone", "name_space", "name_dot_variant"]:
        assert seen[k] > 0, k


def test_expected_quarantine_rows_are_bad(gen, files):
    out, _ = gen
    heads = {s: {c: h for c, h, _ in cols} for s, cols in SOURCES.items()}
    rows = q(f"SELECT source, month, line, reason, field FROM '{out}/truth/expected_quarantine.parquet'")
    reasons = {r[3] for r in rows}
    assert {"missing_required", "bad_date", "bad_enum", "id_scientific_notation"} <= reasons
    for source, month, line, reason, fld in rows:
        _, (_, header, data) = files[(source, month)]
        v = data[line - 2][header.index(heads[source][fld])]
        if reason == "missing_required":
            assert v is None
        elif reason == "bad_date":
            assert v in ("2025-02-30", "2025/13/01", "20251341", "2025年2月30日")
        elif reason == "id_scientific_notation":
            assert "E+" in v


def test_expected_decisions_reference_existing_people_and_firms(gen):
    out, _ = gen
    persons = {r[0] for r in q(f"SELECT id_number FROM '{out}/truth/persons.parquet'")}
    firms = {r[0] for r in q(f"SELECT uscc FROM '{out}/truth/firms.parquet'")}
    assert len(persons) == q(f"SELECT count(*) FROM '{out}/truth/persons.parquet'")[0][0], "IDs unique"
    assert {r[0] for r in q(f"SELECT DISTINCT region_code FROM '{out}/truth/persons.parquet'")} <= set(COUNTY_CODES)
    exp = q(f"""SELECT policy_code, beneficiary_type, beneficiary_id, person_id_number, amount, run_month,
                expected_outcome FROM '{out}/truth/expected_decisions.parquet'""")
    pols = {e[0] for e in exp}
    assert pols == {"one_time_hiring", "hiring_social_insurance", "flexible_social_insurance", "startup_one_time",
                    "job_search", "job_retention_refund"}
    for pol, bt, bid, pid, amount, run_month, outcome in exp:
        assert pid in persons
        assert (bid in firms) if bt == "firm" else (bid in persons)
        if amount is not None:
            assert Decimal(amount).as_tuple().exponent == -2
        for p in pols:
            assert any(e[0] == p and e[6] == "eligible" for e in exp), p
            assert any(e[0] == p and e[6] != "eligible" for e in exp), p


def test_expected_findings_point_at_ledger_rows(gen, files):
    out, _ = gen
    ledger = {}
    for (source, month), (_, (_, header, rows)) in files.items():
        if source == "subsidy_ledger":
            i = header.index("业务流水号")
            for r in rows:
                ledger.setdefault(r[i], month)
    fnd = q(f"SELECT check_code, application_id, run_month FROM '{out}/truth/expected_findings.parquet'")
    codes = {f[0] for f in fnd}
    assert {"overdue_accept", "overdue_review", "overdue_payment", "overdue_completion", "paid_to_fiscal_staff",
            "paid_after_death", "duplicate_one_off", "no_contributions", "beneficiary_not_linked",
            "handler_is_beneficiary", "handler_is_legal_rep", "handler_same_household", "handler_same_phone",
            "none"} <= codes
    for code, app, run_month in fnd:
        assert app in ledger, app
        assert ledger[app] <= run_month


def test_amount_and_date_formats_parse(files):
    date_re = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{4}/\d{1,2}/\d{1,2}|\d{8}|\d{4}年\d{2}月\d{2}日|\d{5})$")
    for (source, month), (f, (_, header, rows)) in files.items():
        for c, h, t in SOURCES[source]:
            j = header.index(h)
            for r in rows[:400]:
                v = r[j]
                if v is None:
                    continue
                if t == "money":
                    assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}|\d+\.\d{2}", v), v
                elif t == "month":
                    assert re.fullmatch(r"\d{4}-?\d{2}", v), v
                elif t == "date" and v not in ("2025-02-30", "2025/13/01", "20251341", "2025年2月30日"):
                    assert date_re.match(v), (source, h, v)
                    if len(v) == 5:
                        assert f["format"] == "xlsx"
                elif t == "phone":
                    assert re.sub(r"[\s\-]|^\+86", "", v).isdigit()
