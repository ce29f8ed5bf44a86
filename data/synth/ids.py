"""Citizen ID (GB 11643) and unified social credit code (GB 32100) arithmetic, in Python
and as DuckDB SQL macros for set-based generation."""
from __future__ import annotations

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def id_check(body17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS)) % 11]


def make_id(region: str, birth_yyyymmdd: str, seq3: int) -> str:
    body = f"{region}{birth_yyyymmdd}{seq3:03d}"
    return body + id_check(body)


def id_valid(s: str) -> bool:
    return len(s) == 18 and s[:17].isdigit() and id_check(s[:17]) == s[17]


def id_to_15(id18: str) -> str:
    """Legacy 15-digit form: drop the century '19' and the check digit."""
    assert id18[6:8] == "19"
    return id18[:6] + id18[8:17]


def uscc_check(body17: str) -> str:
    s = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - s % 31) % 31]


def make_uscc(prefix2: str, region: str, org9: str) -> str:
    body = f"{prefix2}{region}{org9}"
    return body + uscc_check(body)


def uscc_valid(s: str) -> bool:
    return len(s) == 18 and all(c in USCC_ALPHABET for c in s) and uscc_check(s[:17]) == s[17]


def sql_macros() -> list[str]:
    """DuckDB macros: id_check_sql(body17) and uscc_check_sql(body17)."""
    id_terms = " + ".join(
        f"(ascii(substr(b, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(ID_WEIGHTS))
    us_terms = " + ".join(
        f"(instr('{USCC_ALPHABET}', substr(b, {i + 1}, 1)) - 1) * {w}"
        for i, w in enumerate(USCC_WEIGHTS))
    return [
        f"CREATE OR REPLACE MACRO id_check_sql(b) AS substr('{ID_CHECK}', (({id_terms}) % 11) + 1, 1)",
        f"CREATE OR REPLACE MACRO uscc_check_sql(b) AS "
        f"substr('{USCC_ALPHABET}', ((31 - (({us_terms}) % 31)) % 31) + 1, 1)",
    ]
