"""Background population, set-based in DuckDB: persons by role (employees, flexible workers,
poverty-roster households, graduates, registrants, fiscal staff, legal representatives, the
deceased, case-handling clerks), with valid unique citizen IDs, names and unique phones.

Roles occupy disjoint index ranges so that background persons never meet the conditions of a
policy: only planted scenarios (scenarios.py) produce eligible decisions and findings.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from . import names as N
from .regions import cumulative_county_table

PHONE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                  "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185",
                  "186", "187", "188", "189", "198", "199"]

# role: (count at scale 1, min age, max age)
ROLES = [
    ("employee", 5_000_000, 18, 59),
    ("flexible", 400_000, 20, 59),
    ("poverty", 1_600_000, 0, 80),
    ("graduate", 4 * 220_000, 0, 0),
    ("registrant", 1_200_000, 16, 60),
    ("fiscal", 400_000, 22, 59),
    ("legal_rep", 2_600_000, 22, 65),
    ("deceased", 0, 50, 95),   # filled per month: 12,000 a month at scale 1
    ("clerk", 0, 25, 55),      # fixed pool
]


def sql_list(values) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def region_list_sql(n: int = 1000) -> str:
    tab = cumulative_county_table()
    out = []
    j = 0
    for k in range(n):
        x = (k + 0.5) / n
        while tab[j][2] < x:
            j += 1
        out.append(tab[j][1])
    return sql_list(out)


def role_counts(scale: float, n_months: int) -> dict[str, int]:
    c = {r: max(int(round(n * scale)), 20) for r, n, _, _ in ROLES}
    c["deceased"] = max(int(round(12_000 * scale)), 5) * n_months
    c["clerk"] = max(int(round(1200 * scale)), 24)
    return c


def role_ranges(counts: dict[str, int]) -> dict[str, tuple[int, int]]:
    out, start = {}, 0
    for r, *_ in ROLES:
        out[r] = (start, start + counts[r])
        start += counts[r]
    return out


def build_persons_raw(con, seed: int, counts: dict[str, int], ref: dt.date, first_year: int) -> dict:
    ranges = role_ranges(counts)
    total = max(e for _, e in ranges.values())
    role_case = "CASE " + " ".join(f"WHEN i < {e} THEN '{r}'" for r, (_, e) in ranges.items()) + " END"
    start_case = "CASE role " + " ".join(f"WHEN '{r}' THEN {s}" for r, (s, _) in ranges.items()) + " END"
    age_min = "CASE role " + " ".join(f"WHEN '{r}' THEN {a}" for r, _, a, _ in ROLES) + " END"
    age_max = "CASE role " + " ".join(f"WHEN '{r}' THEN {b}" for r, _, _, b in ROLES) + " END"
    n_grad_cohort = max(counts["graduate"] // 4, 1)
    H = lambda salt: f"hash(i, '{salt}', {seed})"  # noqa: E731
    con.execute(f"CREATE OR REPLACE TEMP MACRO region_pick(h) AS ({region_list_sql()})[1 + (h % 1000)::INT]")
    con.execute(f"""
    CREATE OR REPLACE TABLE persons_raw AS
    WITH b AS (
      SELECT i, {role_case} AS role FROM range({total}) t(i)
    ), c AS (
      SELECT i, role, i - {start_case} AS local_idx FROM b
    )
    SELECT i AS pidx, role, local_idx,
      CASE WHEN role = 'poverty' THEN floor(local_idx / 3.3)::BIGINT END AS hh,
      CASE WHEN role = 'graduate' THEN (local_idx // {n_grad_cohort})::INT END AS cohort,
      CASE WHEN role = 'poverty' THEN region_pick(hash(floor(local_idx / 3.3)::BIGINT, 'hhreg', {seed}))
           ELSE region_pick({H('reg')}) END AS region_code,
      ({H('sex')} % 2 = 1) AS male,
      CASE WHEN role = 'graduate'
           THEN make_date(({first_year} - 3 + least(local_idx // {n_grad_cohort}, 3) - 22)::INT, 1, 1)
                + (({H('bd')} % 1461)::INT - 365)
           ELSE DATE '{ref.isoformat()}' - INTERVAL (({age_min}) * 365 + {H('bd')} % (greatest(({age_max}) - ({age_min}), 1) * 365)) DAY
      END::DATE AS birth_date,
      {H('nm')} AS hn, NULL::VARCHAR AS name_fixed, NULL::VARCHAR AS phone_fixed
    FROM c
    """)
    return ranges


def finalize_persons(con, seed: int) -> None:
    """Assign unique valid IDs (unique sequence numbers per county × birth date × sex, planted
    persons included), names and unique phones."""
    g1 = N.GIVEN_CHARS
    areas = Path(__file__).with_name("id_areas.csv")
    con.execute(f"CREATE OR REPLACE TABLE id_areas AS SELECT * FROM read_csv('{areas}', all_varchar=true)")
    con.execute(f"""
    CREATE OR REPLACE TABLE persons AS
    WITH a AS (
      SELECT p.*, coalesce(i.id_area_code, p.region_code) AS area
      FROM persons_raw p LEFT JOIN id_areas i ON i.region_code = p.region_code
        AND year(p.birth_date) BETWEEN i.birth_year_from::INT AND i.birth_year_to::INT
    ), s AS (
      SELECT *, row_number() OVER (PARTITION BY area, birth_date, male ORDER BY pidx) AS rn
      FROM a
    ), ids AS (
      SELECT *, area || strftime(birth_date, '%Y%m%d')
             || lpad((((hash(area, birth_date, {seed}) % 400 + rn - 1) % 500) * 2 + male::INT)::VARCHAR, 3, '0') AS body
      FROM s
    )
    SELECT pidx, role, local_idx, hh, cohort, region_code, male, birth_date,
      body || id_check_sql(body) AS id_number,
      CASE
        WHEN name_fixed IS NOT NULL THEN name_fixed
        WHEN hn % 100 < 6 THEN
          CASE WHEN (hn // 100) % 10 < 4
               THEN {sql_list(N.MONGOLIAN_NAMES)}[1 + ((hn // 1000) % {len(N.MONGOLIAN_NAMES)})::INT] || '·' ||
                    {sql_list(N.MONGOLIAN_NAMES)}[1 + ((hn // 100000) % {len(N.MONGOLIAN_NAMES)})::INT]
               ELSE {sql_list(N.MONGOLIAN_NAMES)}[1 + ((hn // 1000) % {len(N.MONGOLIAN_NAMES)})::INT] END
        WHEN hn % 100 < 14 THEN {sql_list(N.COMMON_FULL_NAMES)}[1 + ((hn // 100) % {len(N.COMMON_FULL_NAMES)})::INT]
        ELSE {sql_list(list(N.SURNAMES))}[1 + ((hn // 100) % {len(N.SURNAMES)})::INT]
             || substr('{g1}', 1 + ((hn // 10000) % {len(g1)})::INT, 1)
             || CASE WHEN (hn // 1000000) % 10 < 7 THEN substr('{g1}', 1 + ((hn // 10000000) % {len(g1)})::INT, 1) ELSE '' END
      END AS name,
      coalesce(phone_fixed, {sql_list(PHONE_PREFIXES)}[1 + (hash(pidx, 'pp', {seed}) % {len(PHONE_PREFIXES)})::INT]
        || lpad(((pidx * 7919 + 104729) % 100000000)::VARCHAR, 8, '0')) AS phone
    FROM ids
    """)
