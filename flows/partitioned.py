"""Multi-machine decide stage: person-hash partitions as Prefect tasks on a Dask cluster.

Wiring only: the data layout, partition loading and reduce live in zhibu/partitions.py; the
rules in policies/. Policies whose meta says `partition: firm` (they aggregate across persons,
e.g. 稳岗返还 headcounts) are evaluated after the reduce, on the whole month, in the flow's
own process.
"""
from __future__ import annotations

import os
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NONE as NO_CACHE


def dask_task_runner(address: str | None = None, workers: int = 2):
    """prefect-dask's runner: an existing cluster when an address is configured, else a LocalCluster."""
    from prefect_dask import DaskTaskRunner
    address = address or os.environ.get("ZHIBU_DASK_ADDRESS")
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": None})


def policy_split() -> tuple[list[str], list[str]]:
    """(person-partitionable policies, firm-level policies) from each policy's meta."""
    from policies.params import load_policy, policy_codes
    person, firm = [], []
    for code in policy_codes():
        (firm if load_policy(code)["meta"].get("partition") == "firm" else person).append(code)
    return person, firm


def _retry_transient(task, task_run, state) -> bool:
    from flows.monthly import retry_only_transient
    return retry_only_transient(task, task_run, state)


@task(cache_policy=NO_CACHE, retries=1, retry_condition_fn=_retry_transient)
def decide_partition(base: str, k: int, month: str, codes: list[str]) -> int:
    """Evaluate the person-level policies on one partition (runs on a Dask worker)."""
    from policies.engine import decide_month
    from zhibu.partitions import open_partition, save_decisions
    con = open_partition(Path(base), k)
    try:
        decide_month(con, month, only=codes)
        save_decisions(con, Path(base), k, month)
        return con.execute("SELECT count(*) FROM eligibility WHERE run_month = ?", [month]).fetchall()[0][0]
    finally:
        con.close()


@flow(name="zhibu-decide-partitions")
def decide_partitions(base: str, month: str, partitions: int, codes: list[str]) -> list[int]:
    futures = [decide_partition.submit(base, k, month, codes) for k in range(partitions)]
    return [f.result() for f in futures]


def decide_partitioned(con, month: str, root: Path, partitions: int, address: str | None = None) -> dict:
    """Export → partitions on Dask → reduce → firm-level policies; same rows as decide_month."""
    from policies.engine import decide_month, prepare
    from zhibu.partitions import export, reduce
    prepare(con)        # the decision tables exist before the first month is reduced into them
    person, firm = policy_split()
    base = export(con, month, root, partitions)
    runner = dask_task_runner(address, workers=min(partitions, 2))
    per_part = decide_partitions.with_options(task_runner=runner)(str(base), month, partitions, person)
    reduce(con, base, month, partitions)
    counts = decide_month(con, month, only=firm) if firm else {}
    rows = con.execute("SELECT policy_code, count(*) FROM eligibility WHERE run_month = ? GROUP BY 1",
                       [month]).fetchall()
    return {"partitions": partitions, "rows_per_partition": per_part, "firm_level": counts,
            "per_policy": dict(rows)}
