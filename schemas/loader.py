"""Load one month's extracts into the warehouse: every row loaded or quarantined, never lost.

Two phases so a bad file never leaves a half-loaded month: first every file is read and checked
into its own raw table (bad files fail the month, all named at once, and their tables are dropped);
then one transaction registers the raw tables and replaces the month's staged and quarantine rows.
A raw table is only part of the warehouse once `load_files` names it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from schemas.readers import BadFile, ReadResult, find_file, read_file
from schemas.sources import SOURCES, Source
from schemas.staging import (build_dictionaries, drop_dictionaries, invalid_code_rows, problem_candidates, stg_columns,
                             typed_rows_sql)
from zhibu import settings
from zhibu.warehouse import LOOKUP_FLAG, has_table, month_end, month_start, python_rows

log = logging.getLogger("zhibu.load")
REGIONS_CSV = Path(__file__).with_name("regions.csv")


class LoadFailed(RuntimeError):
    """One or more files of the month cannot be loaded; nothing of the month was written."""

    def __init__(self, month: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"month {month} not loaded: " + " | ".join(problems))


@dataclass
class FileLoad:
    source: str
    file_name: str
    sha256: str
    format: str
    encoding: str | None
    rows_read: int
    rows_loaded: int = 0
    rows_quarantined: int = 0
    extra_headers: list[str] = field(default_factory=list)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


def ensure_tables(con) -> None:
    """Create what is missing and add the columns a contract gained since the warehouse was made.
    Reads the catalog once: every run calls this, and a statement per column per source was a
    tenth of a small month's load."""
    con.execute("""CREATE TABLE IF NOT EXISTS load_files (
        extract_month DATE, source VARCHAR, file_name VARCHAR, sha256 VARCHAR, format VARCHAR,
        encoding VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT)""")
    con.execute("ALTER TABLE load_files ADD COLUMN IF NOT EXISTS raw_table VARCHAR")
    con.execute("""CREATE TABLE IF NOT EXISTS quarantine (
        extract_month DATE, source VARCHAR, source_file VARCHAR, source_line BIGINT,
        reason VARCHAR, detail VARCHAR, raw JSON)""")
    if not has_table(con, "ref_regions"):
        con.execute("CREATE TABLE ref_regions AS SELECT CAST(code AS VARCHAR) AS code, name, "
                    "CAST(league_code AS VARCHAR) AS league_code FROM read_csv(?, all_varchar = true)",
                    [str(REGIONS_CSV)])
    _drop_unregistered_raw(con)
    relations = _relations(con)
    columns: dict[str, set[str]] = {}
    for table, column in con.execute("SELECT table_name, column_name FROM duckdb_columns() "
                                     "WHERE NOT internal AND starts_with(table_name, 'stg_')").fetchall():
        columns.setdefault(table, set()).add(column)
    for name, src in SOURCES.items():
        if relations.get(f"raw_{name}") == "TABLE":     # the layout before raw files were kept as read
            con.execute(f"ALTER TABLE raw_{name} RENAME TO raw_{name}__legacy")
            relations.pop(f"raw_{name}")
        if f"raw_{name}" not in relations:
            build_raw_view(con, src)
        stg = f"stg_{name}"
        if stg not in relations:
            stg_cols = ", ".join(f"{n} {t}" for n, t in stg_columns(src))
            # superseded_in: the extract month whose row with the same key replaced this one, so
            # the as-of view of any month is a filter, not a window over all history.
            # needs_link_lookup: set once per row by the link stage (matchers.link)
            con.execute(f"""CREATE TABLE IF NOT EXISTS {stg} ({stg_cols}, extract_month DATE,
                            source_file VARCHAR, source_line BIGINT, superseded_in DATE,
                            {LOOKUP_FLAG} BOOLEAN)""")
            continue
        if LOOKUP_FLAG not in columns.get(stg, set()):
            con.execute(f"ALTER TABLE {stg} ADD COLUMN IF NOT EXISTS {LOOKUP_FLAG} BOOLEAN")
        for col, typ in stg_columns(src):      # a column the contract gained since the warehouse was made
            if col not in columns.get(stg, set()):
                con.execute(f"ALTER TABLE {stg} ADD COLUMN IF NOT EXISTS {col} {typ}")


# The raw layer. Each file is kept as the reader read it, in its own table `raw_<source>__f<token>`
# (a CSV's is a view over `…__in`, the table read_csv filled: its row id is the line number), so a
# 20M-row month is written once, not read into a temp table and copied. `load_files.raw_table`
# registers it; the view `raw_<source>` is the union of the registered ones under canonical names.
RAW_FILE = re.compile(r"^raw_[a-z_]+?__f[0-9a-f]{12}$")


def new_raw_table(source: str) -> str:
    return f"raw_{source}__f{secrets.token_hex(6)}"


def _relations(con, *names: str, temporary: bool = False) -> dict[str, str]:
    """Tables and views (persistent or temporary; among `names`, if given) → 'TABLE' or 'VIEW'."""
    rows = con.execute("""SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary = $t
                          UNION ALL SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary = $t""",
                       {"t": temporary}).fetchall()
    return {n: k for n, k in rows if not names or n in names}


def _drop(con, *names: str, temporary: bool) -> None:
    """Drop the named tables and views that exist, views first (they may read the tables)."""
    if not names:                # (no names would mean every relation to `_relations`)
        return
    for n, kind in sorted(_relations(con, *names, temporary=temporary).items(), key=lambda r: r[1] == "TABLE"):
        con.execute(f"DROP {kind} {n}")


def drop_raw(con, *tables: str) -> None:
    """Drop raw file relations: the table, or a CSV's view and its `…__in` table."""
    _drop(con, *tables, *(f"{t}__in" for t in tables), temporary=False)


def _drop_unregistered_raw(con) -> None:
    """Raw tables of a load that never committed (the process was killed while reading)."""
    registered = {r[0] for r in con.execute("SELECT raw_table FROM load_files WHERE raw_table IS NOT NULL").fetchall()}
    stems = {n.removesuffix("__in") for n in _relations(con)}
    drop_raw(con, *sorted(s for s in stems if RAW_FILE.match(s) and s not in registered))


def build_raw_view(con, src: Source) -> None:
    """(Re)define `raw_<source>`: every registered file's rows under canonical names."""
    cols = [c.name for c in src.columns]
    tail = ["extract_month", "source_file", "source_line", "extra_columns"]
    parts = []
    for rel, month, file_name in con.execute(
            "SELECT raw_table, extract_month, file_name FROM load_files WHERE source = ? AND raw_table IS NOT NULL "
            "ORDER BY extract_month, file_name", [src.name]).fetchall():
        present = {r[0] for r in con.execute(f"DESCRIBE {rel}").fetchall()}
        sel = [c if c in present else f"NULL::VARCHAR AS {c}" for c in cols]
        parts.append(f"SELECT {', '.join(sel)}, DATE '{month}' AS extract_month, "
                     f"'{file_name.replace(chr(39), chr(39) * 2)}' AS source_file, source_line, extra_columns FROM {rel}")
    if has_table(con, f"raw_{src.name}__legacy"):
        parts.append(f"SELECT {', '.join(cols + tail)} FROM raw_{src.name}__legacy")
    if not parts:
        parts.append(f"SELECT {', '.join(f'NULL::VARCHAR AS {c}' for c in cols)}, NULL::DATE AS extract_month, "
                     "NULL::VARCHAR AS source_file, NULL::BIGINT AS source_line, NULL::JSON AS extra_columns WHERE false")
    con.execute(f"CREATE OR REPLACE VIEW raw_{src.name} AS " + "\nUNION ALL ".join(parts))


def _check_snapshot(con, src: Source, month: str, rows: int, path: Path) -> None:
    if src.kind != "snapshot" or not has_table(con, "load_files"):
        return
    prev = con.execute(
        """SELECT rows_read FROM load_files WHERE source = ? AND extract_month < ?
           ORDER BY extract_month DESC LIMIT 1""", [src.name, month_start(month)]).fetchall()
    prev = prev[0] if prev else None
    ratio = settings.get("snapshot_min_ratio")
    if prev and rows < ratio * prev[0]:
        raise BadFile(path, f"snapshot has {rows} rows, fewer than {ratio:.0%} of the previous "
                            f"snapshot's {prev[0]}: refusing to replace the roster (setting snapshot_min_ratio)")


XLSX_WORKER_BYTES = 2 << 20    # sheets this big are parsed in a worker process while the CSVs load


class _Pending:
    """An xlsx sheet being parsed by a worker process; `result` puts it into its raw table."""

    def __init__(self, src: Source, path: Path, workdir: Path):
        from schemas import xlsx_worker
        self.src, self.path, self.table = src, path, new_raw_table(src.name)
        self.out = Path(tempfile.mkstemp(suffix=".arrow", dir=workdir)[1])
        self.proc = xlsx_worker.start(src.name, path, self.out)

    def result(self, con) -> ReadResult:
        from schemas import xlsx_worker
        from schemas.readers import xlsx_into
        t0 = time.perf_counter()
        res = xlsx_into(con, self.src, self.path, self.table,
                        xlsx_worker.collect(self.proc, self.path, self.out))
        log.info("read %s: %d rows (parsed by a worker process; waited %.1fs)", self.path.name,
                 res.rows_read, time.perf_counter() - t0)
        return res

    def cancel(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.unlink(missing_ok=True)


def read_month(con, month: str, input_dir: Path, disabled=(), workdir: Path | None = None):
    """Phase 1: read and check every file of the month into its raw table. Raises LoadFailed.

    Big xlsx sheets are parsed by worker processes (python-calamine, ~4x openpyxl, still seconds a regional
    month) while this process reads and stages the CSVs; they come back as _Pending and are
    checked before the month commits (`finish_reads`).
    """
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise LoadFailed(month, [f"input folder {input_dir} does not exist"])
    problems, reads = [], {}
    workdir = workdir or Path(tempfile.gettempdir())
    found = {}
    for name, src in SOURCES.items():
        if name in disabled:
            continue
        try:
            path = find_file(input_dir, name)
        except BadFile as e:
            problems.append(f"{name}: {e}")
            continue
        if path is None:
            if src.required:
                problems.append(f"missing required source {name} ({src.title}): expected "
                                f"{name}.csv, {name}.xlsx or {name}.parquet in {input_dir} "
                                f"(or switch it off with --without {name})")
            continue
        found[name] = path
    problems += unexpected_files(input_dir, found, disabled)
    for name, path in found.items():
        if path.suffix.lower() == ".xlsx" and path.stat().st_size >= XLSX_WORKER_BYTES:
            reads[name] = (path, _Pending(SOURCES[name], path, workdir))
    try:
        for name, path in found.items():
            if name in reads:
                continue
            table = new_raw_table(name)
            try:
                t0 = time.perf_counter()
                res = read_file(con, SOURCES[name], path, table, workdir)
                log.info("read %s: %d rows in %.1fs", path.name, res.rows_read, time.perf_counter() - t0)
                _check_snapshot(con, SOURCES[name], month, res.rows_read, path)
                reads[name] = (path, res)
            except BadFile as e:
                drop_raw(con, table)
                problems.append(f"{name}: {e}")
        if problems:
            problems += finish_reads(con, month, reads)
            raise LoadFailed(month, problems)
    except BaseException:
        _cancel_pending(reads)
        drop_raw(con, *_raw_tables(reads))
        raise
    return reads


def unexpected_files(input_dir: Path, found: dict, disabled=()) -> list[str]:
    """Every file in the folder is read or refused, never ignored: a second file of a source
    (`social_insurance_2.csv`), a format the contract does not know, anything else."""
    from schemas.readers import FORMATS
    known = {p.name for p in found.values()}
    out = []
    for p in sorted(input_dir.iterdir()):
        if p.name in known or p.name.startswith("."):
            continue
        stem, ext = p.stem, p.suffix.lower().lstrip(".")
        if p.is_file() and stem in disabled and ext in FORMATS:
            log.info("%s: source %s switched off, file not read", p.name, stem)
            continue
        if p.is_dir():
            why = "a folder: the month's extracts are files directly in the input folder"
        elif stem in SOURCES:
            why = f"format .{ext} is not supported (csv, xlsx or parquet)"
        else:
            near = [n for n in SOURCES if stem.startswith(n) or n.startswith(stem)]
            why = ("not a source of the contract" + (f" (one file per source: all {near[0]} rows belong in "
                   f"{near[0]}.csv/.xlsx/.parquet)" if near else f"; expected one of {', '.join(SOURCES)}"))
        out.append(f"unexpected file {p.name}: {why}; remove or rename it, nothing of it was read")
    return out


def _cancel_pending(reads: dict) -> None:
    for _, res in reads.values():
        if isinstance(res, _Pending):
            res.cancel()


def finish_reads(con, month: str, reads: dict) -> list[str]:
    """Replace each sheet parsed by a worker in `reads` by its read result; returns the problems."""
    problems = []
    for name, (path, res) in list(reads.items()):
        if isinstance(res, _Pending):
            try:
                res = res.result(con)
                _check_snapshot(con, SOURCES[name], month, res.rows_read, path)
                reads[name] = (path, res)
            except BadFile as e:
                drop_raw(con, res.table)
                problems.append(f"{name}: {e}")
                del reads[name]
    return problems


def _stage(con, src: Source, month: str, path: Path, res: ReadResult) -> FileLoad:
    name, m = src.name, month_start(month)
    fl = FileLoad(name, path.name, res.sha256 or sha256_of(path), res.fmt, res.encoding, res.rows_read,
                  extra_headers=res.extra_headers)
    present = {r[0] for r in con.execute(f"DESCRIBE {res.table}").fetchall()}
    cols = [c.name if c.name in present else f"NULL::VARCHAR AS {c.name}" for c in src.columns]
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _raw_{name} AS
                    SELECT {', '.join(cols)}, source_line, extra_columns FROM {res.table}""")
    out_cols = ", ".join(n for n, _ in stg_columns(src))
    # Rows whose every ID/USCC is present and valid first, then the rest: the few the link stage
    # looks up (a scan for them, matchers.link: needs_link_lookup, skips the row groups that have
    # none) and those without an employer (灵活就业, read together by its policy). Two inserts
    # rather than an ORDER BY: sorting 20M wide rows cost more than typing twice.
    all_codes_valid = " AND ".join(f"coalesce({v}, false)" for v, _ in stg_columns(src) if v.endswith("_valid"))
    build_dictionaries(con, src, f"_raw_{name}")
    # Typed rows go straight into the staged table; the few rows with a problem are found
    # by their dictionaries' bad values and typed again, apart, for the quarantine.
    # The second insert types only the raw rows whose dictionaries say a code is invalid or
    # missing (a few, and the 灵活就业 rows), not every row again.
    parts = [("true", f"_raw_{name}")]
    if all_codes_valid:
        con.execute(f"""CREATE OR REPLACE TEMP VIEW _raw_invalid_{name} AS
                        SELECT * FROM _raw_{name} r WHERE {invalid_code_rows(con, src) or 'true'}""")
        parts = [(all_codes_valid, f"_raw_{name}"), (f"NOT ({all_codes_valid})", f"_raw_invalid_{name}")]
    for part, rows in parts:
        con.execute(f"""INSERT INTO stg_{name} ({out_cols}, extract_month, source_file, source_line, superseded_in)
                        SELECT {out_cols}, DATE '{m}', ?, source_line, NULL
                        FROM ({typed_rows_sql(src, rows)}) WHERE _problem = '' AND ({part})""",
                    [path.name])
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _cand_{name} AS
                    SELECT * FROM _raw_{name} r WHERE {problem_candidates(con, src)}""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _bad_{name} AS SELECT source_line, _problem
                    FROM ({typed_rows_sql(src, f"_cand_{name}")}) WHERE _problem <> ''""")
    # Not in a `finally`: after a failed statement the month's transaction is aborted, a DROP
    # would fail too and hide the cause (an interrupted query read as 'transaction is aborted');
    # the month's ROLLBACK (_load_month) discards the dictionaries with the rest.
    drop_dictionaries(con, src)
    # Within one file a later line with the same key supersedes an earlier one (quarantined as
    # such). Keys are grouped by their hash first: duplicates are rare, so the exact window
    # runs only on the few rows whose hash repeats.
    this_file = f"extract_month = DATE '{m}' AND source_file = $file"
    if src.key:
        key = ", ".join(src.key)
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _dups_{name} AS
            WITH repeated AS (SELECT hash({key}) AS h FROM stg_{name} WHERE {this_file}
                              GROUP BY h HAVING count(*) > 1),
            versions AS (SELECT source_line, max(source_line) OVER (PARTITION BY {key}) AS superseded_by
                         FROM stg_{name} WHERE {this_file} AND hash({key}) IN (SELECT h FROM repeated))
            SELECT source_line, superseded_by FROM versions WHERE source_line <> superseded_by""",
                    {"file": path.name})
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _dups_{name} AS SELECT NULL::BIGINT AS source_line, NULL::BIGINT AS superseded_by WHERE false")
    has_dups = con.execute(f"SELECT count(*) FROM _dups_{name}").fetchall()[0][0] > 0
    if has_dups:
        con.execute(f"""DELETE FROM stg_{name} WHERE {this_file}
                        AND source_line IN (SELECT source_line FROM _dups_{name})""", {"file": path.name})
    raw_json = "to_json({" + ", ".join(f"'{c.name}': r.{c.name}" for c in src.columns) + "})"
    dup_rows = f"""UNION ALL
            SELECT d.source_line, 'duplicate_key', 'same key as line ' || d.superseded_by || ', which supersedes it',
                   {raw_json}
            FROM _dups_{name} d JOIN _raw_{name} r USING (source_line)""" if has_dups else ""
    con.execute(f"""INSERT INTO quarantine
        WITH problem_rows AS (
            SELECT b.source_line, split_part(b._problem, ':', 1) AS reason, b._problem AS detail, {raw_json} AS raw
            FROM _bad_{name} b JOIN _cand_{name} r USING (source_line)
            {dup_rows})
        SELECT DATE '{m}', '{name}', ?, source_line, reason, detail, raw
        FROM problem_rows ORDER BY source_line""", [path.name])
    if res.rejected:
        with python_rows(con, "_rejected_frame", ["line", "error", "raw"],
                         [(rej["line"], rej["error"], rej["raw"]) for rej in res.rejected]):
            con.execute("""INSERT INTO quarantine SELECT ?, ?, ?, line, 'malformed_row', error,
                                  to_json({'line_text': raw}) FROM _rejected_frame ORDER BY line""",
                        [m, name, path.name])
    fl.rows_loaded = con.execute(f"SELECT count(*) FROM stg_{name} WHERE extract_month = ? AND source_file = ?",
                                 [m, path.name]).fetchall()[0][0]
    fl.rows_quarantined = con.execute(
        "SELECT count(*) FROM quarantine WHERE extract_month = ? AND source = ?", [m, name]).fetchall()[0][0]
    if fl.rows_read != fl.rows_loaded + fl.rows_quarantined:
        raise RuntimeError(f"{path.name}: rows read {fl.rows_read} != loaded {fl.rows_loaded} "
                           f"+ quarantined {fl.rows_quarantined}")
    con.execute("""INSERT INTO load_files (extract_month, source, file_name, sha256, format, encoding, rows_read,
                                           rows_loaded, rows_quarantined, raw_table)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [m, name, fl.file_name, fl.sha256, fl.format, fl.encoding, fl.rows_read,
                 fl.rows_loaded, fl.rows_quarantined, res.table])
    drop_temp(con, f"_raw_invalid_{name}", f"_raw_{name}", f"_cand_{name}", f"_bad_{name}", f"_dups_{name}")
    return fl


def drop_temp(con, *names: str) -> None:
    """Drop temp views and tables (readers leave either) by name, views first."""
    _drop(con, *names, temporary=True)


def mark_superseded(con, src: Source, month: str) -> None:
    """Set `superseded_in` for every version of the keys this month's extract touched."""
    if src.kind != "delta" or not src.key:
        return
    others = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM stg_{src.name} WHERE extract_month <> ? LIMIT 1)",
                         [month_start(month)]).fetchall()[0][0]
    if not others:          # the first month loaded: nothing to supersede
        return
    key = ", ".join(src.key)
    # A key that holds a date (费款所属期, 登记日期, …) can only recur in earlier months' rows whose
    # date lies in this month's range: that filter lets DuckDB skip whole row groups of old months
    # by their min/max, so the cost follows this month's rows, not the years of history.
    in_range = []
    for c in src.key:
        if src.column(c).kind in ("date", "month"):
            lo, hi, nulls = con.execute(f"SELECT min({c}), max({c}), bool_or({c} IS NULL) FROM stg_{src.name} "
                                        "WHERE extract_month = ?", [month_start(month)]).fetchall()[0]
            if lo is None:
                in_range.append(f"{c} IS NULL")
            else:
                in_range.append(f"({c} BETWEEN DATE '{lo}' AND DATE '{hi}'{f' OR {c} IS NULL' if nulls else ''})")
    near = "".join(f" AND {r}" for r in in_range)
    # Keys are matched by hash first (one 8-byte column instead of the key's strings), then
    # exactly on the few rows whose hash another month shares.
    con.execute(f"""
        UPDATE stg_{src.name} s SET superseded_in = n.next_month
        FROM (
            WITH this_month AS (SELECT hash({key}) AS h FROM stg_{src.name} WHERE extract_month = $m),
            other_months AS (SELECT hash({key}) AS h FROM stg_{src.name} WHERE extract_month <> $m{near}),
            shared AS (SELECT DISTINCT h FROM other_months SEMI JOIN this_month USING (h)),
            versions AS (SELECT rowid AS rid, {key}, extract_month FROM stg_{src.name}
                         WHERE true{near} AND hash({key}) IN (SELECT h FROM shared))
            -- every version of a shared key, NULL key parts included (a 灵活就业 contribution has
            -- no employer): PARTITION BY groups NULLs, where a join USING the key would drop them
            SELECT rid, lead(extract_month) OVER (PARTITION BY {key} ORDER BY extract_month) AS next_month
            FROM versions
        ) n
        WHERE s.rowid = n.rid AND s.superseded_in IS DISTINCT FROM n.next_month""", {"m": month_start(month)})


def check_run_month(month: str, input_dir: Path, today: dt.date | None = None) -> None:
    """Refuse, before anything is read, a month that cannot be this folder's (extracts.md)."""
    today = today or dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    if month_start(month) > today.replace(day=1):
        raise LoadFailed(month, [f"run month {month} is after the current month {today:%Y-%m}: "
                                 "its extracts cannot exist yet"])
    named = re.fullmatch(r"(\d{4})-?(\d{2})", Path(input_dir).name)
    if named and f"{named[1]}-{named[2]}" != month:
        raise LoadFailed(month, [f"input folder {Path(input_dir).name} is named for month "
                                 f"{named[1]}-{named[2]}, not {month}: check --month and --input"])


@contextmanager
def scratch_dir(con):
    """A private folder beside the warehouse for transcoded CSVs and parsed sheets: personal data
    never lands outside the warehouse's folder (not in /tmp), and it is removed whatever happens."""
    row = (con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
           or [None])[0]
    base = Path(row[0]).parent if row and row[0] else None
    d = Path(tempfile.mkdtemp(prefix=".zhibu-scratch-", dir=base))
    try:
        os.chmod(d, 0o700)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def load_month(con, month: str, input_dir: Path, disabled=()) -> list[FileLoad]:
    """Load a month's extracts; re-loading a month replaces exactly that month's rows."""
    check_run_month(month, input_dir)
    ensure_tables(con)
    con.execute(f"SET VARIABLE zb_as_of = DATE '{month_end(month)}'")
    with scratch_dir(con) as workdir:
        reads = read_month(con, month, input_dir, disabled, workdir=workdir)
        try:
            return _load_month(con, month, reads)
        except BaseException:
            drop_raw(con, *_raw_tables(reads))
            raise
        finally:
            _cancel_pending(reads)


def _raw_tables(reads: dict) -> list[str]:
    return [res.table for _, res in reads.values()]


def refuse_resent_month(con, month: str, reads: dict) -> None:
    """A file set identical (by sha256) to an earlier month's is that month re-sent, not this one.
    Only a set holding at least one delta row identifies a month: a set of header-only deltas
    and unchanged snapshots is a quiet month, not a copy."""
    shas = {}
    for name, (path, res) in reads.items():
        shas[name] = getattr(res, "sha256", None) or sha256_of(path)
        if isinstance(res, ReadResult):
            res.sha256 = shas[name]
    # (a sheet still being parsed by a worker counts as holding rows)
    if not any(SOURCES[n].kind == "delta" and getattr(res, "rows_read", 1) > 0 for n, (_, res) in reads.items()):
        return
    mine = sorted(shas.items())
    for other, in con.execute("SELECT DISTINCT extract_month FROM load_files WHERE extract_month <> ? "
                              "ORDER BY 1", [month_start(month)]).fetchall():
        theirs = sorted(con.execute("SELECT source, sha256 FROM load_files WHERE extract_month = ?",
                                    [other]).fetchall())
        if theirs == mine:
            raise LoadFailed(month, [f"every file of {next(iter(reads.values()))[0].parent} is byte-identical "
                                     f"(sha256) to the extracts already loaded as {other:%Y-%m}: this is that "
                                     f"month re-sent, not {month}; ask the departments for {month}'s extracts"])


def refuse_future_dated(con, src: Source, month: str, path: Path) -> None:
    """More than a few rows dated after the run month: the file belongs to a later month."""
    rows = con.execute("""SELECT count(*), min(detail) FROM quarantine WHERE extract_month = ? AND source = ?
                          AND source_file = ? AND reason = 'future_date'""",
                       [month_start(month), src.name, path.name]).fetchall()[0]
    if rows[0] > settings.get("future_dated_rows_max"):
        cols = [c for c in src.columns if c.event]
        mine = "extract_month = $m AND source = $s AND source_file = $f AND reason = 'future_date'"
        dates = con.execute(f"""SELECT min(d), max(d) FROM (
            {" UNION ALL ".join(f"SELECT zb_date(raw->>'{c.name}') AS d FROM quarantine WHERE {mine}" for c in cols)}
            ) WHERE d > getvariable('zb_as_of')""", {"m": month_start(month), "s": src.name, "f": path.name}).fetchall()[0]
        raise BadFile(path, f"{rows[0]} rows dated after {month_end(month)} ({dates[0]}..{dates[1]}): this "
                            f"file belongs to a later month (setting future_dated_rows_max = "
                            f"{settings.get('future_dated_rows_max')})")


def _load_month(con, month: str, reads: dict) -> list[FileLoad]:
    m = month_start(month)
    loads = []
    refuse_resent_month(con, month, reads)
    con.execute("BEGIN TRANSACTION")
    try:
        replaced = [r[0] for r in con.execute("SELECT raw_table FROM load_files WHERE extract_month = ? "
                                              "AND raw_table IS NOT NULL", [m]).fetchall()]
        drop_raw(con, *replaced)
        for name in SOURCES:
            con.execute(f"DELETE FROM stg_{name} WHERE extract_month = ?", [m])
            if has_table(con, f"raw_{name}__legacy"):
                con.execute(f"DELETE FROM raw_{name}__legacy WHERE extract_month = ?", [m])
            con.execute(f"UPDATE stg_{name} SET superseded_in = NULL WHERE superseded_in = ?", [m])
        con.execute("DELETE FROM quarantine WHERE extract_month = ?", [m])
        con.execute("DELETE FROM load_files WHERE extract_month = ?", [m])
        pending = [n for n, (_, res) in reads.items() if isinstance(res, _Pending)]
        for batch in ([n for n in reads if n not in pending], pending):   # worker-parsed sheets last
            if batch is pending and (problems := finish_reads(con, month, reads)):
                raise LoadFailed(month, problems)
            for name in batch:
                path, res = reads[name]
                t0 = time.perf_counter()
                fl = _stage(con, SOURCES[name], month, path, res)
                try:
                    refuse_future_dated(con, SOURCES[name], month, path)
                except BadFile as e:
                    raise LoadFailed(month, [f"{name}: {e}"]) from None
                log.info("loaded %s: read %d, loaded %d, quarantined %d in %.1fs", path.name, fl.rows_read,
                         fl.rows_loaded, fl.rows_quarantined, time.perf_counter() - t0)
                loads.append(fl)
        loads.sort(key=lambda fl: list(SOURCES).index(fl.source))
        t0 = time.perf_counter()
        for name in SOURCES:
            mark_superseded(con, SOURCES[name], month)
            build_raw_view(con, SOURCES[name])
        con.execute("COMMIT")
        log.info("supersession marked and month committed in %.1fs", time.perf_counter() - t0)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return loads
