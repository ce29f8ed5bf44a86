"""What a run records about itself for manifest.json: code version, parameters, inputs, timings."""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("schemas", "matchers", "policies", "reports", "flows", "zhibu")


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Git commit when available, plus a hash of the shipped code so uncommitted edits show.

    Computed once per process: it names the code this process loaded, even if the checkout
    changes while it runs."""
    h = hashlib.sha256()
    for d in CODE_DIRS:
        for p in sorted((ROOT / d).rglob("*")):
            if p.is_file() and p.suffix in (".py", ".sql", ".yaml", ".csv", ".txt") and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(ROOT)).encode())
                h.update(p.read_bytes())
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{commit or 'nogit'}+code.{h.hexdigest()[:12]}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _plain(o):
    if dataclasses.is_dataclass(o):
        return dataclasses.asdict(o)
    if isinstance(o, dict):
        return {str(k): _plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_plain(v) for v in o]
    if isinstance(o, (str, int, float, bool)) or o is None:
        return o
    return str(o)


def build(month, input_dir, warehouse, disabled, loads, timings, stage_stats) -> dict:
    return {
        "month": month,
        "code_version": code_version(),
        "parameters": {"month": month, "input": str(input_dir), "without": list(disabled)},
        "inputs": [_plain(f) for f in loads],
        "stage_stats": _plain(stage_stats),
        "timings": dict(timings),
        "warehouse": str(warehouse),
    }
