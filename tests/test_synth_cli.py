"""CLI wiring: argparse pair for ``zhibu synth`` and ``python -m data.synth``."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from data.synth import parse_months, parse_scale
from data.synth.cli import add_arguments, run

ROOT = Path(__file__).resolve().parents[1]


def test_parse_months_and_scale():
    assert parse_months("2025-11..2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert parse_months("2025-03,2025-05") == ["2025-03", "2025-05"]
    assert parse_scale("sample") == 0.0005 and parse_scale("0.1") == 0.1


def test_subcommand_pair(tmp_path, capsys):
    p = argparse.ArgumentParser()
    add_arguments(p)
    args = p.parse_args(["--months", "2025-06", "--scale", "0.00005", "--seed", "5", "--out", str(tmp_path)])
    assert run(args) == 0
    assert "synth:" in capsys.readouterr().out
    assert len(list((tmp_path / "incoming" / "2025-06").iterdir())) == 9
    assert (tmp_path / "truth" / "expected_decisions.parquet").exists()
    assert not (tmp_path / ".synth_tmp").exists()


def test_python_dash_m(tmp_path):
    r = subprocess.run([sys.executable, "-m", "data.synth", "--months", "2025-06", "--scale", "0.00005",
                        "--seed", "5", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "truth" / "record_truth.parquet").exists()
