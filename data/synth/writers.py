"""Writing a rendered extract (a DuckDB relation of VARCHAR columns with Chinese headers) as
CSV (UTF-8, UTF-8 with BOM, GB18030), xlsx (reproducible document properties) or Parquet."""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

FIXED_TS = dt.datetime(2025, 1, 1, 0, 0, 0)
_SCI = re.compile(r"^\d(\.\d+)?E\+\d\d$")
_SERIAL = re.compile(r"^\d{5}$")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write(con, query: str, headers: list[str], path: Path, fmt: str, encoding: str,
          date_headers: set[str] = frozenset(), id_headers: set[str] = frozenset()) -> None:
    """``query`` selects the columns in file order already aliased to ``headers``, ordered by line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)")
    elif fmt == "csv":
        if encoding == "utf-8":
            con.execute(f"COPY ({query}) TO '{path}' (FORMAT csv, HEADER, DELIMITER ',')")
        else:
            tmp = path.with_suffix(".tmp.csv")
            con.execute(f"COPY ({query}) TO '{tmp}' (FORMAT csv, HEADER, DELIMITER ',')")
            _transcode(tmp, path, encoding)
            os.remove(tmp)
    elif fmt == "xlsx":
        _write_xlsx(con, query, headers, path, date_headers, id_headers)
    else:
        raise ValueError(fmt)


def _transcode(src: Path, dst: Path, encoding: str) -> None:
    with open(src, "r", encoding="utf-8", newline="") as fi, open(dst, "wb") as fo:
        if encoding == "utf-8-sig":
            fo.write(b"\xef\xbb\xbf")
            fi.close()
            with open(src, "rb") as fb:
                shutil.copyfileobj(fb, fo, 16 << 20)
            return
        while True:
            chunk = fi.read(8 << 20)
            if not chunk:
                break
            fo.write(chunk.encode(encoding))


def _write_xlsx(con, query, headers, path, date_headers, id_headers) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"created": FIXED_TS, "author": "zhibu synth"})
    ws = wb.add_worksheet("Sheet1")
    for j, h in enumerate(headers):
        ws.write_string(0, j, h)
    date_cols = {j for j, h in enumerate(headers) if h in date_headers}
    id_cols = {j for j, h in enumerate(headers) if h in id_headers}
    cur = con.raw
    cur.execute(query)
    r = 1
    while True:
        rows = cur.fetchmany(50000)
        if not rows:
            break
        for row in rows:
            for j, v in enumerate(row):
                if v is None or v == "":
                    continue
                if j in date_cols and _SERIAL.match(v):
                    ws.write_number(r, j, int(v))
                elif j in id_cols and _SCI.match(v):
                    ws.write_number(r, j, float(v))
                else:
                    ws.write_string(r, j, v)
            r += 1
    wb.close()
    _fix_zip_times(path)


def _fix_zip_times(path: Path) -> None:
    """Rewrite the zip with fixed member timestamps so the bytes are reproducible."""
    import zipfile

    tmp = path.with_suffix(".tmp.xlsx")
    with zipfile.ZipFile(path) as zi, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zi.infolist():
            data = zi.read(info.filename)
            ni = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 0, 0, 0))
            ni.compress_type = zipfile.ZIP_DEFLATED
            ni.external_attr = info.external_attr
            zo.writestr(ni, data)
    os.replace(tmp, path)
