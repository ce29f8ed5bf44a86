"""Proactive notices (主动推送): one notice per beneficiary per run, bundling every policy
it newly qualifies for (一次告知, 一揽子兑现).

Per-policy text comes from `policies/<code>/notice.txt` (string.Template `$name`/`${name}`
or str.format `{name}`; fields name, amount, period_start, period_end, plus policy_name,
persons, policy_code) and `policies/<code>/catalogue.yaml` (政策名称, 经办渠道, ...).
When those files are absent or unusable a built-in generic text is used.
"""
from __future__ import annotations

import csv
import io
import logging
import re
import string
from collections import OrderedDict
from decimal import Decimal
from pathlib import Path

from .common import (
    POLICIES,
    UNASSIGNED_LEAGUE,
    latest_records_sql,
    league_name,
    league_of_region,
    neutralise,
    policy_name,
)

from .notice_ids import notice_id

log = logging.getLogger(__name__)

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
CHANNEL_SMS = "短信"
CHANNEL_OTHER = "上门/窗口告知"

CATALOGUE_KEYS = ["政策名称", "政策内容", "享受条件", "补贴标准", "经办渠道", "申请流程",
                  "申报材料", "办理期限", "政策依据"]

DEFAULT_POLICIES_DIR = Path(__file__).resolve().parent.parent / "policies"

# Built-in per-policy segments (str.format), used when policies/<code>/notice.txt is absent.
BUILTIN_TEMPLATES: dict[str, str] = {
    "one_time_hiring": "一次性扩岗补助{amount}元（新招用{persons}人：{person_name}）",
    "hiring_social_insurance":
        "企业吸纳就业社会保险补贴{amount}元（{person_name}，{period_start}至{period_end}单位缴纳的社会保险费）",
    "flexible_social_insurance":
        "灵活就业社会保险补贴{amount}元（{period_start}至{period_end}个人缴纳的社会保险费）",
    "startup_one_time": "一次性创业补贴{amount}元",
    "job_search": "求职创业补贴{amount}元",
    "job_retention_refund": "失业保险稳岗返还{amount}元（{period_start}至{period_end}缴纳的失业保险费）",
}
GENERIC_TEMPLATE = "{policy_name}{amount}元"

DEFAULT_CHANNEL = "{league}及所在旗县（市、区）公共就业服务机构"

NOTICE_COLUMNS = [
    "notice_id",   # issue 18: stable ID the push platform returns in confirmations (notice_ids.py)
    "run_month", "league_code", "region_code", "beneficiary_type", "beneficiary_id", "name",
    "phone", "channel", "policy_codes", "policy_count", "total_amount", "message",
]


def load_catalogue(policies_dir: Path | None = None) -> dict[str, dict]:
    """{policy_code: {catalogue key: text}} from policies/<code>/catalogue.yaml when present."""
    base = Path(policies_dir) if policies_dir else DEFAULT_POLICIES_DIR
    out: dict[str, dict] = {}
    if not base.is_dir():
        return out
    try:
        import yaml
    except ImportError:  # pragma: no cover - pyyaml is a dependency
        return out
    for f in sorted(base.glob("*/catalogue.yaml")):
        try:
            data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        except Exception as exc:  # unreadable catalogue: fall back, say so
            log.warning("cannot read %s: %s; using built-in text", f, exc)
            continue
        if isinstance(data, dict):
            out[f.parent.name] = {k: _flatten(v) for k, v in data.items() if k in CATALOGUE_KEYS}
    return out


def _flatten(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return ";".join(_flatten(x) for x in v)
    if isinstance(v, dict):
        return ";".join(f"{k}:{_flatten(x)}" for k, x in v.items())
    return str(v).strip()


def load_templates(policies_dir: Path | None = None) -> dict[str, str]:
    base = Path(policies_dir) if policies_dir else DEFAULT_POLICIES_DIR
    out: dict[str, str] = {}
    if base.is_dir():
        for f in sorted(base.glob("*/notice.txt")):
            try:
                out[f.parent.name] = f.read_text(encoding="utf-8").strip()
            except Exception as exc:
                log.warning("cannot read %s: %s; using built-in text", f, exc)
    return out


class _Fields(dict):
    def __missing__(self, key):  # unknown {field} stays visible rather than crashing
        return "{" + key + "}"


def render_policy(code: str, fields: dict, templates: dict[str, str]) -> str:
    """Render one policy's segment; a broken template falls back to the built-in one."""
    tpl = templates.get(code)
    if tpl:
        try:
            if "$" in tpl:
                text = string.Template(tpl).safe_substitute(fields)
            else:
                text = tpl.format_map(_Fields(fields))
            text = clean_segment(text, fields.get("name") or "")
            if text:
                return text
        except Exception as exc:
            log.warning("notice template for %s unusable (%s); using built-in text", code, exc)
    return BUILTIN_TEMPLATES.get(code, GENERIC_TEMPLATE).format_map(_Fields(fields))


# The bundle supplies the greeting, total, how to confirm and where to ask once, so a
# per-policy template written as a whole notice is reduced to its policy-specific sentences.
_TAG_RE = re.compile(r"^\s*【[^】]*】\s*")
_FRAME_WORDS = ("12333", "如有疑问", "无需提交", "无需另行", "确认后")


_LEADIN_RE = re.compile(r"^经(?:人社部门)?数据比对[，,]\s*")


def _without_greeting(s: str, name: str) -> str:
    """`s` without a leading `(尊敬的)<name>(同学|先生|女士)(你好|您好)<punctuation>`. Plain string
    steps, not a regex with the name in it: compiling one per name (~41k firms in an annual
    refund's notices) cost seconds."""
    rest = s[3:] if s.startswith("尊敬的") else s
    if not rest.startswith(name):
        return s
    rest = rest[len(name):]
    for words in (("同学", "先生", "女士"), ("你好", "您好")):
        rest = next((rest[len(w):] for w in words if rest.startswith(w)), rest)
    if rest[:1] and rest[0] in "：:，,！!":
        return rest[1:].lstrip()
    return s


def clean_segment(text: str, name: str) -> str:
    """A per-policy text without what the bundle already says: the 【】 tag, the greeting
    (`其其格您好：`, `张三同学你好：`, `甲公司：`), the `经数据比对，` lead-in, the closing lines."""
    s = _TAG_RE.sub("", text.strip())
    if name:
        s = _without_greeting(s, name)
    s = re.sub(r"^(?:你好|您好)[：:，,！!]?\s*", "", s)
    s = _LEADIN_RE.sub("", s)
    parts = [p for p in re.split(r"(?<=[。！!])", s) if p.strip()]
    keep = [p for p in parts if not any(w in p for w in _FRAME_WORDS)]
    return "".join(keep).strip().rstrip("。！!；;，, ")


def _person_names(rows: list[dict]) -> str:
    names = []
    for r in rows:
        n = r.get("person_name")
        if n and n not in names:
            names.append(n)
    if len(names) > 3:
        return "、".join(names[:3]) + f"等{len(names)}人"
    return "、".join(names)


def channel_for(phone: str | None) -> str:
    return CHANNEL_SMS if phone and MOBILE_RE.match(phone) else CHANNEL_OTHER


def _fmt_amount(d: Decimal) -> str:
    return f"{d:,.2f}"


def _policy_order(code: str) -> tuple:
    codes = list(POLICIES)
    return (codes.index(code), "") if code in codes else (len(codes), code)


def route(grp: list[dict], home_region: str | None = None) -> tuple[str, str]:
    """(league, region) a beneficiary's one notice goes to when its rows carry several regions.

    The region of the beneficiary's latest record (`home_region`: where it last registered,
    contributed, graduated, …) when that 盟市 is among its rows' 盟市 — the bureau that knows
    it now and has its rows; otherwise the region of its first policy (policy order of
    policies.md), so the notice always goes to a bureau whose list holds the beneficiary."""
    leagues = {(r.get("league_code") or UNASSIGNED_LEAGUE) for r in grp}
    if home_region:
        home_league = league_of_region(home_region)
        mine = sorted((r for r in grp if (r.get("league_code") or UNASSIGNED_LEAGUE) == home_league),
                      key=lambda r: (_policy_order(r["policy_code"]), r.get("region_code") or ""))
        if home_league in leagues and mine:
            region = home_region if any(r.get("region_code") == home_region for r in mine) \
                else (mine[0].get("region_code") or "")
            return home_league, region
    first = min(grp, key=lambda r: (_policy_order(r["policy_code"]), r.get("league_code") or "",
                                    r.get("region_code") or ""))
    return first.get("league_code") or UNASSIGNED_LEAGUE, first.get("region_code") or ""


def home_regions(con, month: str, rows: list[dict]) -> dict[str, str]:
    """{beneficiary_id: county of its latest record up to `month`} for beneficiaries whose rows
    carry more than one 盟市 (the others need no routing)."""
    leagues: dict[str, set] = {}
    for r in rows:
        leagues.setdefault(r["beneficiary_id"], set()).add(r.get("league_code") or UNASSIGNED_LEAGUE)
    ids = sorted(b for b, lg in leagues.items() if b and len(lg) > 1)
    if not ids:
        return {}
    values = ", ".join("('" + i.replace("'", "''") + "')" for i in ids)
    sql = latest_records_sql(con, month, f"SELECT * FROM (VALUES {values}) v(id)")
    if sql is None:
        return {}
    return {i: reg for i, reg, _n in con.execute(sql).fetchall() if reg}


def build_notices(
    rows: list[dict],
    month: str,
    catalogue: dict[str, dict] | None = None,
    templates: dict[str, str] | None = None,
    home: dict[str, str] | None = None,
) -> list[dict]:
    """One bundled message per beneficiary (whatever regions its rows carry), routed to one
    bureau (`route`); `home` maps beneficiary_id → region of its latest record."""
    catalogue = catalogue or {}
    templates = templates or {}
    home = home or {}
    groups: "OrderedDict[tuple, list[dict]]" = OrderedDict()
    for r in rows:
        key = (r["beneficiary_type"] or "", r["beneficiary_id"] or "")
        groups.setdefault(key, []).append(r)

    notices = []
    for key in sorted(groups, key=lambda k: (route(groups[k], home.get(k[1]))[0], k)):
        btype, bid = key
        grp = groups[key]
        league, region = route(grp, home.get(bid))
        name = next((r["beneficiary_name"] for r in grp if r.get("beneficiary_name")), "") or ""
        phone = next((r["phone"] for r in grp if r.get("phone") and MOBILE_RE.match(r["phone"])), None)
        if phone is None:
            phone = next((r["phone"] for r in grp if r.get("phone")), None)
        by_policy: "OrderedDict[str, list[dict]]" = OrderedDict()
        for r in grp:
            by_policy.setdefault(r["policy_code"], []).append(r)
        codes = [c for c in POLICIES if c in by_policy] + sorted(
            c for c in by_policy if c not in POLICIES
        )
        total = Decimal("0.00")
        segments = []
        channels = []
        for i, code in enumerate(codes, start=1):
            prow = by_policy[code]
            amount = sum((Decimal(r["amount"]) for r in prow), Decimal("0.00"))
            total += amount
            starts = [r["period_start"] for r in prow if r.get("period_start")]
            ends = [r["period_end"] for r in prow if r.get("period_end")]
            fields = {
                "name": name,
                "amount": _fmt_amount(amount),
                "period_start": min(starts) if starts else "",
                "period_end": max(ends) if ends else "",
                "policy_name": policy_name(code, catalogue),
                "policy_code": code,
                "persons": len({r["person_id_number"] for r in prow}),
                "person_name": _person_names(prow),
            }
            seg = render_policy(code, fields, templates).rstrip("。；;， \n")
            segments.append(f"{i}.{seg}")
            ch = ((catalogue.get(code) or {}).get("经办渠道") or "").strip().rstrip("。；;，, ")
            if ch and ch not in channels:
                channels.append(ch)
        lname = league_name(league)
        who = "贵单位" if btype == "firm" else "您"
        channel_text = "；".join(channels) if channels else DEFAULT_CHANNEL.format(league=lname)
        message = (
            f"【直补快办】{name}：经人社部门数据比对，{who}本月新符合以下{len(codes)}项就业补贴政策："
            + "；".join(segments)
            + f"。合计{_fmt_amount(total)}元。"
            + f"{who}无需另行提交申请材料，请核对上述信息，确认无误后通过经办渠道确认领取，"
            + "补贴将直接拨付" + ("至单位对公账户。" if btype == "firm" else "至本人社会保障卡。")
            + f"经办渠道：{channel_text}。"
            + "如有疑问，请咨询当地公共就业服务机构或拨打12333人社服务热线。"
        )
        notices.append(
            {
                "notice_id": notice_id(month, btype, bid, codes),   # issue 18
                "run_month": month,
                "league_code": league,
                "region_code": region,
                "beneficiary_type": btype,
                "beneficiary_id": bid,
                "name": name,
                "phone": phone or "",
                "channel": channel_for(phone),
                "policy_codes": ";".join(codes),
                "policy_count": len(codes),
                "total_amount": f"{total:.2f}",
                "message": message,
            }
        )
    return notices


def write_notices_csv(notices: list[dict], path: Path) -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(NOTICE_COLUMNS)
    for n in notices:
        w.writerow([neutralise(str(n[c])) for c in NOTICE_COLUMNS])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    return path


def write_push(
    rows: list[dict],
    out_dir: Path,
    month: str,
    leagues: list[str],
    catalogue: dict | None = None,
    templates: dict | None = None,
    home: dict[str, str] | None = None,
) -> list[Path]:
    """push/<league_code>/notices.csv for every exported league (header-only when none)."""
    notices = build_notices(rows, month, catalogue, templates, home)
    written = []
    for league in sorted(set(leagues) | {n["league_code"] for n in notices}):
        mine = [n for n in notices if (n["league_code"] or UNASSIGNED_LEAGUE) == league]
        written.append(write_notices_csv(mine, out_dir / "push" / league / "notices.csv"))
    return written
