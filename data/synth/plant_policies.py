"""The planted scenarios, policy by policy (positive cases and near-misses), and the ledger
cases for every verification finding. Months are relative to the generated window M0..Mn."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .scenarios import F, P, Plant, add_months, r2

D = Decimal


def _hire_paid(pl: Plant, f: F, p: P, k0: int, n: int, start: dt.date, months=24, base=D("5000"),
               skip_410_at: int | None = None, late: dict | None = None, force_si=None) -> dict:
    """招用 filing in month k0 and contributions for n months from k0 (credited monthly).
    ``late`` maps a month offset to the run month index in which it is credited instead."""
    pl.hire(f, p, k0, start, months)
    paid = {}
    for j in range(n):
        k = k0 + j
        if k >= len(pl.M):
            break
        kc = (late or {}).get(j, k)
        if kc >= len(pl.M):
            continue
        types = ("110", "210", "310") if skip_410_at == j else ("110", "210", "310", "410")
        paid[k] = (kc, pl.si(p, f, pl.M[k], kc, base, types, force=force_si if j == 0 else None))
    return paid


def hsi_amount(si: dict) -> Decimal:
    return sum((si[t][0] for t in ("110", "310", "210")), D(0))


def plant_all(pl: Plant) -> None:
    M, A = pl.M, pl.A
    n = len(M)
    rng = pl.rng
    pl.handler = pl.person(35, M[0])            # neutral planted clerk (not on the fiscal list)
    pl.handler2 = pl.person(41, M[0])
    Y = M[0].year

    def grad_recent(p_age=23):
        """A graduate who left school ~9 months before the window (within 2 years)."""
        p = pl.person(p_age, M[0])
        pl.grad(p, 0, dt.date(Y - 1, 6, 30))
        return p

    # ================= one_time_hiring =================
    if n >= 3:
        pol = "one_time_hiring"
        # 1. recent graduate hired by a medium firm, paid months M0..M2 -> eligible in M2
        f = pl.firm("中型"); p = grad_recent()
        _hire_paid(pl, f, p, 0, n, M[0] + dt.timedelta(days=9))
        pl.expect("oth_graduate_hired", pol, "eligible", p, f, D(1500), 2)
        # 2. graduating-year student hired before graduation
        f = pl.firm("中型"); p = pl.person(22, M[0])
        pl.grad(p, 0, dt.date(Y, 6, 30) if M[0].month <= 6 else dt.date(Y + 1, 6, 30))
        _hire_paid(pl, f, p, 0, n, M[0] + dt.timedelta(days=2), months=None)
        pl.expect("oth_graduating_year_hired", pol, "eligible", p, f, D(1500), 2)
        # 3. third paid month credited late -> listed a month later
        if n >= 4:
            f = pl.firm("中型"); p = grad_recent()
            _hire_paid(pl, f, p, 0, 3, M[0] + dt.timedelta(days=4), late={2: 3})
            pl.expect("oth_third_month_credited_late", pol, "eligible", p, f, D(1500), 3)
        # 4. contract 11 months
        f = pl.firm("中型"); p = grad_recent()
        _hire_paid(pl, f, p, 0, n, M[0] + dt.timedelta(days=5), months=11)
        pl.expect("oth_contract_11_months", pol, "contract_11_months", p, f, D(1500), 2)
        # 5. only 2 paid months (the 3rd month lacks 410)
        f = pl.firm("中型"); p = grad_recent()
        _hire_paid(pl, f, p, 0, 3, M[0] + dt.timedelta(days=6), skip_410_at=2)
        pl.expect("oth_only_2_paid_months", pol, "only_2_paid_months", p, f, D(1500), 2)
        # 6. graduated 2.5 years before the contract
        f = pl.firm("中型"); p = pl.person(25, M[0])
        start = M[0] + dt.timedelta(days=7)
        pl.grad(p, 0, add_months(start, -30))
        _hire_paid(pl, f, p, 0, n, start)
        pl.expect("oth_graduated_2_5_years_ago", pol, "graduated_2_5_years_ago", p, f, D(1500), 2)
        # 7. registered unemployed aged 24 (eligible) and aged 25 (near-miss) at contract_start
        for age, outcome in ((24, "eligible"), (25, "aged_25")):
            f = pl.firm("中型"); start = M[0] + dt.timedelta(days=14)
            p = pl.person(age, start)
            pl.reg(p, 0, "失业登记", M[0] - dt.timedelta(days=40))
            _hire_paid(pl, f, p, 0, n, start)
            pl.expect(f"oth_unemployed_aged_{age}", pol, outcome, p, f, D(1500), 2)
        # 8. firm deregistered after the hire (注销 in M1) / dishonest / public institution
        f = pl.firm("中型", status="注销", status_date=M[1] + dt.timedelta(days=10)); p = grad_recent()
        _hire_paid(pl, f, p, 0, 3, M[0] + dt.timedelta(days=3))
        pl.expect("oth_firm_deregistered", pol, "firm_deregistered", p, f, D(1500), 2)
        f = pl.firm("中型", dishonest=True); p = grad_recent()
        _hire_paid(pl, f, p, 0, n, M[0] + dt.timedelta(days=3))
        pl.expect("oth_firm_dishonest", pol, "firm_dishonest", p, f, D(1500), 2)
        f = pl.firm(None, prefix="12"); p = grad_recent()
        _hire_paid(pl, f, p, 0, n, M[0] + dt.timedelta(days=3))
        pl.expect("oth_public_institution", pol, "firm_public_institution", p, f, D(1500), 2)
        # 9. two firms for one person: the earliest contract_start wins
        fa, fb = pl.firm("中型"), pl.firm("中型"); p = grad_recent()
        _hire_paid(pl, fa, p, 0, n, M[0] + dt.timedelta(days=4))
        _hire_paid(pl, fb, p, 0, n, M[0] + dt.timedelta(days=19))
        pl.expect("oth_two_firms", pol, "eligible", p, fa, D(1500), 2)
        pl.expect("oth_two_firms", pol, "earlier_firm_wins", p, fb, D(1500), 2)
        # 10. fiscal staff; deceased before the as-of date; already in the ledger
        f = pl.firm("中型"); p = grad_recent()
        pl.fiscal(p, 0, "第一中学")
        _hire_paid(pl, f, p, 0, n, M[0] + dt.timedelta(days=8))
        pl.expect("oth_fiscal_staff", pol, "fiscal_staff", p, f, D(1500), 2)
        f = pl.firm("中型"); p = grad_recent()
        _hire_paid(pl, f, p, 0, 3, M[0] + dt.timedelta(days=8))
        pl.death(p, 2, M[2] + dt.timedelta(days=19))
        pl.expect("oth_deceased", pol, "deceased", p, f, D(1500), 2)
        f = pl.firm("中型"); p = grad_recent()
        _hire_paid(pl, f, p, 0, n, M[0] + dt.timedelta(days=8))
        app = pl.ledger(1, f"ZBP{Y}0001", pol, f, p, D("1500.00"), M[1] + dt.timedelta(days=2),
                        M[1] + dt.timedelta(days=3), M[1] + dt.timedelta(days=6), M[1] + dt.timedelta(days=8),
                        channel="窗口申领")
        pl.expect("oth_ledger_granted", pol, "ledger_granted", p, f, D(1500), 2)
        pl.finding("oth_ledger_granted", "none", app, pol, p, 1, note="clean ledger row")
        # 11. noisy records that normalisation / repair must see through
        f = pl.firm("中型"); p = grad_recent()
        _hire_paid(pl, f, p, 0, n, M[0] + dt.timedelta(days=11), force_si="id_number=id_fullwidth,name=name_traditional")
        pl.expect("oth_noisy_ids_fullwidth_traditional", pol, "eligible", p, f, D(1500), 2)
        f = pl.firm("中型"); p = grad_recent()
        pl.hire(f, p, 0, M[0] + dt.timedelta(days=12), 24, force="id_number=id_typo_digit")
        for k in range(n):
            pl.si(p, f, M[k], k, D("6000"))
        pl.expect("oth_filing_id_typo_repaired", pol, "eligible", p, f, D(1500), 2,
                  note="hiring filing carries a one-digit typo in the ID; needs id_repaired linkage")
        # 12. decoys: a common name, and a valid ID one digit apart, both plain employees elsewhere
        f = pl.firm("中型"); p = pl.person(23, M[0], name="张伟"); pl.grad(p, 0, dt.date(Y - 1, 7, 1))
        _hire_paid(pl, f, p, 0, n, M[0] + dt.timedelta(days=10))
        pl.expect("oth_common_name_decoy", pol, "eligible", p, f, D(1500), 2)
        g = pl.firm("小型")
        q = pl.person(23, M[0], name="张伟")
        q2 = pl.person(23, M[0], name="刘洋"); q2.decoy_of = p; q2.male = p.male
        for qq in (q, q2):
            for k in range(n):
                pl.si(qq, g, M[k], k, D("4500"))

    # ================= hiring_social_insurance =================
    if n >= 2:
        pol = "hiring_social_insurance"

        def monthly(scn, f, p, start, outcome_by_k=None, k0=0, base=D("5600"), late=None):
            pl.hire(f, p, k0, start, 36)
            amounts: dict[int, list] = {}
            for k in range(k0, n):
                kc = (late or {}).get(k, k)
                if kc >= n:
                    continue
                si = pl.si(p, f, M[k], kc, base)
                amounts.setdefault(kc, []).append((k, hsi_amount(si)))
            for kc, lst in sorted(amounts.items()):
                outcome = (outcome_by_k or {}).get(kc, "eligible")
                pl.expect(scn, pol, outcome, p, f, sum(a for _, a in lst), kc,
                          (M[min(k for k, _ in lst)], M[max(k for k, _ in lst)]))
            return amounts

        # (a) hardship person (大龄失业人员, 48) hired by a small firm
        f = pl.firm("小型"); p = pl.person(48, M[0], male=True)
        pl.reg(p, 0, "失业登记", M[0] - dt.timedelta(days=70), hardship="大龄失业人员")
        monthly("hsi_hardship_hired", f, p, M[0])
        # (a) into a large firm (any scale qualifies for hardship hires); third month credited late
        f = pl.firm("大型"); p = pl.person(45, M[0], male=False)
        pl.reg(p, 0, "失业登记", M[0] - dt.timedelta(days=100), hardship="长期失业人员")
        monthly("hsi_hardship_large_firm_late_credit", f, p, M[0] + dt.timedelta(days=1),
                late={1: 2} if n >= 3 else None)
        # (b) small firm hires a recent graduate -> also one_time_hiring
        f = pl.firm("微型"); p = grad_recent()
        monthly("hsi_small_firm_graduate", f, p, M[0] + dt.timedelta(days=11), base=D("4800"))
        if n >= 3:
            pl.expect("hsi_small_firm_graduate", "one_time_hiring", "eligible", p, f, D(1500), 2)
        # (b) near-miss: large firm graduate (still a one_time_hiring case)
        f = pl.firm("大型"); p = grad_recent()
        pl.hire(f, p, 0, M[0] + dt.timedelta(days=11), 24)
        for k in range(n):
            pl.si(p, f, M[k], k, D("7000"))
            pl.expect("hsi_large_firm_graduate", pol, "firm_not_small_micro", p, f, None, k, (M[k], M[k]))
        if n >= 3:
            pl.expect("hsi_large_firm_graduate", "one_time_hiring", "eligible", p, f, D(1500), 2)
        # exclusions: fiscal staff; death in M0 (months up to the month of death are paid); ledger
        f = pl.firm("小型"); p = pl.person(50, M[0], male=True)
        pl.reg(p, 0, "失业登记", M[0] - dt.timedelta(days=70), hardship="残疾人")
        pl.fiscal(p, 0, "财政局")
        monthly("hsi_fiscal_staff", f, p, M[0], {k: "fiscal_staff" for k in range(n)})
        f = pl.firm("小型"); p = pl.person(52, M[0], male=True)
        pl.reg(p, 0, "失业登记", M[0] - dt.timedelta(days=70), hardship="零就业家庭成员")
        pl.death(p, 0, M[0] + dt.timedelta(days=20))
        monthly("hsi_deceased", f, p, M[0], {k: "deceased" for k in range(1, n)})
        f = pl.firm("小型"); p = pl.person(47, M[0], male=False)
        pl.reg(p, 0, "失业登记", M[0] - dt.timedelta(days=90), hardship="低保家庭成员")
        am = monthly("hsi_ledger_granted", f, p, M[0], {1: "ledger_granted"})
        app = pl.ledger(1, f"ZBP{Y}0002", pol, f, p, am[1][0][1], M[1] + dt.timedelta(days=20),
                        M[1] + dt.timedelta(days=21), M[1] + dt.timedelta(days=22), M[1] + dt.timedelta(days=23),
                        subsidy_month=M[1], channel="线上申领")
        pl.finding("hsi_ledger_granted", "none", app, pol, p, 1, note="clean recurring ledger row")

    # ================= flexible_social_insurance =================
    pol = "flexible_social_insurance"

    def flex(scn, p, k0, outcome="eligible"):
        pl.reg(p, k0, "就业登记", M[k0] + dt.timedelta(days=9), form="灵活就业")
        for k in range(k0, n):
            tot = pl.si_flex(p, M[k], k)
            pl.expect(scn, pol, outcome, p, None, r2(tot * 2 / 3), k, (M[k], M[k]))

    p = pl.person(40, M[0])
    pl.reg(p, 0, "失业登记", add_months(M[0], -3), hardship="零就业家庭成员")
    flex("flex_hardship", p, 0)
    p = pl.person(24, M[0]); pl.grad(p, 0, dt.date(Y - 1, 7, 1))
    flex("flex_graduate", p, min(1, n - 1))
    p = pl.person(38, M[0], mongolian=True)
    pl.reg(p, 0, "失业登记", add_months(M[0], -4), hardship="长期失业人员")
    pl.reg(p, 0, "失业登记注销", add_months(M[0], -1))
    flex("flex_deregistered_before", p, 0, "not_hardship_at_registration")
    p = pl.person(36, M[0])
    flex("flex_no_target_group", p, 0, "not_target_group")

    # ================= startup_one_time =================
    pol = "startup_one_time"
    p = pl.person(24, M[0]); pl.grad(p, 0, add_months(M[0], -13) - dt.timedelta(days=40))
    f = pl.firm(None, "个体工商户", established=add_months(M[0], -13), rep=p)
    pl.expect("startup_graduate_individual_business", pol, "eligible", p, None, D(5000), 0)
    if n >= 2:
        p = pl.person(42, M[0])
        pl.reg(p, 0, "失业登记", add_months(M[1], -15), hardship="长期失业人员")
        f = pl.firm("微型", established=add_months(M[1], -12) + dt.timedelta(days=5), rep=p)
        pl.expect("startup_hardship_micro_firm", pol, "eligible", p, None, D(5000), 1)
    p = pl.person(39, M[0], mongolian=True)
    pl.poverty(p, f"{p.region}P000000001")
    pl.firm("小型", established=add_months(M[0], -20), rep=p)
    pl.expect("startup_poverty_roster", pol, "eligible", p, None, D(5000), 0)
    p = pl.person(24, M[0]); pl.grad(p, 0, add_months(M[-1], -11) - dt.timedelta(days=60))
    pl.firm(None, "个体工商户", established=add_months(M[-1], -11) + dt.timedelta(days=3), rep=p)
    pl.expect("startup_operated_11_months", pol, "operated_11_months", p, None, D(5000), None)
    p = pl.person(44, M[0])
    pl.poverty(p, f"{p.region}P000000002")
    pl.firm(None, "个体工商户", established=dt.date(2019, 4, 1), status="注销", status_date=dt.date(2021, 8, 1), rep=p)
    pl.firm(None, "个体工商户", established=add_months(M[0], -14), rep=p)
    pl.expect("startup_second_entity", pol, "not_first_entity", p, None, D(5000), 0)
    p = pl.person(25, M[0]); pl.grad(p, 0, add_months(M[0], -15))
    pl.firm("中型", established=add_months(M[0], -13), rep=p)
    pl.expect("startup_medium_firm", pol, "firm_not_small_micro", p, None, D(5000), 0)
    # already granted through the window channel (a personal application in the ledger)
    p = pl.person(33, M[0])
    pl.poverty(p, f"{p.region}P000000004")
    pl.firm(None, "个体工商户", established=add_months(M[0], -16), rep=p)
    a = M[0] + dt.timedelta(days=1)
    app = pl.ledger(0, f"ZBP{Y}0003", pol, None, p, D("5000.00"), a, a + dt.timedelta(days=1),
                    a + dt.timedelta(days=2), a + dt.timedelta(days=3), channel="窗口申领", handler=pl.handler2)
    pl.expect("startup_ledger_granted", pol, "ledger_granted", p, None, D(5000), 0)
    pl.finding("startup_ledger_granted", "none", app, pol, p, 0, note="clean personal ledger row")

    # ================= job_search =================
    pol = "job_search"
    gy = M[0].year if M[0].month <= 6 else M[0].year + 1
    in_window = [k for k in range(n) if dt.date(gy - 1, 9, 1) <= M[k] <= dt.date(gy, 6, 1)]
    if in_window:
        k0 = in_window[0]
        p = pl.person(22, M[0]); pl.grad(p, 0, dt.date(gy, 6, 30), hardship="低保家庭")
        pl.expect("js_hardship_flag", pol, "eligible", p, None, D(2000), k0)
        p = pl.person(22, M[0]); pl.grad(p, 0, dt.date(gy, 6, 28), hardship="国家助学贷款;残疾", degree="专科")
        pl.expect("js_two_flags", pol, "eligible", p, None, D(2000), k0)
        p = pl.person(22, M[0], mongolian=True); pl.grad(p, 0, dt.date(gy, 7, 1))
        pl.poverty(p, f"{p.region}P000000003")
        pl.expect("js_poverty_roster_only", pol, "eligible", p, None, D(2000), k0)
        if len(in_window) >= 3:
            k2 = in_window[2]
            p = pl.person(22, M[0]); pl.grad(p, k2, dt.date(gy, 6, 30), hardship="特困人员")
            pl.expect("js_record_arrives_late", pol, "eligible", p, None, D(2000), k2)
        p = pl.person(22, M[0]); pl.grad(p, 0, dt.date(gy, 6, 30))
        pl.expect("js_no_hardship", pol, "no_hardship", p, None, D(2000), None)
        p = pl.person(21, M[0]); pl.grad(p, 0, dt.date(gy + 1, 6, 30), hardship="脱贫家庭")
        pl.expect("js_next_year_student", pol, "not_graduating_year", p, None, D(2000), None)
        if len(in_window) >= 2:
            k1 = in_window[1]
            p = pl.person(22, M[0]); pl.grad(p, k1, dt.date(gy, 6, 30), hardship="残疾")
            pl.death(p, k1, M[k1] + dt.timedelta(days=5))
            pl.expect("js_deceased", pol, "deceased", p, None, D(2000), k1)

    # ================= job_retention_refund =================
    pol = "job_retention_refund"
    june = [k for k in range(n) if M[k].month == 6]
    if june:
        kj = june[0]
        Yr = M[kj].year - 1

        def refund_firm(scn, scale, headcount, layoffs, outcome, ratio, missing_month=None, dishonest=False):
            f = pl.firm(scale, established=dt.date(Yr - 5, 3, 1), dishonest=dishonest)
            total = D(0)
            staff = [pl.person(30 + (i % 20), M[0]) for i in range(headcount)]
            for i, p in enumerate(staff):
                pl.hire(f, p, 0, dt.date(Yr - 2, 3, 1) + dt.timedelta(days=i), None)
                left = i < layoffs
                last = 10 if left else 12
                if left:
                    pl.leave(f, p, 0, dt.date(Yr, 10, 20))
                for mm in range(1, last + 1):
                    if missing_month == mm:
                        continue
                    si = pl.si(p, f, dt.date(Yr, mm, 1), 0, D("4500") + 100 * (i % 7),
                               credited=dt.date(Yr, mm, 20))
                    total += si["210"][0] + si["210"][1]
                if not left:
                    for k in range(n):
                        pl.si(p, f, M[k], k, D("4500") + 100 * (i % 7))
            pl.expect(scn, pol, outcome, staff[0], f, r2(total * D(ratio)) if ratio else None, kj,
                      (dt.date(Yr, 1, 1), dt.date(Yr, 12, 1)), beneficiary_type="firm",
                      note=f"refund for {Yr}; person_id_number = one of the insured staff; ratio {ratio}")

        refund_firm("jrr_medium_firm", "中型", 10, 1, "eligible", "0.60")
        refund_firm("jrr_large_firm", "大型", 35, 1, "eligible", "0.30")
        refund_firm("jrr_layoff_rate_exceeded", "小型", 10, 3, "layoff_rate_exceeded", "0.60")
        refund_firm("jrr_missing_month", "中型", 8, 0, "missing_contribution_months", "0.60", missing_month=7)
        refund_firm("jrr_dishonest", "中型", 6, 0, "firm_dishonest", "0.60", dishonest=True)

    _plant_findings(pl)


def _plant_findings(pl: Plant) -> None:
    """One ledger case per verification finding type, each built to trigger only that check."""
    import chinese_calendar as cc

    M, A, n = pl.M, pl.A, len(pl.M)
    Y = M[0].year
    if n < 2:
        return

    def wd_after(d: dt.date, k: int) -> dt.date:
        x = d
        while k > 0:
            x += dt.timedelta(days=1)
            if cc.is_workday(x):
                k -= 1
        return x

    seq = iter(range(100, 1000))

    def aid():
        return f"ZBP{Y}{next(seq):04d}"

    def linked(f=None, p=None, k=0):
        f = f or pl.firm("中型")
        p = p or pl.person(30, M[0])
        pl.hire(f, p, 0, M[0] - dt.timedelta(days=300), None)
        for kk in range(n):
            pl.si(p, f, M[kk], kk, D("5200"))
        return f, p

    k = 1
    d0 = M[k] + dt.timedelta(days=2)
    # pending cases overdue at stage level (still waiting at every later as-of date)
    f, p = linked()
    pl.finding("find_overdue_accept", "overdue_accept", pl.ledger(k, aid(), "one_time_hiring", f, p, D(1500), d0,
               status="已申请"), "one_time_hiring", p, k, n - 1,
               note=f"deadline {wd_after(d0, 5)}")
    f, p = linked()
    acc = wd_after(d0, 1)
    pl.finding("find_overdue_review", "overdue_review", pl.ledger(k, aid(), "one_time_hiring", f, p, D(1500), d0,
               accept=acc, status="已受理"), "one_time_hiring", p, k, n - 1, note=f"deadline {wd_after(acc, 10)}")
    f, p = linked()
    rev = wd_after(acc, 2)
    pl.finding("find_overdue_payment", "overdue_payment", pl.ledger(k, aid(), "one_time_hiring", f, p, D(1500), d0,
               accept=acc, review=rev, status="已审核"), "one_time_hiring", p, k, n - 1,
               note=f"deadline {wd_after(rev, 5)}")
    # paid after more than 20 working days (accept and review within their limits, the payment
    # stage 6 working days), first seen in M[k]'s extract: only 超期办结 applies
    f, p = linked()
    ap = A(k)
    while True:
        a1 = wd_after(ap, 5); r1 = wd_after(a1, 10); pay = wd_after(r1, 6)
        if pay <= A(k) - dt.timedelta(days=1):
            break
        ap -= dt.timedelta(days=1)
    pl.finding("find_overdue_completion", "overdue_completion",
               pl.ledger(k, aid(), "one_time_hiring", f, p, D(1500), ap, a1, r1, pay), "one_time_hiring", p, k,
               note=f"apply {ap} pay {pay}: 21 working days")

    def clean_dates(kk):
        a = M[kk] + dt.timedelta(days=1)
        return dict(apply=a, accept=a + dt.timedelta(days=1), review=a + dt.timedelta(days=3),
                    pay=a + dt.timedelta(days=5))

    # paid to 财政供养人员
    f, p = linked()
    pl.fiscal(p, 0, "教育局")
    pl.finding("find_paid_fiscal", "paid_to_fiscal_staff",
               pl.ledger(k, aid(), "one_time_hiring", f, p, D(1500), **clean_dates(k)), "one_time_hiring", p, k)
    # recurring month after death (contributions still credited, so only this check applies)
    f, p = linked()
    pl.death(p, 0, M[0] + dt.timedelta(days=12))
    pl.finding("find_paid_after_death", "paid_after_death",
               pl.ledger(k, aid(), "hiring_social_insurance", f, p, D("1227.50"), **clean_dates(k),
                         subsidy_month=M[k]), "hiring_social_insurance", p, k)
    # duplicate one-off: paid by firm A in M0 and by firm B in M1
    fa, p = linked()
    fb, _ = linked(p=p)
    a_first = pl.ledger(0, aid(), "one_time_hiring", fa, p, D(1500), **clean_dates(0))
    pl.finding("find_duplicate_one_off", "none", a_first, "one_time_hiring", p, 0, note="first grant: clean")
    pl.finding("find_duplicate_one_off", "duplicate_one_off",
               pl.ledger(k, aid(), "one_time_hiring", fb, p, D(1500), **clean_dates(k)), "one_time_hiring", p, k,
               note=f"duplicate of {a_first}")
    # no contributions behind a recurring month (filing links the person, contributions start later)
    f = pl.firm("小型"); p = pl.person(33, M[0])
    pl.hire(f, p, 0, M[0] + dt.timedelta(days=3), None)
    for kk in range(1, n):
        pl.si(p, f, M[kk], kk, D("5000"))
    pl.finding("find_no_contributions", "no_contributions",
               pl.ledger(k, aid(), "hiring_social_insurance", f, p, D("1227.50"), **clean_dates(k),
                         subsidy_month=M[0]), "hiring_social_insurance", p, k,
               note="subsidy month M0 has no contribution from the firm")
    # beneficiary not linked to the applicant firm
    f = pl.firm("中型"); _, p = linked()
    pl.finding("find_not_linked", "beneficiary_not_linked",
               pl.ledger(k, aid(), "one_time_hiring", f, p, D(1500), **clean_dates(k)), "one_time_hiring", p, k)
    # handler conflicts
    f, p = linked()
    pl.finding("find_handler_self", "handler_is_beneficiary",
               pl.ledger(k, aid(), "one_time_hiring", f, p, D(1500), **clean_dates(k), handler=p),
               "one_time_hiring", p, k)
    rep = pl.person(50, M[0])
    f = pl.firm("中型", rep=rep); f, p = linked(f=f)
    pl.finding("find_handler_legal_rep", "handler_is_legal_rep",
               pl.ledger(k, aid(), "one_time_hiring", f, p, D(1500), **clean_dates(k), handler=rep),
               "one_time_hiring", p, k)
    f, p = linked()
    h = pl.person(52, M[0], region=p.region)
    hh = f"{p.region}P000000009"
    pl.poverty(p, hh); pl.poverty(h, hh)
    pl.finding("find_handler_household", "handler_same_household",
               pl.ledger(k, aid(), "one_time_hiring", f, p, D(1500), **clean_dates(k), handler=h),
               "one_time_hiring", p, k)
    h = pl.person(27, M[0])
    f, p = linked()
    pl.grad(h, 0, dt.date(Y - 4, 6, 30))          # the clerk's own record carries her phone
    pl._same_phone = (h, p)
    pl.reg(p, 0, "就业登记", M[0] - dt.timedelta(days=300), form="单位就业", employer=f, phone=h)
    pl.finding("find_handler_phone", "handler_same_phone",
               pl.ledger(k, aid(), "one_time_hiring", f, p, D(1500), **clean_dates(k), handler=h),
               "one_time_hiring", p, k, note="beneficiary's 就业登记 carries the handler's phone")
    # plain clean rows
    for kk in range(n):
        f, p = linked()
        pl.finding("find_clean", "none", pl.ledger(kk, aid(), "one_time_hiring", f, p, D(1500), **clean_dates(kk),
                   channel="直补快办"), "one_time_hiring", p, kk)
