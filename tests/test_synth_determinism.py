"""Same seed, same bytes; a different seed, different data."""
from __future__ import annotations

import hashlib

from data.synth import generate


def _digest(root):
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_same_seed_same_bytes(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate("2025-05..2025-06", 0.00005, 11, a)
    generate("2025-05..2025-06", 0.00005, 11, b)
    da, db = _digest(a), _digest(b)
    assert da.keys() == db.keys()
    diff = [k for k in da if da[k] != db[k]]
    assert not diff, diff
    generate("2025-05..2025-06", 0.00005, 12, c)
    dc = _digest(c)
    assert any(dc.get(k) != v for k, v in da.items())
