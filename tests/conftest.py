"""Shared fixtures: one Prefect test harness for the session, and the committed sample."""
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def sample_months():
    incoming = SAMPLE / "incoming"
    months = sorted(p.name for p in incoming.iterdir() if p.is_dir()) if incoming.is_dir() else []
    assert months, f"the committed sample is missing under {incoming}"
    return months


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, prefect_harness, sample_months):
    """Every sample month run once, in order, through the real flow: (warehouse, output root)."""
    from flows.monthly import monthly_run
    base = tmp_path_factory.mktemp("sample_run")
    wh, out = base / "wh.duckdb", base / "out"
    for m in sample_months:
        monthly_run(month=m, input_dir=str(SAMPLE / "incoming" / m), warehouse=str(wh), output=str(out))
    return wh, out


def copy_warehouse(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / src.name
    shutil.copy(src, dst)
    return dst
