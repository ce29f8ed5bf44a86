"""Deterministic parquet outputs: eligibility, review_queue, quarantine.

Bytes depend only on the rows: fixed writer settings, no pandas metadata, no timestamps.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from .common import (
    ELIGIBILITY_COLUMNS,
    ELIGIBILITY_SORT,
    FIRM_POLICIES,
    LEAGUES,
    UNASSIGNED_LEAGUE,
    latest_records_sql,
    check_month,
    month_first_day,
    month_match,
    table_columns,
    table_exists,
)

ELIGIBILITY_SCHEMA = pa.schema(
    [
        ("run_month", pa.string()),
        ("policy_code", pa.string()),
        ("beneficiary_type", pa.string()),
        ("beneficiary_id", pa.string()),
        ("beneficiary_name", pa.string()),
        ("person_id_number", pa.string()),
        ("person_name", pa.string()),
        ("amount", pa.decimal128(12, 2)),
        ("period_start", pa.string()),
        ("period_end", pa.string()),
        ("region_code", pa.string()),
        ("league_code", pa.string()),
        ("match_method", pa.string()),
        ("match_score", pa.float64()),
        ("evidence", pa.string()),
        ("phone", pa.string()),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("extract_month", pa.date32()),
        ("source", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("raw", pa.string()),
    ]
)

EXCLUSIONS_SCHEMA = pa.schema(
    [
        ("run_month", pa.string()),
        ("policy_code", pa.string()),
        ("beneficiary_type", pa.string()),
        ("beneficiary_id", pa.string()),
        ("person_id_number", pa.string()),
        ("person_name", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("region_code", pa.string()),
        ("league_code", pa.string()),
    ]
)

EMPTY_REVIEW_SCHEMA = pa.schema(
    [("run_month", pa.string()), ("kind", pa.string()), ("score", pa.float64())]
)

# Fixed writer settings: changing any of these changes every output hash.
_WRITER = dict(
    compression="zstd",
    compression_level=3,
    use_dictionary=True,
    write_statistics=True,
    version="2.6",
    data_page_version="1.0",
    row_group_size=1_000_000,
    store_schema=False,
)


def _str_month(col: str) -> str:
    """period_start/period_end as 'YYYY-MM' whatever the stored type is."""
    return (
        f"CASE WHEN {col} IS NULL THEN NULL "
        f"ELSE substr(CAST({col} AS VARCHAR), 1, 7) END"
    )


def eligibility_sql(month: str) -> str:
    """SELECT of month M's eligibility rows in canonical columns, types and order."""
    check_month(month)
    cols = {
        "run_month": f"'{month}'",
        "amount": "CAST(amount AS DECIMAL(12,2))",
        "match_score": "CAST(match_score AS DOUBLE)",
        "period_start": _str_month("period_start"),
        "period_end": _str_month("period_end"),
    }
    select = ",\n  ".join(
        f"{cols[c]} AS {c}" if c in cols else f"CAST({c} AS VARCHAR) AS {c}"
        for c in ELIGIBILITY_COLUMNS
    )
    order = ", ".join(f"{c} NULLS FIRST" for c in ELIGIBILITY_SORT)
    tail = ", ".join(
        f"{c} NULLS FIRST" for c in ELIGIBILITY_COLUMNS if c not in ELIGIBILITY_SORT
    )
    return (
        f"SELECT\n  {select}\nFROM eligibility\nWHERE {month_match('run_month', month)}\n"
        f"ORDER BY {order}, {tail}"
    )


def read_eligibility(con: duckdb.DuckDBPyConnection, month: str) -> pa.Table:
    if not table_exists(con, "eligibility"):
        raise RuntimeError("warehouse has no `eligibility` table: run the decide stage first")
    missing = [c for c in ELIGIBILITY_COLUMNS if c not in table_columns(con, "eligibility")]
    if missing:
        raise RuntimeError(f"`eligibility` lacks columns required by outputs.md: {missing}")
    t = con.sql(eligibility_sql(month)).to_arrow_table()
    return t.cast(ELIGIBILITY_SCHEMA)


def _masked_raw_sql() -> str:
    """`raw` with card and account numbers masked (all but the last 4 characters): they are as
    sensitive as IDs and appear in full only in the payment batch (issue 18)."""
    from schemas.sources import SOURCES
    whens = []
    for src in SOURCES.values():
        cols = src.sensitive_columns
        if not cols:
            continue
        expr = "raw"
        for c in cols:       # a JSON null stays null (a merge patch with null would drop the key)
            expr = (f"CASE WHEN raw->>'{c}' IS NULL THEN {expr} ELSE json_merge_patch({expr}, json_object('{c}', "
                    f"repeat('*', greatest(length(raw->>'{c}') - 4, 0)) || right(raw->>'{c}', 4))) END")
        whens.append(f"WHEN source = '{src.name}' THEN {expr}")
    return f"CASE {' '.join(whens)} ELSE raw END" if whens else "raw"


def read_quarantine(con: duckdb.DuckDBPyConnection, month: str) -> pa.Table:
    if not table_exists(con, "quarantine"):
        return QUARANTINE_SCHEMA.empty_table()
    first = month_first_day(month).isoformat()
    t = con.sql(
        "SELECT CAST(extract_month AS DATE) AS extract_month, CAST(source AS VARCHAR) AS source, "
        "CAST(source_file AS VARCHAR) AS source_file, CAST(source_line AS BIGINT) AS source_line, "
        "CAST(reason AS VARCHAR) AS reason, CAST(detail AS VARCHAR) AS detail, "
        f"CAST({_masked_raw_sql()} AS VARCHAR) AS raw "
        f"FROM quarantine WHERE CAST(extract_month AS DATE) = DATE '{first}' "
        "ORDER BY source NULLS FIRST, source_file NULLS FIRST, source_line NULLS FIRST, "
        "reason NULLS FIRST, detail NULLS FIRST, raw NULLS FIRST"
    ).to_arrow_table()
    return t.cast(QUARANTINE_SCHEMA)


def read_exclusions(con: duckdb.DuckDBPyConnection, month: str) -> pa.Table:
    """Every candidate an exclusion struck in `month`, with its reason, the record behind it
    (`detail`) and where it belongs: the beneficiary's county from its latest record up to the
    month (the firm's register entry for firm subsidies, else the person's latest record of any
    source), its 盟市 (or 150000 when none in Inner Mongolia)."""
    check_month(month)
    if not table_exists(con, "exclusions"):
        return EXCLUSIONS_SCHEMA.empty_table()
    firm_list = ", ".join(f"'{c}'" for c in FIRM_POLICIES)
    x = (f"SELECT '{month}' AS run_month, CAST(policy_code AS VARCHAR) AS policy_code, "
         f"CASE WHEN policy_code IN ({firm_list}) THEN 'firm' ELSE 'person' END AS beneficiary_type, "
         "CAST(beneficiary_id AS VARCHAR) AS beneficiary_id, "
         "CAST(person_id_number AS VARCHAR) AS person_id_number, CAST(reason AS VARCHAR) AS reason, "
         "CAST(detail AS VARCHAR) AS detail "
         f"FROM exclusions WHERE {month_match('run_month', month)}")
    ids = (f"SELECT beneficiary_id AS id FROM ({x}) UNION "
           f"SELECT person_id_number AS id FROM ({x})")
    places = latest_records_sql(con, month, ids)
    if places is None:
        places = "SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS region_code, NULL::VARCHAR AS name WHERE false"
    leagues = ", ".join(f"'{c}'" for c in LEAGUES)
    sql = f"""
        WITH x AS ({x}), p AS ({places}),
        j AS (
            SELECT x.*, pn.name AS person_name,
                   coalesce(b.region_code, pn.region_code) AS region_code
            FROM x LEFT JOIN p b ON b.id = x.beneficiary_id
                   LEFT JOIN p pn ON pn.id = x.person_id_number)
        SELECT run_month, policy_code, beneficiary_type, beneficiary_id, person_id_number,
               person_name, reason, detail, region_code,
               CASE WHEN substr(region_code, 1, 4) || '00' IN ({leagues})
                    THEN substr(region_code, 1, 4) || '00' ELSE '{UNASSIGNED_LEAGUE}' END AS league_code
        FROM j
        ORDER BY league_code, policy_code, reason, beneficiary_id NULLS FIRST,
                 person_id_number NULLS FIRST, detail NULLS FIRST"""
    return con.sql(sql).to_arrow_table().cast(EXCLUSIONS_SCHEMA)


def read_review_queue(con: duckdb.DuckDBPyConnection, month: str) -> pa.Table:
    """All columns of review_queue for M (its shape belongs to matchers), sorted by all."""
    if not table_exists(con, "review_queue"):
        return EMPTY_REVIEW_SCHEMA.empty_table()
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'review_queue' ORDER BY ordinal_position"
        ).fetchall()
    )
    select = []
    for c, typ in types.items():
        q = f'"{c}"'
        if typ.upper() == "JSON":
            select.append(f"CAST({q} AS VARCHAR) AS {q}")
        elif c == "run_month":
            select.append(f"'{month}' AS run_month")
        else:
            select.append(q)
    sql = (
        f"SELECT {', '.join(select)} FROM review_queue "
        f"WHERE {month_match('run_month', month)} ORDER BY ALL NULLS FIRST"
    )
    return _strip_metadata(con.sql(sql).to_arrow_table())


def _strip_metadata(t: pa.Table) -> pa.Table:
    fields = [pa.field(f.name, f.type, f.nullable) for f in t.schema]
    return t.cast(pa.schema(fields))


def write_parquet(table: pa.Table, path: Path) -> Path:
    """Write `table` with fixed settings; no schema metadata, single row group."""
    table = _strip_metadata(table).combine_chunks()
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, str(path), **_WRITER)
    return path
