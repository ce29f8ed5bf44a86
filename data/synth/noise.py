"""Noise model: the rates (``NoiseConfig``) and the SQL that renders a typed staging row into
what a department's export really looks like, recording every noise kind applied.

Each identifier / name column gets at most one noise kind per row (exclusive bands of one
deterministic uniform); dates, months, amounts and phones get a formatting style. Planted
scenario rows are clean unless the scenario forces a kind (``force`` = ``col=kind,...``).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from . import names as N
from .ids import USCC_ALPHABET

FULLWIDTH_DIGITS_X = "０１２３４５６７８９Ｘ"


@dataclass
class NoiseConfig:
    # citizen IDs (per ID cell)
    id_typo_digit: float = 0.01
    id_transposed: float = 0.005
    id_15digit: float = 0.003
    id_scientific: float = 0.002     # csv/xlsx only, id_number columns only
    id_fullwidth: float = 0.003
    id_lowercase_x: float = 0.05     # of IDs ending in X
    id_apostrophe: float = 0.003
    id_spaces: float = 0.003
    # USCCs
    uscc_typo: float = 0.005
    uscc_lowercase: float = 0.003
    uscc_fullwidth: float = 0.002
    uscc_spaces: float = 0.002
    # person names
    name_traditional: float = 0.02
    name_homophone: float = 0.01
    name_space: float = 0.005
    name_dot_variant: float = 0.3    # of names holding a separator dot
    # firm names
    firm_bracket_halfwidth: float = 0.03
    firm_suffix_variant: float = 0.03
    firm_no_region_prefix: float = 0.03
    # formatting
    phone_plus86: float = 0.02
    phone_spaces: float = 0.02
    phone_dashes: float = 0.02
    date_other_style: float = 0.03   # rows deviating from the file's dominant date style
    month_other_style: float = 0.05
    amount_thousands: float = 0.3    # of amounts >= 1000
    # intentionally bad rows per file (expected quarantine)
    bad_rows_per_file: int = 3
    extra_column_probability: float = 0.3

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DATE_STYLES = ["iso", "slash", "slash_nopad", "compact", "cn"]


# Each noisy column gets one 64-bit hash per row, ``h_<col>`` = hash(pk, col, file seed), computed
# once by the renderer; the uniforms and sub-choices below are three independent 20-bit parts of it.
_PART = {"k": 0, "s": 0, "m": 0, "k2": 1, "t": 1, "d": 1, "p": 2, "v": 2}
_P = 1000003


def _part(salt: str) -> tuple[str, int]:
    col, _, kind = salt.rpartition(":")
    return col, _PART[kind]


def _h(salt: str, seed: int) -> str:
    col, part = _part(salt)
    return f"((h_{col} // {_P ** part}) % {_P})::BIGINT"


def _u(salt: str, seed: int) -> str:
    return f"({_h(salt, seed)}::DOUBLE / {_P})"


def hash_columns(cols: list[str], seed: int) -> list[str]:
    return [f"hash(pk, '{c}', {seed}) AS h_{c}" for c in cols]


def _forced(col: str) -> str:
    return f"nullif(regexp_extract(coalesce(force, ''), '(?:^|,){col}=([a-z0-9_]+)', 1), '')"


def _bands(col: str, seed: int, bands: list[tuple[str, float]], cond: dict[str, str] | None = None) -> str:
    """SQL: the noise kind picked for this cell (NULL = clean)."""
    u = _u(col + ":k", seed)
    acc = 0.0
    whens = []
    cond = cond or {}
    for kind, rate in bands:
        if rate <= 0:
            continue
        lo, acc = acc, acc + rate
        c = f" AND ({cond[kind]})" if kind in cond else ""
        whens.append(f"WHEN {u} >= {lo!r} AND {u} < {acc!r}{c} THEN '{kind}'")
    rand = "CASE " + " ".join(whens) + " END" if whens else "NULL"
    return f"CASE WHEN planted THEN {_forced(col)} ELSE {rand} END"


def id_kind(col: str, cfg: NoiseConfig, seed: int, allow_scientific: bool) -> str:
    bands = [("id_typo_digit", cfg.id_typo_digit), ("id_transposed", cfg.id_transposed),
             ("id_15digit", cfg.id_15digit),
             ("id_scientific", cfg.id_scientific if allow_scientific else 0.0),
             ("id_fullwidth", cfg.id_fullwidth), ("id_apostrophe", cfg.id_apostrophe),
             ("id_spaces", cfg.id_spaces), ("id_lowercase_x", cfg.id_lowercase_x)]
    cond = {"id_15digit": f"substr({col}, 7, 2) = '19'",
            "id_lowercase_x": f"right({col}, 1) = 'X'"}
    return _bands(col, seed, bands, cond)


def id_apply(col: str, kind: str, seed: int) -> str:
    p = f"(1 + {_h(col + ':p', seed)} % 17)"
    p16 = f"(1 + {_h(col + ':p', seed)} % 16)"
    d = f"((ascii(substr({col}, {p}, 1)) - 48 + 1 + {_h(col + ':d', seed)} % 9) % 10)"
    mant = f"rtrim(substr({col}, 2, 5), '0')"
    return f"""CASE {kind}
      WHEN 'id_typo_digit' THEN left({col}, {p} - 1) || {d}::VARCHAR || substr({col}, {p} + 1)
      WHEN 'id_transposed' THEN left({col}, {p16} - 1) || substr({col}, {p16} + 1, 1) || substr({col}, {p16}, 1) || substr({col}, {p16} + 2)
      WHEN 'id_15digit' THEN left({col}, 6) || substr({col}, 9, 9)
      WHEN 'id_scientific' THEN left({col}, 1) || CASE WHEN {mant} = '' THEN '' ELSE '.' || {mant} END || 'E+17'
      WHEN 'id_fullwidth' THEN translate({col}, '0123456789X', '{FULLWIDTH_DIGITS_X}')
      WHEN 'id_apostrophe' THEN '''' || {col}
      WHEN 'id_spaces' THEN left({col}, 6) || ' ' || substr({col}, 7, 8) || ' ' || substr({col}, 15)
      WHEN 'id_lowercase_x' THEN lower({col})
      ELSE {col} END"""


_FW_ALPHA = "".join(chr(ord(c) + 0xFEE0) for c in USCC_ALPHABET)


def uscc_kind(col: str, cfg: NoiseConfig, seed: int) -> str:
    bands = [("uscc_typo", cfg.uscc_typo), ("uscc_lowercase", cfg.uscc_lowercase),
             ("uscc_fullwidth", cfg.uscc_fullwidth), ("uscc_spaces", cfg.uscc_spaces)]
    return _bands(col, seed, bands, {"uscc_lowercase": f"regexp_matches({col}, '[A-Z]')"})


def uscc_apply(col: str, kind: str, seed: int) -> str:
    p = f"(3 + {_h(col + ':p', seed)} % 15)"
    newc = (f"substr('{USCC_ALPHABET}', ((instr('{USCC_ALPHABET}', substr({col}, {p}, 1)) - 1 + 1 "
            f"+ {_h(col + ':d', seed)} % 30) % 31) + 1, 1)")
    return f"""CASE {kind}
      WHEN 'uscc_typo' THEN left({col}, {p} - 1) || {newc} || substr({col}, {p} + 1)
      WHEN 'uscc_lowercase' THEN lower({col})
      WHEN 'uscc_fullwidth' THEN translate({col}, '{USCC_ALPHABET}', '{_FW_ALPHA}')
      WHEN 'uscc_spaces' THEN left({col}, 8) || ' ' || substr({col}, 9)
      ELSE {col} END"""


def name_kind(col: str, cfg: NoiseConfig, seed: int) -> str:
    bands = [("name_dot_variant", cfg.name_dot_variant), ("name_traditional", cfg.name_traditional),
             ("name_homophone", cfg.name_homophone), ("name_space", cfg.name_space)]
    # dot variants only where there is a dot; others then share the remaining mass
    u = _u(col + ":k", seed)
    dv = cfg.name_dot_variant
    a = cfg.name_traditional
    b = a + cfg.name_homophone
    c = b + cfg.name_space
    rand = (f"CASE WHEN contains({col}, '·') AND {u} < {dv!r} THEN 'name_dot_variant' "
            f"WHEN {_u(col + ':k2', seed)} < {a!r} THEN 'name_traditional' "
            f"WHEN {_u(col + ':k2', seed)} < {b!r} THEN 'name_homophone' "
            f"WHEN {_u(col + ':k2', seed)} < {c!r} AND length({col}) >= 2 THEN 'name_space' END")
    del bands
    return f"CASE WHEN planted THEN {_forced(col)} ELSE {rand} END"


def name_apply(col: str, kind: str, seed: int) -> str:
    tm = N.traditional_map()
    hm = N.homophone_map()
    s_from, s_to = "".join(tm), "".join(tm.values())
    h_from, h_to = "".join(hm), "".join(hm.values())
    variants = N.DOT_VARIANTS
    dv = "CASE " + " ".join(
        f"WHEN {_h(col + ':v', seed)} % {len(variants)} = {i} THEN replace({col}, '·', '{v}')"
        for i, v in enumerate(variants)) + " END"
    return f"""CASE {kind}
      WHEN 'name_traditional' THEN translate({col}, '{s_from}', '{s_to}')
      WHEN 'name_homophone' THEN left({col}, length({col}) - 1) || translate(right({col}, 1), '{h_from}', '{h_to}')
      WHEN 'name_space' THEN left({col}, 1) || ' ' || substr({col}, 2)
      WHEN 'name_dot_variant' THEN {dv}
      ELSE {col} END"""


def firm_name_kind(col: str, cfg: NoiseConfig, seed: int) -> str:
    bands = [("firm_bracket_halfwidth", cfg.firm_bracket_halfwidth),
             ("firm_suffix_variant", cfg.firm_suffix_variant),
             ("firm_no_region_prefix", cfg.firm_no_region_prefix)]
    leagues = "|".join(["内蒙古"] + sorted(set(__import__("data.synth.regions", fromlist=["x"]).LEAGUES.values())))
    return _bands(col, seed, bands, {
        "firm_bracket_halfwidth": f"contains({col}, '（')",
        "firm_suffix_variant": f"regexp_matches({col}, '有限(责任)?公司$')",
        "firm_no_region_prefix": f"regexp_matches({col}, '^({leagues})')",
    })


def firm_name_apply(col: str, kind: str, seed: int) -> str:
    from .regions import LEAGUES
    leagues = "|".join(["内蒙古"] + sorted(set(LEAGUES.values())))
    return f"""CASE {kind}
      WHEN 'firm_bracket_halfwidth' THEN replace(replace({col}, '（', '('), '）', ')')
      WHEN 'firm_suffix_variant' THEN CASE WHEN {col} LIKE '%有限责任公司' THEN regexp_replace({col}, '有限责任公司$', '有限公司') ELSE regexp_replace({col}, '有限公司$', '有限责任公司') END
      WHEN 'firm_no_region_prefix' THEN regexp_replace({col}, '^({leagues})', '')
      ELSE {col} END"""


def phone_kind(col: str, cfg: NoiseConfig, seed: int) -> str:
    return _bands(col, seed, [("phone_plus86", cfg.phone_plus86), ("phone_spaces", cfg.phone_spaces),
                              ("phone_dashes", cfg.phone_dashes)])


def phone_apply(col: str, kind: str) -> str:
    return f"""CASE {kind}
      WHEN 'phone_plus86' THEN '+86' || {col}
      WHEN 'phone_spaces' THEN left({col}, 3) || ' ' || substr({col}, 4, 4) || ' ' || substr({col}, 8)
      WHEN 'phone_dashes' THEN left({col}, 3) || '-' || substr({col}, 4, 4) || '-' || substr({col}, 8)
      ELSE {col} END"""


def date_kind(col: str, cfg: NoiseConfig, seed: int, dominant: str, styles: list[str]) -> str:
    others = [s for s in styles if s != dominant]
    u = _u(col + ":s", seed)
    h = _h(col + ":t", seed)
    pick = "CASE " + " ".join(f"WHEN {h} % {len(others)} = {i} THEN 'date_{s}'" for i, s in enumerate(others)) + " END"
    return f"CASE WHEN {u} < {cfg.date_other_style!r} THEN {pick} ELSE 'date_{dominant}' END"


def date_apply(col: str, kind: str) -> str:
    return f"""CASE {kind}
      WHEN 'date_iso' THEN strftime({col}, '%Y-%m-%d')
      WHEN 'date_slash' THEN strftime({col}, '%Y/%m/%d')
      WHEN 'date_slash_nopad' THEN strftime({col}, '%Y/%-m/%-d')
      WHEN 'date_compact' THEN strftime({col}, '%Y%m%d')
      WHEN 'date_cn' THEN strftime({col}, '%Y年%m月%d日')
      WHEN 'date_excel_serial' THEN (({col} - DATE '1899-12-30'))::VARCHAR
      END"""


def month_kind(col: str, cfg: NoiseConfig, seed: int, dominant: str) -> str:
    other = "dash" if dominant == "compact" else "compact"
    return f"CASE WHEN {_u(col + ':s', seed)} < {cfg.month_other_style!r} THEN 'month_{other}' ELSE 'month_{dominant}' END"


def month_apply(col: str, kind: str) -> str:
    return f"CASE {kind} WHEN 'month_compact' THEN strftime({col}, '%Y%m') ELSE strftime({col}, '%Y-%m') END"


def money_kind(col: str, cfg: NoiseConfig, seed: int) -> str:
    return (f"CASE WHEN {col} >= 1000 AND {_u(col + ':m', seed)} < {cfg.amount_thousands!r} "
            f"THEN 'amount_thousands' END")


def money_apply(col: str, kind: str) -> str:
    return (f"CASE {kind} WHEN 'amount_thousands' THEN printf('%,.2f', {col}::DOUBLE) "
            f"ELSE {col}::DECIMAL(14,2)::VARCHAR END")
