"""SQL that types one source's raw strings and says, per row, what is wrong with it.

Generated from the contract (schemas/sources.py) so that a column's rules are stated once.
"""
from __future__ import annotations

from schemas.sources import Column, Source

SQL_TYPES = {
    "id": "VARCHAR", "uscc": "VARCHAR", "id_or_uscc": "VARCHAR", "text": "VARCHAR", "name": "VARCHAR",
    "enum": "VARCHAR", "code": "VARCHAR", "date": "DATE", "month": "DATE", "money": "DECIMAL(12,2)",
    "bool": "BOOLEAN", "list": "VARCHAR[]", "phone": "VARCHAR", "region": "VARCHAR",
}


def _lit(values) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


# One macro per kind; `p__<col>` is the pre-cleaned text (PRECLEAN below), `<col>` the raw string.
SIMPLE_TYPING = {
    "name": "zb_name({c})", "text": "zb_text({c})", "enum": "zb_text({c})", "code": "zb_text({c})",
    "date": "zb_date_fast(p__{c})", "month": "zb_month_fast(p__{c})", "money": "zb_money_fast({c})",
    "bool": "zb_bool({c})", "list": "zb_list({c})", "phone": "zb_phone_t(p__{c})",
    "region": "zb_region({c})",
}


def typed_expr(col: Column, src: Source) -> list[tuple[str, str]]:
    """(expression over raw strings, output name) pairs for one column."""
    c = col.name
    k = col.kind
    if k == "id":
        return [(f"zb_id_t(p__{c})", c), (f"zb_id_valid(t__{c})", f"{c}_valid")]
    if k == "uscc":
        return [(f"zb_uscc_t(p__{c})", c), (f"zb_uscc_valid(t__{c})", f"{c}_valid")]
    if k == "id_or_uscc":
        # 申领主体证件号码: a citizen ID for 个人, a USCC for 单位.
        e = (f"CASE WHEN coalesce(trim(applicant_type), '') <> '单位' AND zb_id_t(p__{c}) IS NOT NULL "
             f"THEN zb_id_t(p__{c}) ELSE zb_uscc_t(p__{c}) END")
        v = (f"CASE WHEN t__{c} = zb_id_t(p__{c}) THEN zb_id_valid(t__{c}) ELSE zb_uscc_valid(t__{c}) END")
        return [(e, c), (v, f"{c}_valid")]
    if k in SIMPLE_TYPING:
        return [(SIMPLE_TYPING[k].format(c=c), c)]
    raise ValueError(k)


def problem_expr(col: Column) -> str:
    """SQL yielding 'reason_code:column' when the value is unusable, else NULL.

    Reads `<col>` (raw string) and `t__<col>` (typed value) of one projection.
    """
    c, k = col.name, col.kind
    raw = f"nullif(trim({c}), '')"
    checks = []
    if col.required:
        if k in ("id", "uscc", "id_or_uscc"):
            checks.append(f"WHEN {raw} IS NULL THEN 'missing_required'")
        else:
            checks.append(f"WHEN t__{c} IS NULL AND {raw} IS NULL THEN 'missing_required'")
    if col.required_when:
        cond = col.required_when.replace("filing_type", "t__filing_type")
        checks.append(f"WHEN ({cond}) AND {raw} IS NULL THEN 'missing_required'")
    if k == "id":
        checks.append(f"WHEN t__{c} IS NULL AND p__{c} IS NOT NULL THEN zb_id_problem_t(p__{c})")
    elif k == "uscc":
        checks.append(f"WHEN p__{c} IS NOT NULL AND t__{c} IS NULL THEN 'uscc_malformed'")
    elif k == "id_or_uscc":
        checks.append(f"WHEN p__{c} IS NOT NULL AND t__{c} IS NULL THEN coalesce(zb_id_problem_t(p__{c}), 'id_malformed')")
    elif k == "date":
        checks.append(f"WHEN {raw} IS NOT NULL AND (t__{c} IS NULL OR NOT zb_date_ok(t__{c})) THEN 'bad_date'")
    elif k == "month":
        checks.append(f"WHEN {raw} IS NOT NULL AND t__{c} IS NULL THEN 'bad_month'")
    elif k == "money":
        checks.append(f"WHEN {raw} IS NOT NULL AND t__{c} IS NULL THEN 'bad_amount'")
    elif k == "bool":
        checks.append(f"WHEN {raw} IS NOT NULL AND t__{c} IS NULL THEN 'bad_enum'")
    elif k in ("enum", "code"):
        checks.append(f"WHEN t__{c} IS NOT NULL AND NOT list_contains({_lit(col.values)}, t__{c}) THEN 'bad_enum'")
    elif k == "list":
        checks.append(f"WHEN NOT list_has_all({_lit(col.values)}, t__{c}) THEN 'bad_enum'")
    elif k == "region":
        if col.required:
            checks.append(f"WHEN {raw} IS NOT NULL AND t__{c} NOT IN (SELECT code FROM ref_regions) THEN 'bad_region'")
        else:
            checks.append(f"WHEN {raw} IS NOT NULL AND t__{c} IS NULL THEN 'bad_region'")
    if not checks:
        return "NULL"
    return f"CASE {' '.join(checks)} ELSE NULL END || ':{c}'"


# Most codes arrive clean: one anchored regex lets them skip the three cleaning passes.
PRECLEAN = {
    "id": "CASE WHEN regexp_full_match({c}, '[0-9]{{17}}[0-9X]') THEN {c} ELSE zb_code_text({c}) END",
    "uscc": "CASE WHEN regexp_full_match({c}, '[0-9A-Z]{{18}}') THEN {c} ELSE zb_code_text({c}) END",
    "id_or_uscc": "zb_code_text({c})",
    "date": "trim(zb_ascii({c}))", "month": "trim(zb_ascii({c}))",
    "phone": "regexp_replace(zb_ascii({c}), '[^0-9]', '', 'g')",
}


def typed_select(src: Source, raw_table: str) -> str:
    """One pass: typed columns + `_problems` (list of 'reason:column')."""
    pre = [PRECLEAN[c.kind].format(c=c.name) + f" AS p__{c.name}" for c in src.columns if c.kind in PRECLEAN]
    typed, out = [], []
    for col in src.columns:
        for e, n in typed_expr(col, src):
            typed.append(f"{e} AS t__{n}")
            out.append(f"t__{n} AS {n}")
    problems = ", ".join(problem_expr(c) for c in src.columns)
    return f"""
        WITH cleaned AS (SELECT *{''.join(', ' + p for p in pre)} FROM {raw_table}),
        typed AS (SELECT *, {', '.join(typed)} FROM cleaned),
        judged AS (SELECT *, list_filter([{problems}], lambda p: p IS NOT NULL) AS _problems FROM typed)
        SELECT source_line, {', '.join(out)}, _problems FROM judged
    """


def stg_columns(src: Source) -> list[tuple[str, str]]:
    """(name, SQL type) of the staged table, in contract order."""
    out = []
    for col in src.columns:
        out.append((col.name, SQL_TYPES[col.kind]))
        if col.kind in ("id", "uscc", "id_or_uscc"):
            out.append((f"{col.name}_valid", "BOOLEAN"))
    return out
