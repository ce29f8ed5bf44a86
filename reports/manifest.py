"""manifest.json: inputs, parameters, code version, outputs with sha256, and a `run` section.

Everything outside `run` is deterministic; keys are sorted.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path, PurePath

import duckdb

from .common import month_match, table_exists

MANIFEST_NAME = "manifest.json"
# run_info keys that are deterministic and go to the top level; everything else goes to `run`.
DETERMINISTIC_KEYS = ("code_version", "parameters", "input_files", "calendar")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _default(o):
    if isinstance(o, Decimal):
        return str(o)
    if isinstance(o, (date, datetime)):
        return o.isoformat()
    if isinstance(o, PurePath):
        return str(o)
    if isinstance(o, (set, frozenset)):
        return sorted(o, key=str)
    return str(o)


def read_inputs(con: duckdb.DuckDBPyConnection, month: str) -> list[dict]:
    if not table_exists(con, "load_files"):
        return []
    rows = con.execute(
        f"""SELECT source, file_name, sha256, format, encoding,
                   rows_read, rows_loaded, rows_quarantined
            FROM load_files WHERE {month_match('extract_month', month)}
            ORDER BY file_name, source"""
    ).fetchall()
    keys = ["source", "file", "sha256", "format", "encoding", "rows_read", "rows_loaded",
            "rows_quarantined"]
    return [dict(zip(keys, r)) for r in rows]


def _input_files(value) -> list:
    """run_info['input_files'] as names relative to the input folder (paths vary by machine)."""
    if not value:
        return []
    out = []
    for v in value:
        if isinstance(v, dict):
            d = dict(v)
            for k in ("path", "file"):
                if k in d and d[k] is not None:
                    d[k] = PurePath(str(d[k])).name
            out.append(d)
        else:
            out.append(PurePath(str(v)).name)
    return sorted(out, key=lambda x: json.dumps(x, sort_keys=True, default=_default, ensure_ascii=False))


def list_outputs(folder: Path) -> list[dict]:
    files = sorted(
        (p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST_NAME),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    return [
        {"path": p.relative_to(folder).as_posix(), "sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in files
    ]


def build_manifest(
    folder: Path, month: str, inputs: list[dict], run_info: dict, summary: dict
) -> dict:
    run_info = dict(run_info or {})
    run = {k: v for k, v in run_info.items() if k not in DETERMINISTIC_KEYS}
    return {
        "manifest_version": 1,
        "month": month,
        "code_version": run_info.get("code_version"),
        "parameters": run_info.get("parameters") or {},
        "calendar": run_info.get("calendar") or {},
        # the files by content (name, source, sha256): what makes two runs the same run
        "input_files": _input_files(run_info.get("input_files")
                                    or (run_info.get("parameters") or {}).get("input_files")),
        "inputs": inputs,
        "summary": summary,
        "outputs": list_outputs(folder),
        "run": run,
    }


def dumps(manifest: dict) -> str:
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2, default=_default) + "\n"


def write_manifest(folder: Path, manifest: dict) -> Path:
    path = folder / MANIFEST_NAME
    path.write_text(dumps(manifest), encoding="utf-8")
    return path
