"""Planted, hand-shaped policy scenarios (positive and near-miss) and ledger verification cases,
with the expected decisions and findings.

Readings chosen where the rules leave room (see also the module docstrings of the report):
- Recurring subsidies: the expected row of a run month covers exactly the contribution months
  credited in that month (one row per firm × person per run; a month credited late is listed in
  the run of the month it is credited, alone or together with that month's own contribution).
- ``job_retention_refund``: ratio 60% for 中型 (unambiguous) and 30% for 大型; refund =
  ratio × (employer + individual 210 amounts of the firm for contribution months of Y),
  rounded half-up to the fen once. Settled in the June run; the history for Y arrives in the
  first month's extracts (initial load).
- A one-off grant listed by an earlier run is not repeated: near-miss outcomes are written
  once, for the month where the positive twin would be listed (or NULL if never).
- Expected outcome codes: ``eligible`` or a near-miss reason (contract_11_months,
  only_2_paid_months, graduated_2_5_years_ago, aged_25, firm_deregistered, firm_dishonest,
  firm_public_institution, earlier_firm_wins, fiscal_staff, deceased, ledger_granted,
  firm_not_small_micro, not_hardship_at_registration, not_target_group, operated_11_months,
  not_first_entity, no_hardship, not_graduating_year, layoff_rate_exceeded,
  missing_contribution_months).
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyarrow as pa

from . import names as N
from .background import EMPLOYEE_RATES, FLEX_RATES, Ctx
from .firms import FIRM_PHONE_OFFSET, INDUSTRIES, WORDS
from .ids import USCC_ALPHABET, id_check, make_uscc
from .regions import COUNTY_CODES, LEAGUES, league_of
from .schema import SOURCES, SNAPSHOTS

CENT = Decimal("0.01")


def r2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year
    m += 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m, min(d.day, last))


def ym(d: dt.date | None) -> str | None:
    return None if d is None else f"{d.year:04d}-{d.month:02d}"


@dataclass(eq=False)
class P:
    pidx: int
    name: str
    male: bool
    birth: dt.date
    region: str
    phone: str | None = None
    id: str | None = None
    decoy_of: "P | None" = None


@dataclass(eq=False)
class F:
    eidx: int
    uscc: str
    name: str
    entity_type: str
    scale: str | None
    rep: P
    established: dt.date
    status: str = "存续"
    status_date: dt.date | None = None
    dishonest: bool = False
    region: str = "150102"
    phone: str | None = None
    registered: bool = True


@dataclass
class Plant:
    ctx: Ctx
    first_pidx: int
    first_eidx: int
    rng: random.Random
    persons: list = field(default_factory=list)
    firms: list = field(default_factory=list)
    rows: dict = field(default_factory=lambda: {s: [] for s in SOURCES})
    expected: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    _pk: int = 0

    # ---------- months ----------
    @property
    def M(self) -> list[dt.date]:
        return self.ctx.months

    def A(self, k: int) -> dt.date:
        return self.ctx.as_of(self.M[k])

    # ---------- entities ----------
    def person(self, age: int, at: dt.date, male: bool | None = None, name: str | None = None,
               mongolian: bool = False, region: str | None = None, phone: str | None = None) -> P:
        rng = self.rng
        male = rng.random() < 0.5 if male is None else male
        birth = at - dt.timedelta(days=int(age * 365.25) + rng.randint(20, 300))
        if name is None:
            if mongolian or rng.random() < 0.1:
                a, b = rng.sample(N.MONGOLIAN_NAMES, 2)
                name = f"{a}·{b}" if rng.random() < 0.6 else a
            else:
                name = rng.choice(N.SURNAMES) + "".join(rng.choice(N.GIVEN_CHARS) for _ in range(rng.choice([1, 2, 2])))
        p = P(self.first_pidx + len(self.persons), name, male, birth, region or rng.choice(COUNTY_CODES), phone)
        self.persons.append(p)
        return p

    def firm(self, scale: str | None = "中型", entity_type: str = "企业", established: dt.date | None = None,
             status: str = "存续", status_date: dt.date | None = None, dishonest: bool = False,
             rep: P | None = None, prefix: str | None = None, region: str | None = None,
             register_in: int | None = 0) -> F:
        rng = self.rng
        eidx = self.first_eidx + len(self.firms)
        region = region or rng.choice(COUNTY_CODES)
        if prefix is None:
            prefix = {"企业": "91", "个体工商户": "92", "农民专业合作社": "93"}[entity_type]
        v = (eidx * 7919 + 1234567) % 31 ** 7
        org = "".join(USCC_ALPHABET[(v // 31 ** k) % 31] for k in range(6, -1, -1))
        uscc = make_uscc(prefix, region, "MA" + org)
        city = LEAGUES[league_of(region)]
        w, ind = rng.choice(WORDS), rng.choice(INDUSTRIES)
        if prefix.startswith("1"):
            name = f"{city}{w}职业技术学校"
        elif entity_type == "个体工商户":
            name = f"{city}{w}便利店"
        elif scale == "大型":
            name = f"内蒙古{w}{ind}集团有限公司"
        else:
            name = f"{city}{w}{ind}{rng.choice(['有限公司', '有限责任公司'])}"
        rep = rep or self.person(45, self.M[0])
        established = established or dt.date(2015, 5, 1) + dt.timedelta(days=rng.randint(0, 1500))
        f = F(eidx, uscc, name, entity_type, scale if entity_type == "企业" else None, rep, established, status,
              status_date, dishonest, region,
              "1" + rng.choice("35789") + f"{((eidx + FIRM_PHONE_OFFSET) * 7919 + 104729) % 100000000:09d}"[:9])
        self.firms.append(f)
        if prefix.startswith("1"):
            f.registered = False
        elif register_in is not None:
            k = register_in
            if established > self.A(0):
                k = next(i for i in range(len(self.M)) if established <= self.A(i))
            self.biz(f, k, status="存续" if (status_date and status_date > self.A(k)) else status,
                     status_date=status_date if (status_date and status_date <= self.A(k)) else None)
            if status_date and status_date > self.A(k):
                k2 = next((i for i in range(len(self.M)) if status_date <= self.A(i)), None)
                if k2 is not None:
                    self.biz(f, k2, status=status, status_date=status_date)
        return f

    # ---------- rows ----------
    def row(self, source: str, k: int, force: str | None = None, **cols) -> dict:
        self._pk += 1
        r = {"month": ym(self.M[k]), "pk": 9_000_000_000_000_000 + self._pk, "planted": True, "force": force}
        r.update(cols)
        self.rows[source].append(r)
        return r

    def biz(self, f: F, k: int, status: str | None = None, status_date=None) -> None:
        self.row("business_registration", k, uscc=f.uscc, name=f.name, entity_type=f.entity_type,
                 enterprise_scale=f.scale, legal_rep_id_number=f.rep, legal_rep_name=f.rep.name,
                 established_date=f.established, status=status or f.status, status_date=status_date,
                 serious_dishonest=f.dishonest, phone=f.phone, region_code=f.region)

    def grad(self, p: P, k: int, grad_date: dt.date, hardship: str | None = None, degree: str = "本科",
             school: str | None = None, force=None) -> None:
        from .background import SCHOOLS
        self.row("graduates", k, force, id_number=p, name=p.name, school=school or self.rng.choice(SCHOOLS),
                 degree=degree, graduation_date=grad_date, hardship_types=hardship, region_code=p.region,
                 phone=p)

    def reg(self, p: P, k: int, rtype: str, date: dt.date, form: str | None = None, employer: F | None = None,
            hardship: str | None = None, phone: str | None = None, force=None) -> None:
        self.row("employment_registration", k, force, id_number=p, name=p.name, registration_type=rtype,
                 registration_date=date, employment_form=form, employer_uscc=employer.uscc if employer else None,
                 hardship_category=hardship, phone=phone or p, region_code=p.region)

    def hire(self, f: F, p: P, k: int, start: dt.date, months: int | None = 24, term: str = "固定期限",
             force=None) -> None:
        end = None if months is None else add_months(start, months) - dt.timedelta(days=1)
        if months is None:
            term = "无固定期限"
        self.row("hiring_filing", k, force, employer_uscc=f.uscc, employer_name=f.name, id_number=p, name=p.name,
                 filing_type="招用", contract_start=start, contract_end=end, contract_term_type=term,
                 filing_date=min(start + dt.timedelta(days=3), self.A(k)), region_code=f.region)

    def leave(self, f: F, p: P, k: int, date: dt.date, ftype: str = "解除") -> None:
        self.row("hiring_filing", k, employer_uscc=f.uscc, employer_name=f.name, id_number=p, name=p.name,
                 filing_type=ftype, contract_start=None, contract_end=None, contract_term_type=None,
                 filing_date=date, region_code=f.region)

    def si(self, p: P, f: F, cm: dt.date, k: int, base: Decimal = Decimal("5000"), types=("110", "210", "310", "410"),
           credited: dt.date | None = None, force=None) -> dict[str, tuple[Decimal, Decimal]]:
        """Employee contributions of contribution month ``cm`` credited in run month k."""
        credited = credited or max(dt.date(cm.year, cm.month, 15), self.M[k] + dt.timedelta(days=14))
        if credited > self.A(k):
            credited = self.A(k)
        out = {}
        for t in types:
            er, ir = (Decimal(x) for x in EMPLOYEE_RATES[t])
            ea, ia = r2(base * er), r2(base * ir)
            out[t] = (ea, ia)
            self.row("social_insurance", k, force, id_number=p, name=p.name, employer_uscc=f.uscc,
                     insured_type="单位职工", insurance_type=t, contribution_month=dt.date(cm.year, cm.month, 1),
                     contribution_base=base, employer_amount=ea, individual_amount=ia, credited_date=credited,
                     region_code=f.region)
        return out

    def si_flex(self, p: P, cm: dt.date, k: int, base: Decimal = Decimal("4123")) -> Decimal:
        tot = Decimal(0)
        for t, rate in FLEX_RATES.items():
            ia = r2(base * Decimal(rate))
            tot += ia
            self.row("social_insurance", k, id_number=p, name=p.name, employer_uscc=None, insured_type="灵活就业人员",
                     insurance_type=t, contribution_month=dt.date(cm.year, cm.month, 1), contribution_base=base,
                     employer_amount=Decimal("0.00"), individual_amount=ia,
                     credited_date=min(dt.date(cm.year, cm.month, 1) + dt.timedelta(days=17), self.A(k)),
                     region_code=p.region)
        return tot

    def poverty(self, p: P, household: str, from_k: int = 0, ptype: str = "脱贫人口") -> None:
        for k in range(from_k, len(self.M)):
            self.row("poverty_alleviation", k, id_number=p, name=p.name, household_id=household,
                     population_type=ptype, is_labor_force=True, phone=p, region_code=p.region)

    def fiscal(self, p: P, from_k: int = 0, unit: str = "人民医院") -> None:
        for k in range(from_k, len(self.M)):
            self.row("fiscal_staff", k, id_number=p, name=p.name,
                     work_unit=LEAGUES[league_of(p.region)] + unit, region_code=p.region)

    def death(self, p: P, k: int, date: dt.date) -> None:
        self.row("deceased", k, id_number=p, name=p.name, death_date=date)

    def ledger(self, k: int, app_id: str, policy: str, firm: F | None, person: P, amount: Decimal,
               apply: dt.date, accept=None, review=None, pay=None, status="已拨付", handler: P | None = None,
               subsidy_month: dt.date | None = None, channel: str = "直补快办") -> str:
        self.row("subsidy_ledger", k, application_id=app_id, policy_code=policy,
                 applicant_type="单位" if firm else "个人", applicant_id=firm.uscc if firm else person,
                 beneficiary_id_number=person, subsidy_month=subsidy_month, amount=amount, apply_date=apply,
                 accept_date=accept, review_date=review, pay_date=pay, status=status, channel=channel,
                 handler_id_number=handler or self.handler, region_code=(firm.region if firm else person.region))
        return app_id

    # ---------- truth ----------
    def expect(self, scenario: str, policy: str, outcome: str, person: P, firm: F | None = None,
               amount: Decimal | None = None, k: int | None = None, period: tuple | None = None,
               beneficiary_type: str | None = None, note: str | None = None) -> None:
        bt = beneficiary_type or ("firm" if firm is not None else "person")
        self.expected.append(dict(
            scenario=scenario, policy_code=policy, beneficiary_type=bt,
            beneficiary=(firm if bt == "firm" else person), person=person,
            amount=None if amount is None else f"{r2(Decimal(amount)):.2f}",
            period_start=ym(period[0]) if period else None, period_end=ym(period[1]) if period else None,
            run_month=None if k is None else ym(self.M[k]), expected_outcome=outcome, note=note))

    def finding(self, scenario: str, check_code: str, app_id: str, policy: str, person: P, k: int | None,
                until: int | None = None, note: str | None = None) -> None:
        self.findings.append(dict(scenario=scenario, check_code=check_code, check_name=CHECK_NAMES.get(check_code),
                                  application_id=app_id, policy_code=policy, person=person,
                                  run_month=None if k is None else ym(self.M[k]),
                                  until_month=None if until is None else ym(self.M[until]), note=note))

    def counts(self) -> dict:
        out: dict = {}
        for e in self.expected:
            d = out.setdefault(e["policy_code"], {"eligible_rows": 0, "near_miss_rows": 0, "scenarios": set()})
            d["eligible_rows" if e["expected_outcome"] == "eligible" else "near_miss_rows"] += 1
            d["scenarios"].add(e["scenario"])
        for d in out.values():
            d["scenarios"] = len(d["scenarios"])
        fc: dict = {}
        for f in self.findings:
            fc[f["check_code"]] = fc.get(f["check_code"], 0) + 1
        return {"decisions": out, "findings": fc}

    # ---------- registration into DuckDB ----------
    def register_persons(self, con) -> None:
        tab = pa.table({
            "pidx": pa.array([p.pidx for p in self.persons], pa.int64()),
            "role": ["planted"] * len(self.persons),
            "local_idx": pa.array(range(len(self.persons)), pa.int64()),
            "hh": pa.array([None] * len(self.persons), pa.int64()),
            "cohort": pa.array([None] * len(self.persons), pa.int32()),
            "region_code": [p.region for p in self.persons],
            "male": [p.male for p in self.persons],
            "birth_date": pa.array([p.birth for p in self.persons], pa.date32()),
            "hn": pa.array([0] * len(self.persons), pa.uint64()),
            "name_fixed": [p.name for p in self.persons],
            "phone_fixed": [p.phone for p in self.persons],
        })
        con.register("planted_persons_arrow", tab)
        con.execute("INSERT INTO persons_raw BY NAME SELECT * FROM planted_persons_arrow")
        con.unregister("planted_persons_arrow")

    def resolve_ids(self, con) -> None:
        rows = con.execute(f"SELECT pidx, id_number, phone FROM persons WHERE pidx >= {self.first_pidx}").fetchall()
        by = {r[0]: (r[1], r[2]) for r in rows}
        for p in self.persons:
            p.id, p.phone = by[p.pidx]
        for p in self.persons:
            if p.decoy_of is not None:
                base = p.decoy_of.id
                for pos in (14, 15, 13, 12):
                    for d in range(1, 10):
                        body = base[:pos] + str((int(base[pos]) + d) % 10) + base[pos + 1:17]
                        if (int(body[16]) % 2 == 1) != p.male:
                            continue
                        cand = body + id_check(body)
                        if not con.execute("SELECT count(*) FROM persons WHERE id_number = ?", [cand]).fetchone()[0]:
                            p.id = cand
                            p.birth = dt.date(int(cand[6:10]), int(cand[10:12]), int(cand[12:14]))
                            con.execute("UPDATE persons SET id_number = ?, birth_date = ? WHERE pidx = ?",
                                        [cand, p.birth, p.pidx])
                            break
                    else:
                        continue
                    break

    def register(self, con) -> None:
        """Create planted_<source> tables (typed like the background staging)."""
        def val(v, c=""):
            if isinstance(v, P):
                return v.phone if c == "phone" else v.id
            if isinstance(v, F):
                return v.uscc
            return v
        for source, cols in SOURCES.items():
            types = {"date": pa.date32(), "month": pa.date32(), "money": pa.decimal128(12, 2), "bool": pa.bool_()}
            data = {"month": [r["month"] for r in self.rows[source]],
                    "pk": pa.array([r["pk"] for r in self.rows[source]], pa.int64()),
                    "planted": pa.array([True] * len(self.rows[source]), pa.bool_()),
                    "force": pa.array([r["force"] for r in self.rows[source]], pa.string())}
            for c, _, t in cols:
                data[c] = pa.array([val(r.get(c), c) for r in self.rows[source]], types.get(t, pa.string()))
            con.register(f"_pl_{source}", pa.table(data))
            con.execute(f"CREATE OR REPLACE TABLE planted_{source} AS SELECT * FROM _pl_{source}")
            con.unregister(f"_pl_{source}")
        # firms into the entities table (for the firms truth)
        for f in self.firms:
            con.execute("""INSERT INTO entities (eidx, uscc, entity_type, enterprise_scale, legal_rep_pidx,
                established_date, final_status, status_date, serious_dishonest, region_code, name, phone)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        [f.eidx, f.uscc, "事业单位" if not f.registered else f.entity_type, f.scale, f.rep.pidx,
                         f.established, f.status, f.status_date, f.dishonest, f.region, f.name, f.phone])

    def write_truth(self, con, truth: Path) -> None:
        def pid(p):
            return p.id if isinstance(p, P) else None

        exp = []
        for e in self.expected:
            b = e["beneficiary"]
            exp.append(dict(scenario=e["scenario"], policy_code=e["policy_code"],
                            beneficiary_type=e["beneficiary_type"],
                            beneficiary_id=b.uscc if isinstance(b, F) else b.id,
                            beneficiary_name=b.name, person_id_number=e["person"].id, person_name=e["person"].name,
                            amount=e["amount"], period_start=e["period_start"], period_end=e["period_end"],
                            run_month=e["run_month"], expected_outcome=e["expected_outcome"], note=e["note"]))
        schema = pa.schema([(c, pa.string()) for c in exp[0]]) if exp else None
        t = pa.Table.from_pylist(exp, schema=schema)
        con.register("_exp", t)
        con.execute(f"""COPY (SELECT * FROM _exp ORDER BY policy_code, scenario, run_month NULLS LAST, beneficiary_id,
            person_id_number) TO '{truth / 'expected_decisions.parquet'}' (FORMAT parquet, COMPRESSION zstd)""")
        fnd = [dict(scenario=f["scenario"], check_code=f["check_code"], check_name=f["check_name"],
                    application_id=f["application_id"], policy_code=f["policy_code"],
                    beneficiary_id_number=pid(f["person"]), run_month=f["run_month"], until_month=f["until_month"],
                    expected=("none" if f["check_code"] == "none" else "finding"), note=f["note"])
               for f in self.findings]
        t2 = pa.Table.from_pylist(fnd, schema=pa.schema([(c, pa.string()) for c in fnd[0]]))
        con.register("_fnd", t2)
        con.execute(f"""COPY (SELECT * FROM _fnd UNION ALL
            SELECT 'background_clean', 'none', NULL, application_id, policy_code, beneficiary_id_number,
                   month, NULL, 'none', 'background ledger row'
            FROM bg_ledger ORDER BY run_month, application_id, check_code)
            TO '{truth / 'expected_findings.parquet'}' (FORMAT parquet, COMPRESSION zstd)""")


CHECK_NAMES = {
    "overdue_accept": "超期未受理", "overdue_review": "超期未审核", "overdue_payment": "超期未拨付",
    "overdue_completion": "超期办结", "paid_to_fiscal_staff": "向财政供养人员发放",
    "paid_after_death": "死亡后月份发放", "duplicate_one_off": "一次性补贴重复发放",
    "no_contributions": "无缴费记录支撑", "beneficiary_not_linked": "受益人与申领单位无关联",
    "handler_is_beneficiary": "优亲厚友:经办人即受益人", "handler_is_legal_rep": "优亲厚友:经办人为单位法定代表人",
    "handler_same_household": "优亲厚友:经办人与受益人同户", "handler_same_phone": "优亲厚友:经办人与受益人同一电话",
    "none": None,
}


def build(ctx: Ctx, first_pidx: int, first_eidx: int) -> Plant:
    from .plant_policies import plant_all
    pl = Plant(ctx=ctx, first_pidx=first_pidx, first_eidx=first_eidx, rng=random.Random(ctx.seed * 7 + 3))
    plant_all(pl)
    return pl
