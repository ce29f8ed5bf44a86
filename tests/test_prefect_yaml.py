"""prefect.yaml validated offline: entry points load, parameters validate, cron parses."""
import importlib
from pathlib import Path

import pytest
import yaml
from prefect.client.schemas.schedules import CronSchedule

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENTS = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]


def load_flow(entrypoint: str):
    path, fn = entrypoint.split(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, fn)


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=[d["name"] for d in DEPLOYMENTS])
def test_entry_point_loads_and_parameters_validate(dep):
    flow = load_flow(dep["entrypoint"])
    assert flow.__class__.__name__ == "Flow"
    params = dict(dep.get("parameters") or {})
    if dep["name"] == "analyst-rerun":     # an analyst supplies these when running it
        params.update(month="2025-06", input_dir="data/sample/incoming/2025-06")
    flow.validate_parameters(params)
    unknown = set(params) - set(flow.parameters.properties)
    assert not unknown, f"parameters the flow does not take: {unknown}"


def test_monthly_schedule_is_the_5th_at_2am_shanghai():
    (monthly,) = [d for d in DEPLOYMENTS if d["name"] == "monthly"]
    (sched,) = monthly["schedules"]
    cron = CronSchedule(cron=sched["cron"], timezone=sched["timezone"])
    assert cron.timezone == "Asia/Shanghai"
    from cronsim import CronSim
    import datetime as dt
    from zoneinfo import ZoneInfo
    start = dt.datetime(2026, 11, 24, tzinfo=ZoneInfo("Asia/Shanghai"))
    nxt = next(CronSim(sched["cron"], start))
    assert (nxt.day, nxt.hour, nxt.minute) == (5, 2, 0) and nxt.month == 12


def test_analyst_deployment_has_no_schedule():
    (analyst,) = [d for d in DEPLOYMENTS if d["name"] == "analyst-rerun"]
    assert not analyst.get("schedules")
