"""From list to money end to end on a generated year: the generator plants every answer, card
and account outcome with the truth of what each month must batch or hold 待补录
(data/synth/plant_payments.py); twelve real monthly runs must reproduce it exactly."""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

MONTHS = "2025-01..2025-12"
REASONS = {"社会保障卡已挂失": "card_lost", "社会保障卡已注销": "card_cancelled",
           "社会保障卡未激活金融功能": "card_not_activated", "未办理社会保障卡（持卡信息中无此人）": "no_card",
           "单位未提供银行账户": "no_firm_account", "单位银行账号有误（位数或字符不符）": "firm_account_invalid"}


def _published(out: Path, pattern: str) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype=str, encoding="utf-8-sig", keep_default_na=False)
              .assign(run_month=p.parent.parent.parent.name) for p in sorted(out.glob(f"*/payments/*/{pattern}"))]
    return pd.concat(frames, ignore_index=True)


def precision_recall(pred: set, true: set) -> tuple[float, float]:
    hit = len(pred & true)
    return (hit / len(pred) if pred else 1.0), (hit / len(true) if true else 1.0)


@pytest.fixture(scope="module")
def year(tmp_path_factory, prefect_harness):
    from data.synth import generate
    from data.synth.generate import parse_months
    from flows.monthly import monthly_run
    base = tmp_path_factory.mktemp("money_year")
    t0 = time.perf_counter()
    summary = generate(MONTHS, "sample", seed=7, out=base / "synth", payments=True)
    t1 = time.perf_counter()
    for m in parse_months(MONTHS):
        monthly_run(month=m, input_dir=str(base / "synth" / "incoming" / m), warehouse=str(base / "wh.duckdb"),
                    output=str(base / "out"))
    print(f"generated in {t1 - t0:.0f}s, 12 runs in {time.perf_counter() - t1:.0f}s; plants {summary['payments']}")
    return base, summary["payments"]


def test_generator_plants_every_outcome(year):
    _base, plants = year
    assert all(plants["answers"][a] > 0 for a in ("confirm", "give_up", "wrong_info", "silence"))
    assert all(n > 0 for n in plants["card_plans"].values())
    assert all(n > 0 for n in plants["firm_plans"].values())
    base = year[0]
    p = pd.read_parquet(base / "synth" / "truth" / "payment_plants.parquet")
    assert p.mistyped.any() and p.resent.any()


def test_batch_and_pending_match_the_truth_exactly(year):
    base, _ = year
    truth = pd.read_parquet(base / "synth" / "truth" / "expected_payments.parquet").fillna("")
    batch, pending = _published(base / "out", "发放批次_*.csv"), _published(base / "out", "待补录_*.csv")
    pred_b = {(r.run_month, r["受益主体证件号码"], r["人员身份证号"], r["补贴起始月份"], r["收款账号"])
              for _, r in batch.iterrows()}
    true_b = {(r.run_month, r.beneficiary_id, r.person_id_number, r.period_start, r.account_number)
              for r in truth[truth.outcome == "batch"].itertuples()}
    pred_p = {(r.run_month, r["受益主体证件号码"], r["人员身份证号"], r["补贴起始月份"], REASONS.get(r["待补录原因"], r["待补录原因"]))
              for _, r in pending.iterrows()}
    true_p = {(r.run_month, r.beneficiary_id, r.person_id_number, r.period_start, r.reason_code)
              for r in truth[truth.outcome == "pending"].itertuples()}
    pb, rb = precision_recall(pred_b, true_b)
    pp, rp = precision_recall(pred_p, true_p)
    print(f"batch rows: {len(pred_b)} published, {len(true_b)} true, precision {pb:.3f} recall {rb:.3f}; "
          f"pending rows: {len(pred_p)} published, {len(true_p)} true, precision {pp:.3f} recall {rp:.3f}")
    assert len(batch) == len(pred_b) and len(pending) == len(pred_p)
    assert (pb, rb, pp, rp) == (1.0, 1.0, 1.0, 1.0), (sorted(pred_b ^ true_b)[:5], sorted(pred_p ^ true_p)[:5])


def test_no_decision_batched_twice_across_the_year(year):
    base, _ = year
    batch = _published(base / "out", "发放批次_*.csv")
    per_decision = batch.groupby(["名单月份", "政策名称", "受益主体证件号码", "人员身份证号", "补贴起始月份"]).size()
    assert len(batch) > 0 and int((per_decision > 1).sum()) == 0


def test_paid_in_the_ledger_tracked_with_working_days(year):
    base, plants = year
    truth = pd.read_parquet(base / "synth" / "truth" / "expected_payments.parquet")
    paid = truth[(truth.outcome == "batch") & truth.paid_on.notna()]
    assert len(paid) == plants["paid_in_ledger"] > 0
    t = pd.read_parquet(base / "out" / "2025-12" / "tracking.parquet")
    t["person_id_number"] = t.person_id_number.fillna("")
    t["period_start"] = t.period_start.fillna("")
    got = {(r.listing_month, r.beneficiary_id, r.person_id_number, r.period_start):
           (r.state, str(r.paid_on), r.workdays_to_payment, r.paid_within_deadline) for r in t.itertuples()}
    for r in paid.fillna("").itertuples():
        wd = int(r.workdays_to_payment)
        assert got[(r.listing_month, r.beneficiary_id, r.person_id_number, r.period_start)] == (
            "已发放", r.paid_on, wd, wd <= 20), r
    print(f"paid through the ledger: {len(paid)}, of which within 20 working days: "
          f"{sum(int(w) <= 20 for w in paid.workdays_to_payment)}")
