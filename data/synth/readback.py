"""Read a generated extract back as strings (for tests and for checking the truth): returns the
detected encoding, the header and the data rows (line 2 = first data row). Excel numbers are
rendered back to the text the generator wrote (serial dates as integers, mangled IDs as
``1.50102E+17``)."""
from __future__ import annotations

import csv
import io
from pathlib import Path


def detect_encoding(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        raw.decode("gb18030")
        return "gb18030"


def _xl(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, float):
        if v.is_integer() and v < 1e7:
            return str(int(v))
        s = f"{v:.5E}"            # 1.50102E+17
        mant, exp = s.split("E")
        mant = mant.rstrip("0").rstrip(".")
        return f"{mant}E{exp}"
    if isinstance(v, int):
        return str(v)
    return str(v)


def read_extract(path: Path) -> tuple[str | None, list[str], list[list[str | None]]]:
    path = Path(path)
    if path.suffix == ".csv":
        raw = path.read_bytes()
        enc = detect_encoding(raw)
        rows = list(csv.reader(io.StringIO(raw.decode(enc), newline="")))
        return enc, rows[0], [[c if c != "" else None for c in r] for r in rows[1:]]
    if path.suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = [str(h) for h in next(it)]
        data = []
        for r in it:
            row = [_xl(v) for v in r] + [None] * (len(header) - len(r))
            data.append(row[:len(header)])
        wb.close()
        return None, header, data
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        t = pq.read_table(path)
        cols = [t.column(i).to_pylist() for i in range(t.num_columns)]
        return None, list(t.column_names), [list(r) for r in zip(*cols)] if cols else []
    raise ValueError(path)
