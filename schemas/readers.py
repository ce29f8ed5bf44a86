"""Read one extract file into a temp DuckDB table of strings under canonical column names.

Every reader yields the same shape, so typing and quarantine are one SQL pass whatever the
format: canonical columns (VARCHAR), `source_line` (line in the file: the header is line 1 and
the first data row line 2 — for Parquet too, so a row has the same number whatever the format) and `extra_columns` (JSON of unknown columns).
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import re
import struct
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from schemas.sources import Source

FORMATS = ("csv", "xlsx", "parquet")
CHUNK = 8 << 20
HEADER_SEARCH_ROWS = 10
NUL = bytes(1)


class BadFile(Exception):
    """A file that cannot be loaded at all: the message names the file and the problem."""

    def __init__(self, path: Path | str, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{Path(path).name}: {problem}")

    def __reduce__(self):          # raised in the xlsx worker process, re-raised here
        return BadFile, (self.path, self.problem)


@dataclass
class ReadResult:
    table: str                     # the raw rows as received: a table, or a view over `<table>__in`
    fmt: str
    encoding: str | None
    rows_read: int                 # data rows in the file (incl. malformed ones)
    rejected: list[dict] = field(default_factory=list)   # malformed CSV lines: line, raw, error
    extra_headers: list[str] = field(default_factory=list)
    sha256: str | None = None      # when the reader already hashed the file's bytes


def _clean_header(h: str) -> str:
    h = (h or "").replace("\ufeff", "").strip()
    return h.replace("(", "（").replace(")", "）") if re.search(r"[\u4e00-\u9fff]", h) else h


def map_headers(source: Source, headers: list[str], path: Path) -> tuple[dict[str, str], list[str]]:
    """Header as written → canonical name; fails on missing required or duplicated columns."""
    accepted = {_clean_header(k): v for k, v in source.header_map().items()}
    mapping, extras, seen = {}, [], {}
    for h in headers:
        canon = accepted.get(_clean_header(h))
        if canon is None:
            extras.append(h)
            continue
        if canon in seen:
            raise BadFile(path, f"columns '{seen[canon]}' and '{h}' both mean {canon}")
        seen[canon] = h
        mapping[h] = canon
    missing = [c for c in source.columns if c.required and c.name not in seen]
    if missing:
        names = ", ".join(f"{c.header} ({c.name})" for c in missing)
        raise BadFile(path, f"missing required column(s): {names}")
    return mapping, extras


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _extras_json(pairs) -> str:
    """SQL for `extra_columns`: the columns the contract does not name, (header, SQL expression)
    pairs, kept as a JSON object under their headers as written."""
    keys, fields = {}, []
    for h, expr in pairs:
        # A header written twice (two 备注 columns) or not at all still gets a key of its own.
        key = (h or "").strip() or "(无表头)"
        keys[key] = keys.get(key, 0) + 1
        if keys[key] > 1:
            key = f"{key}({keys[key]})"
        fields.append(f"'{key.replace(chr(39), chr(39) * 2)}': {expr}")
    fields = ", ".join(fields)
    return f"to_json({{{fields}}})" if fields else "NULL::JSON"


@dataclass
class _Bytes:
    """What one strict pass over a file's bytes found."""
    newlines: int = 0
    problem: str | None = None     # 'binary', 'invalid' or 'truncated' (None: every byte decoded)
    offset: int = 0                # where the problem is
    sha256: str | None = None      # when asked for and there was no problem


class _Utf8Validator:
    """Strict UTF-8 check without decoding to str: Arrow validates each chunk (cast binary →
    string, zero-copy), a character split by the chunk boundary is carried to the next chunk.
    A third of the cost of `bytes.decode` on a 2 GB month, and it runs beside DuckDB's parse."""

    def __init__(self):
        self.carry = b""

    @staticmethod
    def _complete(chunk: bytes) -> int:
        """Length of the prefix of `chunk` that ends on a whole character."""
        n = len(chunk)
        for back in range(1, min(4, n) + 1):
            b = chunk[n - back]
            if b & 0xC0 != 0x80:            # ASCII or a lead byte: how long is its character?
                need = 2 if b >> 5 == 0b110 else 3 if b >> 4 == 0b1110 else 4 if b >> 3 == 0b11110 else 1
                return n if back >= need else n - back
        return n

    def decode(self, chunk: bytes, final: bool = False) -> None:
        data = self.carry + chunk if self.carry else chunk
        end = len(data) if final else self._complete(data)
        self.carry = data[end:]
        try:
            pa.Array.from_buffers(pa.binary(), 1, [None, pa.py_buffer(struct.pack("<ii", 0, end)),
                                                  pa.py_buffer(data)]).cast(pa.string())
        except pa.ArrowInvalid:
            # Only now decode in Python, for the offset of the bad byte (relative to `chunk`).
            try:
                data[:end].decode("utf-8")
            except UnicodeDecodeError as e:
                raise UnicodeDecodeError("utf-8", data, e.start - (len(data) - len(chunk)), e.end, e.reason) from None


def _scan_bytes(path: Path, enc: str, digest: bool = False) -> _Bytes:
    """Decode every byte strictly in `enc`, counting newlines (and hashing); stops at the first problem."""
    out, h = _Bytes(), hashlib.sha256() if digest else None
    dec = _Utf8Validator() if enc in ("utf-8", "utf-8-sig") else codecs.getincrementaldecoder(enc)("strict")
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            if NUL in chunk:
                out.problem, out.offset = "binary", out.offset + chunk.index(NUL)
                return out
            try:
                dec.decode(chunk)
            except UnicodeDecodeError as e:
                out.problem, out.offset = "invalid", out.offset + max(e.start, 0)
                return out
            if h:
                h.update(chunk)
            out.newlines += chunk.count(b"\n")
            out.offset += len(chunk)
    try:
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        out.problem = "truncated"
        return out
    out.sha256 = h.hexdigest() if h else None
    return out


def detect_encoding(path: Path) -> tuple[str, int]:
    """Return (encoding, newline count). UTF-8 (with or without BOM) or GB18030, else BadFile.

    The whole file is decoded strictly (cheap next to loading it), so a wrong guess can't
    slip through on a late byte.
    """
    if path.stat().st_size == 0:
        raise BadFile(path, "empty file (0 bytes)")
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise BadFile(path, "UTF-16 encoded: supported encodings are UTF-8, UTF-8 with BOM, GB18030/GBK")
    errors = []
    for enc in ("utf-8", "gb18030"):
        scan = _scan_bytes(path, enc)
        if scan.problem == "binary":
            raise BadFile(path, f"binary content (NUL byte at offset {scan.offset}): not a CSV text file")
        if scan.problem == "truncated" and enc == "utf-8":
            raise BadFile(path, f"truncated: the file ends in the middle of a character (byte {scan.offset})")
        if scan.problem:
            errors.append(f"{enc}: invalid byte at offset {scan.offset}")
            continue
        if enc == "utf-8":
            return ("utf-8-sig" if head[:3] == b"\xef\xbb\xbf" else "utf-8"), scan.newlines
        _prove_gb18030(path)
        return enc, scan.newlines
    raise BadFile(path, "no supported encoding (UTF-8, UTF-8 BOM, GB18030): " + "; ".join(errors))


# Characters that Chinese-language government extracts do not contain, but that Big5 bytes
# read as GB18030 produce: private-use code points, kana, box drawing, Greek and Cyrillic.
# (・ U+30FB is not among them: it is one of the separator dots of Mongolian names.)
_IMPLAUSIBLE = re.compile("[\ue000-\uf8ff\u3040-\u30fa\u30fc-\u30ff\u2500-\u257f\u0370-\u04ff]")
_HAN = re.compile("[\u4e00-\u9fff]")


def _prove_gb18030(path: Path) -> None:
    """A file that is not UTF-8 is read as GB18030 only when that reading is plausible.

    Big5 bytes are mostly valid GB18030 too, so a strict decode proves nothing: 張偉 in Big5
    reads as 眎岸. Refused, not guessed: the text read as GB18030 holds characters no extract
    contains, or fewer than 80% of its Han characters are GB2312's (names are common
    characters) while the bytes are also valid Big5."""
    with open(path, "rb") as f:
        raw = f.read(CHUNK)
    text = raw.decode("gb18030", errors="ignore")
    odd = _IMPLAUSIBLE.findall(text)
    han = _HAN.findall(text)
    common = sum(1 for ch in han if _in_gb2312(ch))
    try:
        raw.decode("big5")
        big5 = True
    except UnicodeDecodeError as e:
        big5 = e.start >= len(raw) - 1       # only the chunk's cut character
    if odd or (big5 and han and common < 0.8 * len(han)):
        example = "".join(dict.fromkeys(odd))[:5] or "rare characters"
        raise BadFile(path, "encoding cannot be proved: read as GB18030 it gives characters no extract "
                            f"holds ({example!r}{', and the bytes are also valid Big5' if big5 else ''}); "
                            "nothing was loaded. Re-export the file as UTF-8 (or GB18030)")


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


class _Utf8Check(threading.Thread):
    """The whole-file UTF-8 pass (with the sha256), run while DuckDB parses the same file:
    hashlib and file reads release the GIL."""

    def __init__(self, path: Path):
        super().__init__(daemon=True)
        self.path, self.result = path, None

    def run(self):
        self.result = _scan_bytes(self.path, "utf-8", digest=True)

    def outcome(self) -> _Bytes:
        self.join()
        return self.result


class _NotUtf8(Exception):
    """The head looked like UTF-8 but a later byte is not: read again after full detection."""


def _head_is_utf8(path: Path) -> bool:
    """The first CHUNK bytes decode as UTF-8 (a character cut at the chunk's end is fine)."""
    with open(path, "rb") as f:
        head = f.read(CHUNK)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or NUL in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
        return True
    except UnicodeDecodeError:
        return False


def _transcode(path: Path, enc: str, workdir: Path) -> Path:
    out = Path(tempfile.mkstemp(suffix=".csv", dir=workdir)[1])
    with open(path, "r", encoding=enc, newline="") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(CHUNK):
            dst.write(chunk)
    return out


def read_csv(con: duckdb.DuckDBPyConnection, source: Source, path: Path, table: str, workdir: Path) -> ReadResult:
    """UTF-8 files (nearly all) are parsed by DuckDB while a thread checks and hashes the same
    bytes; any other file is detected whole first (detect_encoding) and transcoded."""
    if path.stat().st_size and _head_is_utf8(path):
        check = _Utf8Check(path)
        check.start()
        try:
            with open(path, "rb") as f:
                enc = "utf-8-sig" if f.read(3) == b"\xef\xbb\xbf" else "utf-8"
            res = _read_csv(con, source, path, table, workdir, enc, check=check)
            res.sha256 = check.outcome().sha256
            return res
        except (_NotUtf8, BadFile):
            if check.outcome().problem is None:
                raise
            con.execute(f"DROP TABLE IF EXISTS {table}__in")   # the bytes' encoding is reported first
        finally:
            check.join()
    return _read_csv(con, source, path, table, workdir, *detect_encoding(path))


def _read_csv(con, source: Source, path: Path, table: str, workdir: Path, enc: str,
              newlines: int | None = None, check: _Utf8Check | None = None) -> ReadResult:
    """Read with a known encoding; the newline count comes from `check` when it runs alongside."""
    utf8_path = path if enc in ("utf-8", "utf-8-sig") else _transcode(path, enc, workdir)
    try:
        return _read_utf8_csv(con, source, path, utf8_path, table, enc, newlines, check)
    finally:
        if utf8_path != path:       # a decoded copy holds the file's IDs: never left behind
            os.unlink(utf8_path)


def _read_utf8_csv(con, source: Source, path: Path, utf8_path: Path, table: str, enc: str,
                   newlines: int | None, check: "_Utf8Check | None") -> ReadResult:
    with open(utf8_path, "r", encoding="utf-8-sig", newline="") as f:
        first = f.readline()
        try:
            header = next(csv.reader(io.StringIO(first)))
        except StopIteration:
            header = []
    if not [h for h in header if h.strip()]:
        raise BadFile(path, "no header row")
    mapping, extras = map_headers(source, header, path)
    # header=false + explicit names: DuckDB must not rename or sniff anything.
    names = [f"c{i}" for i in range(len(header))]
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - 1))
        ends_with_newline = f.read(1) == b"\n"
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    try:
        con.execute(
            f"""CREATE OR REPLACE TABLE {table}__in AS
                SELECT * FROM read_csv(?, header = false, skip = 1, all_varchar = true, delim = ',',
                    quote = '"', escape = '"', columns = {{{', '.join(f"'{n}': 'VARCHAR'" for n in names)}}},
                    store_rejects = true, null_padding = false, auto_detect = false,
                    encoding = 'utf-8', max_line_size = 10000000)""",
            [str(utf8_path)],
        )
        rejects = con.execute(
            """SELECT line, any_value(csv_line), string_agg(DISTINCT error_type, ', '),
                      min(error_message) FROM reject_errors GROUP BY line ORDER BY line""").fetchall()
    except duckdb.Error as e:
        raise BadFile(path, f"unreadable CSV: {str(e).splitlines()[0]}") from None
    if check is not None:
        if check.outcome().problem is not None:
            raise _NotUtf8(path)
        newlines = check.outcome().newlines
    total_lines = newlines + (0 if ends_with_newline else 1)
    rejected = [{"line": int(r[0]), "raw": r[1], "error": f"{r[2]}: {r[3]}"} for r in rejects]
    if rejected and rejected[-1]["line"] >= total_lines:
        raise BadFile(path, f"truncated: last line {rejected[-1]['line']} is incomplete ({rejected[-1]['error']})")
    for r in rejected:
        # an unterminated quote swallows the lines after it into one malformed row: quarantining
        # that row would hide the whole rest of the file behind one reason
        spanned = (r["raw"] or "").rstrip("\r\n").count("\n")
        if spanned:
            raise BadFile(path, f"line {r['line']}: an unterminated quote (\") swallows the {spanned} line(s) after "
                                f"it; close or remove the quote (or re-export the file)")
    n_in = con.execute(f"SELECT count(*) FROM {table}__in").fetchall()[0][0]
    _finish(con, table, f"{table}__in", names, header, mapping, extras, rejected, offset=2)
    return ReadResult(table, "csv", enc.replace("-sig", "-bom"), n_in + len(rejected), rejected, extras)


def _finish(con, table, src, names, header, mapping, extras, rejected, offset):
    """Project source columns to canonical names and attach line numbers."""
    cols = [f"{_q(n)} AS {_q(mapping[h])}" for n, h in zip(names, header) if h in mapping]
    extra_sql = _extras_json((h, _q(n)) for n, h in zip(names, header) if h in extras)
    # Rows DuckDB rejected shift the line numbers of the rows after them.
    shifts = sorted(r["line"] - offset - j for j, r in enumerate(rejected))
    shift_sql = "0"
    if shifts:
        shift_sql = f"list_count(list_filter({shifts}, lambda t: t <= rowid))"
    # A view, not a copy: the line number is the row's position in the file as read (rowid of
    # the table read_csv filled), and a 20M-row month is not copied once more just to rename.
    con.execute(
        f"""CREATE OR REPLACE VIEW {table} AS
            SELECT {', '.join(cols)}, CAST(rowid + {offset} + {shift_sql} AS BIGINT) AS source_line,
                   {extra_sql} AS extra_columns
            FROM {src}""")


def _cell_text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d") if v.time() == dt.time(0) else v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if abs(v) >= 1e15:
            # An 18-digit code stored as a number has lost its last digits: say so as Excel would.
            return f"{v:.5E}".replace("E+0", "E+")
        if v.is_integer():
            return str(int(v))
        text = repr(v)
        # A value typed with two decimals may be stored as 37.199999999999996: it is 37.20.
        if "e" not in text and len(text.split(".")[1]) > 2 and abs(v - round(v, 2)) < 1e-9:
            return f"{round(v, 2):.2f}"
        return text
    return str(v)


@dataclass
class ParsedSheet:
    """An xlsx sheet as text columns c0..cN plus `__line`: what a worker process hands back."""
    arrow: pa.Table
    header: list[str]
    mapping: dict[str, str]
    extras: list[str]


def _sheet_header(rows, canonical: dict, required: set):
    """(header line, header cells, rows iterator after it) of one sheet, or None when empty.

    Exports often put a title row (e.g. 2026年10月用工备案) above the header: the header is the
    first of the top rows that names every required column; else the first non-empty row."""
    first = None
    for line, row in enumerate(rows, start=1):
        if not row or not any(c is not None and str(c).strip() for c in row):
            if line > HEADER_SEARCH_ROWS:
                break
            continue
        cells = [("" if c is None else str(c)) for c in row]
        first = first or (line, cells)
        named = {canonical[_clean_header(c)] for c in cells if _clean_header(c) in canonical}
        if required <= named:
            return line, cells, True
        if line >= HEADER_SEARCH_ROWS:
            break
    return (first[0], first[1], False) if first else None


class _Sheet:
    """One sheet as python-calamine reads it (Rust; ~10x openpyxl), in openpyxl's terms: rows
    from A1 with their 1-based numbers, empty cells None, dates as dates (Excel serial dates
    in date-formatted cells come back as dates, as openpyxl gives them)."""

    def __init__(self, sheet):
        self.title = sheet.name
        self._rows = sheet.to_python(skip_empty_area=False)

    def iter_rows(self, min_row: int = 1, values_only: bool = True):
        for row in self._rows[min_row - 1:]:
            yield tuple(None if v == "" else v for v in row)


class _Workbook:
    def __init__(self, path: Path):
        from python_calamine import CalamineWorkbook
        try:
            self._wb = CalamineWorkbook.from_path(str(path))
            self.worksheets = [_Sheet(self._wb.get_sheet_by_name(n)) for n in self._wb.sheet_names]
        except Exception as e:    # calamine raises its own error types for a broken zip or sheet
            raise BadFile(path, f"unreadable xlsx: {type(e).__name__}: {e}") from None

    def close(self):
        self._wb.close()


SHEET_COLUMNS = ("工作表", "工作表行号")     # raw-layer columns of a workbook with several data sheets


def parse_xlsx(source_name: str, path: str | Path) -> ParsedSheet:
    """python-calamine, no warehouse: runs in a worker process for big sheets.

    Every sheet is read or refused, never ignored: a workbook may split a month over several
    sheets (Excel holds ~1M rows a sheet); each later sheet with the source's header is read
    after the first, its rows numbered on from the previous sheet's last line, with the sheet's
    name and own row number kept in the raw layer. A later sheet holding anything else is
    refused by name."""
    from schemas.sources import SOURCES
    source, path = SOURCES[source_name], Path(path)
    canonical = {_clean_header(k): v for k, v in source.header_map().items()}
    required = {c.name for c in source.columns if c.required}
    parsed = []                          # (title, keys, columns, rows in the sheet)
    wb = _Workbook(path)
    try:
        for ws in wb.worksheets:
            found = _sheet_header(ws.iter_rows(values_only=True), canonical, required)
            if found is None:
                continue
            header_row, header, complete = found
            if parsed and not complete:
                raise BadFile(path, f"sheet '{ws.title}' holds rows that are not a {source.name} table "
                                    f"(no header naming {', '.join(sorted(required))}): remove the sheet "
                                    "or move its rows to the first sheet; nothing was loaded")
            mapping, _ = map_headers(source, header, path)
            keys = []
            for h in header:
                k = mapping.get(h) or f"extra:{h}"
                while k in keys:                     # an unknown header written twice
                    k += "'"
                keys.append(k)
            columns: list[list] = [[] for _ in keys]
            rows = []
            for line, row in enumerate(ws.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1):
                if row is None or all(c is None for c in row):
                    continue
                row = tuple(row) + (None,) * (len(keys) - len(row))
                for col, v in zip(columns, row):
                    col.append(_cell_text(v))
                rows.append(line)
            parsed.append((ws.title, keys, dict(zip(keys, columns)), rows, header, header_row))
    finally:
        wb.close()
    if not parsed:
        raise BadFile(path, "no header row")
    data_sheets = [p for p in parsed if p[3]]
    shown: dict[str, str] = {}           # key → header as first written
    for _, keys, _, _, header, _ in parsed:
        for k, h in zip(keys, header):
            shown.setdefault(k, h)
    keys = list(shown)
    out = {k: [] for k in keys}
    lines: list[int] = []
    sheet_cols = {k: [] for k in SHEET_COLUMNS} if len(data_sheets) > 1 else None
    for title, _, columns, rows, _, header_row in parsed:
        offset = lines[-1] - header_row if lines else 0     # numbered on after the last line
        for k in keys:
            out[k] += columns.get(k) or [None] * len(rows)
        lines += [r + offset for r in rows] if offset else rows
        if sheet_cols is not None:
            sheet_cols["工作表"] += [title] * len(rows)
            sheet_cols["工作表行号"] += [str(r) for r in rows]
    if sheet_cols is not None:
        for k, v in sheet_cols.items():
            keys.append(k)
            shown[k] = k
            out[k] = v
    header = [shown[k] for k in keys]
    mapping = {shown[k]: k for k in keys if k in {c.name for c in source.columns}}
    extras = [shown[k] for k in keys if shown[k] not in mapping]
    names = [f"c{i}" for i in range(len(keys))]
    arrow = pa.table({**{n: pa.array(out[k], pa.string()) for n, k in zip(names, keys)},
                      "__line": pa.array(lines, pa.int64())})
    return ParsedSheet(arrow, header, mapping, extras)


def xlsx_into(con, source: Source, path: Path, table: str, parsed: ParsedSheet) -> ReadResult:
    """A parsed sheet into the table `table` (canonical names, source_line, extra_columns)."""
    arrow, header, mapping, extras = parsed.arrow, parsed.header, parsed.mapping, parsed.extras
    names = [f"c{i}" for i in range(len(header))]
    cols = [f"{_q(n)} AS {_q(mapping[h])}" for n, h in zip(names, header) if h in mapping]
    con.register(f"{table}__arrow", arrow)
    try:
        con.execute(
            f"""CREATE OR REPLACE TABLE {table} AS
                SELECT {', '.join(cols)}, __line AS source_line,
                       {_extras_json((h, _q(n)) for n, h in zip(names, header) if h in extras)} AS extra_columns
                FROM {table}__arrow ORDER BY __line""")
    finally:
        con.unregister(f"{table}__arrow")
    return ReadResult(table, "xlsx", None, arrow.num_rows, [], extras)


def read_xlsx(con, source: Source, path: Path, table: str, workdir: Path) -> ReadResult:
    return xlsx_into(con, source, path, table, parse_xlsx(source.name, path))


def read_parquet(con, source: Source, path: Path, table: str, workdir: Path) -> ReadResult:
    try:
        desc = con.execute("SELECT name FROM parquet_schema(?) WHERE num_children IS NULL OR num_children = 0",
                           [str(path)]).fetchall()
    except duckdb.Error as e:
        raise BadFile(path, f"unreadable Parquet: {str(e).splitlines()[0]}") from None
    header = [r[0] for r in desc]
    mapping, extras = map_headers(source, header, path)
    cols = [f"CAST({_q(h)} AS VARCHAR) AS {_q(mapping[h])}" for h in header if h in mapping]
    con.execute(
        f"""CREATE OR REPLACE TABLE {table} AS
            SELECT {', '.join(cols)}, CAST(file_row_number + 2 AS BIGINT) AS source_line,
                   {_extras_json((h, f"CAST({_q(h)} AS VARCHAR)") for h in extras)} AS extra_columns
            FROM read_parquet(?, file_row_number = true) ORDER BY file_row_number""", [str(path)])
    n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return ReadResult(table, "parquet", None, n, [], extras)


READERS = {"csv": read_csv, "xlsx": read_xlsx, "parquet": read_parquet}


def find_file(input_dir: Path, source: str) -> Path | None:
    found = [p for p in sorted(input_dir.iterdir())
             if p.is_file() and p.stem == source and p.suffix.lower().lstrip(".") in FORMATS]
    if len(found) > 1:
        raise BadFile(found[1], f"two files for source {source}: {', '.join(p.name for p in found)}")
    return found[0] if found else None


def read_file(con, source: Source, path: Path, table: str, workdir: Path) -> ReadResult:
    if path.stat().st_size == 0:
        raise BadFile(path, "empty file (0 bytes)")
    fmt = path.suffix.lower().lstrip(".")
    return READERS[fmt](con, source, path, table, workdir)
