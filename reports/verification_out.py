"""verification/: one CSV (UTF-8 BOM) + parquet per finding type, per-盟市 counts, spot-check sample."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .common import (
    CHECK_NAMES,
    LEAGUES,
    UNASSIGNED_LEAGUE,
    league_name,
    league_of_region,
    month_match,
    neutralise,
    table_columns,
    table_exists,
    check_codes,
)
from .parquet_out import write_parquet

HEADERS_ZH = {
    "run_month": "运行月份",
    "check_code": "核查代码",
    "check_name": "核查项目",
    "application_id": "申请编号",
    "policy_code": "政策代码",
    "beneficiary_id_number": "受益人证件号码",
    "region_code": "行政区划代码",
    "league_code": "盟市代码",
    "league_name": "盟市名称",
    "facts": "核查事实",
    "employer_uscc": "单位统一社会信用代码",
    "employer_name": "单位名称",
    "reason": "入选原因",
    "amount": "补贴金额(元)",
    "persons": "人数",
    "months": "月数",
    "selection": "入选方式",
    "amount_rank": "金额排名",
    "persons_rank": "人数排名",
    "months_rank": "月数排名",
    "firms_ranked": "参与排名企业数",
    "draw_no": "抽取序号",
    "count": "发现数",
}

NOT_RUN_TEXT = "核查环节本次未运行（仓库中没有 verification_findings 表），本目录无核查结果。\r\n"


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, Decimal):
        return f"{v:.2f}" if v.as_tuple().exponent == -2 else str(v)
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return ";".join(_cell(x) for x in v)
    return neutralise(str(v))


def write_bom_csv(table: pa.Table, path: Path) -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([HEADERS_ZH.get(c, c) for c in table.column_names])
    for r in table.to_pylist():
        w.writerow([_cell(r[c]) for c in table.column_names])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    return path


def _select_all(con, name: str, month: str, where: str = "") -> pa.Table:
    types = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position", [name]).fetchall()
    seen, select = set(), []
    for c, typ in types:
        if c in seen:
            continue
        seen.add(c)
        q = f'"{c}"'
        if c == "run_month":
            select.append(f"'{month}' AS run_month")
        elif typ.upper() == "JSON":
            select.append(f"CAST({q} AS VARCHAR) AS {q}")
        else:
            select.append(q)
    sql = (f"SELECT {', '.join(select)} FROM {name} WHERE {month_match('run_month', month)} "
           f"{where} ORDER BY ALL NULLS FIRST")
    return con.sql(sql).to_arrow_table()


def _safe_name(code: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.-]", "_", code or "unknown")


def write_verification(con: duckdb.DuckDBPyConnection, out_dir: Path, month: str) -> list[Path]:
    folder = out_dir / "verification"
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if not table_exists(con, "verification_findings"):
        p = folder / "NOT_RUN.txt"
        p.write_bytes(NOT_RUN_TEXT.encode("utf-8"))
        return [p]
    findings = _select_all(con, "verification_findings", month)
    codes = sorted({c for c in findings.column("check_code").to_pylist()} - {None}) \
        if "check_code" in findings.column_names else []
    for code in codes:
        mask = pc.equal(findings.column("check_code"), code)
        part = findings.filter(mask)
        stem = folder / f"findings_{_safe_name(code)}"
        written.append(write_bom_csv(part, stem.with_suffix(".csv")))
        written.append(write_parquet(part, stem.with_suffix(".parquet")))
    # per-盟市 counts: every check × every 盟市 (zeros included) so bureaus see a full grid
    cols = table_columns(con, "verification_findings")
    if {"check_code", "league_code"} <= set(cols):
        name_expr = "any_value(check_name ORDER BY check_name)" if "check_name" in cols else "NULL"
        counts = con.execute(
            f"SELECT check_code, {name_expr}, league_code, count(*) FROM verification_findings "
            f"WHERE {month_match('run_month', month)} GROUP BY check_code, league_code"
        ).fetchall()
        names = {c: n for c, n, _lg, _k in counts}
        cnt = {(c, lg): k for c, _n, lg, k in counts}
        leagues = sorted(set(LEAGUES) | {lg for _c, _n, lg, _k in counts if lg})
        if any(lg is None for _c, _n, lg, _k in counts):
            leagues.append(None)
        grid = [
            {"check_code": c, "check_name": names[c], "league_code": lg,
             "league_name": league_name(lg), "count": cnt.get((c, lg), 0)}
            for c in sorted(names, key=str) for lg in leagues
        ]
        t = pa.Table.from_pylist(grid, schema=pa.schema([
            ("check_code", pa.string()), ("check_name", pa.string()), ("league_code", pa.string()),
            ("league_name", pa.string()), ("count", pa.int64())]))
        written.append(write_bom_csv(t, folder / "counts_by_league.csv"))
    sample = None
    if table_exists(con, "verification_sample"):
        sample = _select_all(con, "verification_sample", month)
        written.append(write_bom_csv(sample, folder / "spot_check_sample.csv"))
        written.append(write_parquet(sample, folder / "spot_check_sample.parquet"))
    written += write_bureau_verification(out_dir, findings, sample, codes)
    return written


def _league_column(t: pa.Table) -> list[str]:
    """Each row's bureau: its league_code, else the 盟市 of its region_code, else (a firm) of
    the registration authority in its USCC (characters 3-8); else the regional department."""
    n = t.num_rows
    cols = {c: t.column(c).to_pylist() for c in ("league_code", "region_code", "employer_uscc")
            if c in t.column_names}
    out = []
    for i in range(n):
        lg = (cols.get("league_code") or [None] * n)[i]
        if not lg:
            reg = (cols.get("region_code") or [None] * n)[i]
            uscc = (cols.get("employer_uscc") or [None] * n)[i]
            lg = league_of_region(reg or (uscc[2:8] if uscc and len(uscc) == 18 else None))
        out.append(lg)
    return out


def write_bureau_verification(out_dir: Path, findings: pa.Table, sample: pa.Table | None,
                              codes: list[str]) -> list[Path]:
    """exports/<league>/verification/: that 盟市's own findings per check, a count per check
    (zeros shown) and its firms drawn for joint verification; nothing of another region."""
    written: list[Path] = []
    f_league = _league_column(findings)
    s_league = _league_column(sample) if sample is not None else []
    codes = check_codes(codes)
    names = dict(CHECK_NAMES)
    if "check_name" in findings.column_names:
        for c, n in zip(findings.column("check_code").to_pylist(), findings.column("check_name").to_pylist()):
            if c not in CHECK_NAMES and n:
                names[c] = n
    leagues = sorted(set(LEAGUES) | set(f_league) | set(s_league))
    count_schema = pa.schema([("check_code", pa.string()), ("check_name", pa.string()),
                              ("count", pa.int64())])
    for league in leagues:
        folder = out_dir / "exports" / league / "verification"
        folder.mkdir(parents=True, exist_ok=True)
        mine = findings.filter(pa.array([lg == league for lg in f_league], pa.bool_())) \
            if findings.num_rows else findings
        counts = []
        for code in codes:
            part = mine.filter(pc.equal(mine.column("check_code"), code)) if mine.num_rows else mine
            counts.append({"check_code": code, "check_name": names.get(code), "count": part.num_rows})
            if part.num_rows:
                written.append(write_bom_csv(part, folder / f"findings_{_safe_name(code)}.csv"))
        written.append(write_bom_csv(pa.Table.from_pylist(counts, schema=count_schema),
                                     folder / "counts.csv"))
        if sample is not None:
            my_sample = sample.filter(pa.array([lg == league for lg in s_league], pa.bool_())) \
                if sample.num_rows else sample
            written.append(write_bom_csv(my_sample, folder / "spot_check_sample.csv"))
    return written
