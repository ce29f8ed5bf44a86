"""The command line: exit codes and one-line reasons."""
import subprocess
import sys


def zhibu(*args):
    return subprocess.run([sys.executable, "-m", "zhibu.cli", *args], capture_output=True, text=True, timeout=300)


def test_bad_month_is_one_line_and_nonzero(tmp_path):
    r = zhibu("run", "--month", "2026-13", "--input", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb"))
    assert r.returncode != 0
    assert "month must be YYYY-MM" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_missing_input_folder(tmp_path):
    r = zhibu("run", "--month", "2026-10", "--input", str(tmp_path / "nope"))
    assert r.returncode != 0 and "does not exist" in r.stderr


def test_help_lists_subcommands():
    r = zhibu("--help")
    assert r.returncode == 0
    for sub in ("run", "backfill", "demo", "explain", "policies", "synth"):
        assert sub in r.stdout
