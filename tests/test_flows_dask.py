"""The partitioned decide stage on a Dask LocalCluster gives the single-process result."""
import hashlib
from pathlib import Path

from conftest import SAMPLE, copy_warehouse
from flows.monthly import monthly_run


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_partitioned_dask_run_is_byte_identical(sample_run, sample_months, tmp_path):
    wh, out = sample_run
    last = sample_months[-1]
    wh2 = copy_warehouse(wh, tmp_path)   # earlier months' listings as the single-process run left them
    folder = Path(monthly_run(month=last, input_dir=str(SAMPLE / "incoming" / last), warehouse=str(wh2),
                              output=str(tmp_path / "out"), partitions=4))
    assert sha(folder / "eligibility.parquet") == sha(out / last / "eligibility.parquet")
    parts = sorted((tmp_path / "partitions" / last / "decisions").glob("part=*/eligibility.parquet"))
    assert len(parts) == 4
