"""Partitioned decide stage: the data layout a Dask cluster works on, and the reduce.

After linking (ID repair needs the global view), every `lnk_<source>` view is written as Parquet
hash-partitioned by its person key; sources without a person key that every partition needs
(business registrations) are broadcast. A partition is self-contained: a worker on any machine
opens it in an in-memory DuckDB, evaluates the person-level policies, and writes its decisions
as Parquet. The reduce step loads them into the warehouse and runs the firm-level policies
(those that aggregate across persons) on the whole month.

Layout under `<root>/<YYYY-MM>/`:
    <source>/part=<k>/data.parquet      person-partitioned lnk rows (k = hash(person key) % N)
    <source>/broadcast.parquet          sources every partition reads whole
    history/<table>/part=<k>/...        earlier runs' eligibility rows, same partitioning
    decisions/part=<k>/<table>.parquet  what each partition decided
"""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from schemas.sources import SOURCES

# The person each row is about; None = broadcast to every partition.
PERSON_KEY = {
    "employment_registration": "id_number",
    "hiring_filing": "id_number",
    "social_insurance": "id_number",
    "graduates": "id_number",
    "poverty_alleviation": "id_number",
    "fiscal_staff": "id_number",
    "deceased": "id_number",
    "subsidy_ledger": "beneficiary_id_number",
    "business_registration": None,
    "confirmations": "beneficiary_id",          # optional (From list to money): not read by decide
    "social_security_cards": "id_number",
}
HISTORY = {"eligibility": "person_id_number", "eligibility_months": "person_id_number",
           "exclusions": "person_id_number"}
DECISION_TABLES = ("eligibility", "eligibility_months", "exclusions")


def part_of(key_sql: str, n: int) -> str:
    # hash() is stable across DuckDB processes of one version; NULL keys land in partition 0.
    return f"CAST(coalesce(hash({key_sql}), 0) % {n} AS INTEGER)"


def export(con, month: str, root: Path, n: int) -> Path:
    """Write the linked month as partitioned Parquet (overwrites that month's layout)."""
    base = Path(root) / month
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    for name in SOURCES:
        key = PERSON_KEY[name]
        if key is None:
            (base / name).mkdir()
            con.execute(f"COPY (SELECT * FROM lnk_{name}) TO '{base / name / 'broadcast.parquet'}' (FORMAT parquet)")
        else:
            _write_parts(con, f"SELECT *, {part_of(key, n)} AS part FROM lnk_{name}", base / name, n)
    # Earlier runs' decisions as the single-process run sees them: only published months count.
    from policies.engine import prepare
    prepare(con)
    (base / "history").mkdir()
    con.execute(f"COPY (SELECT * FROM published_runs WHERE run_month < '{month}' ORDER BY run_month) "
                f"TO '{base / 'history' / 'published_runs.parquet'}' (FORMAT parquet)")
    for table, key in HISTORY.items():
        exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchall()[0][0]
        if exists:
            _write_parts(con, f"SELECT *, {part_of(key, n)} AS part FROM {table} WHERE run_month < '{month}' "
                              f"AND run_month IN (SELECT run_month FROM published_runs)",
                         base / "history" / table, n)
    return base


def _write_parts(con, select_sql: str, folder: Path, n: int) -> None:
    """Every partition gets a file, empty or not, so a worker never guesses a schema."""
    folder.mkdir(parents=True, exist_ok=True)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _parts AS {select_sql}")
    for k in range(n):
        d = folder / f"part={k}"
        d.mkdir(exist_ok=True)
        con.execute(f"COPY (SELECT * EXCLUDE (part) FROM _parts WHERE part = {k}) TO '{d / 'data.parquet'}' (FORMAT parquet)")
    con.execute("DROP TABLE _parts")


def open_partition(base: Path, k: int) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding exactly what partition k needs, under the stage's names."""
    from zhibu.warehouse import NORMALISE_SQL
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                                 "threads": 1})
    con.execute(NORMALISE_SQL.read_text(encoding="utf-8"))
    for name in SOURCES:
        f = base / name / ("broadcast.parquet" if PERSON_KEY[name] is None else f"part={k}/data.parquet")
        con.execute(f"CREATE TEMP VIEW lnk_{name} AS SELECT * FROM read_parquet('{f}', hive_partitioning = false)")
    runs = base / "history" / "published_runs.parquet"
    if runs.exists():
        con.execute(f"CREATE TABLE published_runs AS SELECT * FROM read_parquet('{runs}')")
    for table in HISTORY:
        f = base / "history" / table / f"part={k}" / "data.parquet"
        if f.exists():
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{f}', hive_partitioning = false)")
    return con


def save_decisions(con, base: Path, k: int, month: str) -> None:
    out = base / "decisions" / f"part={k}"
    out.mkdir(parents=True, exist_ok=True)
    for table in DECISION_TABLES:
        con.execute(f"COPY (SELECT * FROM {table} WHERE run_month = '{month}') TO '{out / (table + '.parquet')}' (FORMAT parquet)")


def reduce(con, base: Path, month: str, n: int) -> int:
    """Replace the month's decisions in the warehouse with the union of the partitions'."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table in DECISION_TABLES:
            files = [str(base / "decisions" / f"part={k}" / f"{table}.parquet") for k in range(n)]
            missing = [f for f in files if not Path(f).exists()]
            if missing:
                raise RuntimeError(f"partition results missing: {missing[0]}")
            con.execute(f"DELETE FROM {table} WHERE run_month = ?", [month])
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet({files!r}, hive_partitioning = false)")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return con.execute("SELECT count(*) FROM eligibility WHERE run_month = ?", [month]).fetchall()[0][0]
