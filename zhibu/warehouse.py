"""The DuckDB warehouse: one file accumulating every month, one writer at a time."""
from __future__ import annotations

import calendar
import datetime as dt
import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

import duckdb

from schemas.sources import SOURCES

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = ROOT / "data" / "warehouse.duckdb"
NORMALISE_SQL = ROOT / "schemas" / "normalise.sql"


class WarehouseBusy(RuntimeError):
    pass


def month_start(month: str) -> dt.date:
    y, m = map(int, month.split("-"))
    return dt.date(y, m, 1)


def month_end(month: str) -> dt.date:
    y, m = map(int, month.split("-"))
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def parse_month(text: str) -> str:
    """'2026-10' / '202610' → '2026-10', or ValueError naming the problem."""
    t = text.strip().replace("/", "-")
    if len(t) == 6 and t.isdigit():
        t = f"{t[:4]}-{t[4:]}"
    try:
        d = dt.datetime.strptime(t, "%Y-%m")
    except ValueError:
        raise ValueError(f"month must be YYYY-MM, got {text!r}") from None
    return d.strftime("%Y-%m")


DEFAULT_MEMORY_LIMIT = 4 * 10**9    # bytes ("4GB"); S=1 measured: 5.4-7.9 GB peak RSS in all


def settings() -> dict:
    """Memory budget and spill directory: a month spills rather than dies."""
    return {
        "memory_limit": os.environ.get("ZHIBU_MEMORY_LIMIT", f"{DEFAULT_MEMORY_LIMIT // 10**9}GB"),
        "threads": int(os.environ.get("ZHIBU_THREADS", os.cpu_count() or 2)),
    }


MONTH_MEMORY_FLOOR = 2**30          # 1 GiB
MONTH_MEMORY_PER_INPUT_BYTE = 4


def month_memory_limit(input_dir: Path | str) -> str:
    """DuckDB's memory limit for one month's run: ZHIBU_MEMORY_LIMIT when set, else sized to the
    month's files (4x their bytes, at least 1 GiB), never above the 4 GB default.

    DuckDB keeps the blocks it reads cached up to its limit, and the decide and verify stages
    read years of contributions: under a fixed limit a run's peak memory grew with the history
    it read (S=0.1: 1.1 GB at month 2, 2.7 GB at month 24), while what a month must hold (its
    typed rows, its joins) follows its own files. Beyond the limit DuckDB spills to disk.
    Not lower: under 3x / 512 MiB, S=0.1 month 13 (2026-01) failed in decide with DuckDB's
    Out of Memory Error (a rule's operators that cannot spill), although month 24 had run in
    1.18 GB instead of 1.69 GB (benchmarks/results/history_oom_512mib.md)."""
    if os.environ.get("ZHIBU_MEMORY_LIMIT"):
        return os.environ["ZHIBU_MEMORY_LIMIT"]
    folder = Path(input_dir)
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0
    want = max(MONTH_MEMORY_FLOOR, MONTH_MEMORY_PER_INPUT_BYTE * size)
    return f"{min(want, DEFAULT_MEMORY_LIMIT) // 2**20}MiB"


def connect(path: Path | str = DEFAULT_WAREHOUSE, read_only: bool = False,
            memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    s = settings()
    con = duckdb.connect(str(path), read_only=read_only, config={
        "memory_limit": memory_limit or s["memory_limit"],
        "threads": s["threads"],
        "temp_directory": str(path.parent / f".{path.stem}.tmp"),
        "autoinstall_known_extensions": False,   # nothing may download at run time
        "autoload_known_extensions": False,
        "preserve_insertion_order": True,
    })
    con.execute(NORMALISE_SQL.read_text(encoding="utf-8"))
    return con


@contextmanager
def exclusive(path: Path | str, wait: bool = False):
    """Hold the warehouse's run lock; a second run fails at once with a clear message (or waits)."""
    lock_path = Path(str(path) + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
            raise WarehouseBusy(f"warehouse {path} is in use by another run ({holder or 'unknown'}); "
                                "wait for it to finish or use --wait") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {dt.datetime.now():%Y-%m-%d %H:%M:%S}".encode(), 0)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def has_table(con, name: str) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
                       [name]).fetchall()[0][0] > 0


# stg_<source> rows whose ID/USCC columns need a link lookup (set by matchers.link, per row once)
LOOKUP_FLAG = "needs_link_lookup"


@contextmanager
def python_rows(con, name: str, columns: list[str], rows: list):
    """`rows` (tuples in `columns` order) as relation `name` for the duration of the block, to be
    inserted set-wise: executemany costs ~1 ms a row (41k listed rows took 39 s)."""
    import pyarrow as pa
    con.register(name, pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)}))
    try:
        yield name
    finally:
        con.unregister(name)


def create_asof_views(con, month: str) -> None:
    """Temp views `asof_<source>`: exactly what a run for `month` may see.

    Rows from extracts of months ≤ M only (so re-running an old month reproduces it); deltas
    keep the latest version per key (as of M); snapshots keep the latest extract ≤ M.
    """
    m = month_start(month).isoformat()
    flagged = {t for (t,) in con.execute(
        f"SELECT DISTINCT table_name FROM duckdb_columns() WHERE column_name = '{LOOKUP_FLAG}'").fetchall()}
    for name, src in SOURCES.items():
        stg = f"stg_{name}"
        if not has_table(con, stg):
            from schemas.staging import stg_columns
            cols = ", ".join(f"NULL::{t} AS {n}" for n, t in stg_columns(src))
            con.execute(f"CREATE OR REPLACE TEMP VIEW asof_{name} AS SELECT {cols}, "
                        "NULL::DATE AS extract_month, NULL AS source_file, NULL::BIGINT AS source_line WHERE false")
            continue
        visible = f"SELECT * FROM {stg} WHERE extract_month <= DATE '{m}'"
        if src.kind == "snapshot":
            sql = (f"SELECT * FROM {stg} WHERE extract_month = "
                   f"(SELECT max(extract_month) FROM {stg} WHERE extract_month <= DATE '{m}')")
        elif src.key:
            # superseded_in is maintained by the loader (a later extract's row with the same key).
            sql = f"{visible} AND (superseded_in IS NULL OR superseded_in > DATE '{m}')"
        else:
            sql = visible
        if stg in flagged:
            # the link stage's own mark (matchers.link) is not a column of the source
            con.execute(f"CREATE OR REPLACE TEMP VIEW asof_{name}__flagged AS {sql}")
            sql = f"SELECT * EXCLUDE ({LOOKUP_FLAG}) FROM ({sql})"
        con.execute(f"CREATE OR REPLACE TEMP VIEW asof_{name} AS {sql}")


class WarehouseMissing(FileNotFoundError):
    pass


@contextmanager
def read_only_view(path: Path | str):
    """A connection that can only read the warehouse: an in-memory DuckDB with the warehouse
    ATTACHed READ_ONLY and a view per table under the usual names (so code that says
    `create table if not exists` finds the view and writes nothing). Temp tables/views live
    in memory. While a run holds the warehouse (DuckDB's file lock), the file is read from a
    snapshot copy in a temp folder, removed afterwards. Nothing is created for a missing path."""
    import shutil
    import tempfile
    path = Path(path)
    if not path.is_file():
        raise WarehouseMissing(f"warehouse {path} does not exist (check --warehouse)")
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False,
                                             "threads": settings()["threads"]})
    snapshot = None
    try:
        try:
            con.execute(f"ATTACH {_sql_str(path)} AS wh (READ_ONLY)")
        except duckdb.IOException:           # a run holds the write lock: read a snapshot
            snapshot = Path(tempfile.mkdtemp(prefix="zhibu-explain-"))
            for suffix in ("", ".wal"):
                src = Path(str(path) + suffix)
                if src.exists():
                    shutil.copyfile(src, snapshot / (path.name + suffix))
            con.execute(f"ATTACH {_sql_str(snapshot / path.name)} AS wh (READ_ONLY)")
        managed = _managed_tables()
        for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh' "
                                   "AND schema_name = 'main' ORDER BY 1").fetchall():
            # decision tables whose DDL the engine re-applies (create if not exists / alter):
            # an in-memory copy; everything else (staged rows, links) a view over the file
            kind = "TABLE" if name in managed else "VIEW"
            con.execute(f'CREATE {kind} memory.main."{name}" AS SELECT * FROM wh.main."{name}"')
        con.execute(NORMALISE_SQL.read_text(encoding="utf-8"))
        yield con
    finally:
        con.close()
        if snapshot is not None:
            shutil.rmtree(snapshot, ignore_errors=True)


def _managed_tables() -> set[str]:
    """Tables the decide stage's idempotent DDL touches (policies.engine)."""
    import re
    from policies import engine
    ddl = " ".join(str(v) for k, v in vars(engine).items() if k.endswith("_DDL") and isinstance(v, str))
    return set(re.findall(r"(?i)(?:create\s+table\s+if\s+not\s+exists|alter\s+table)\s+(\w+)", ddl))


def _sql_str(p: Path) -> str:
    return "'" + str(p).replace("'", "''") + "'"
