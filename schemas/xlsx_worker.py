"""`python -m schemas.xlsx_worker SOURCE SHEET.xlsx OUT.arrow`: parse one big sheet in its own process.

Parsing a regional month's 150,000-row sheet still takes seconds (python-calamine: 2.7 s; openpyxl took 11), so the loader starts
one of these per big sheet and reads and stages the CSVs meanwhile. The parsed sheet comes back
as an Arrow IPC file (header mapping in its metadata); a bad sheet exits 3 with its problem.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from schemas.readers import BadFile, ParsedSheet, parse_xlsx

BAD_FILE_EXIT = 3


def start(source: str, sheet: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "schemas.xlsx_worker", source, str(sheet), str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def collect(proc: subprocess.Popen, sheet: Path, out: Path) -> ParsedSheet:
    """Wait for the worker; its sheet, or the BadFile it found."""
    _, err = proc.communicate()
    try:
        if proc.returncode == BAD_FILE_EXIT:
            raise BadFile(sheet, json.loads(err.decode())["problem"])
        if proc.returncode != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            raise RuntimeError(f"xlsx worker for {sheet.name} failed (exit {proc.returncode}): {tail[0]}")
        with pa.memory_map(str(out)) as f:
            table = pa.ipc.open_file(f).read_all()
        meta = json.loads(table.schema.metadata[b"zhibu"].decode())
        return ParsedSheet(table.replace_schema_metadata(None), meta["header"], meta["mapping"], meta["extras"])
    finally:
        out.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    source, sheet, out = argv
    try:
        parsed = parse_xlsx(source, sheet)
    except BadFile as e:
        print(json.dumps({"problem": e.problem}, ensure_ascii=False), file=sys.stderr)
        return BAD_FILE_EXIT
    meta = {"header": parsed.header, "mapping": parsed.mapping, "extras": parsed.extras}
    table = parsed.arrow.replace_schema_metadata({"zhibu": json.dumps(meta, ensure_ascii=False)})
    with pa.OSFile(out, "wb") as f, pa.ipc.new_file(f, table.schema) as w:
        w.write_table(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
