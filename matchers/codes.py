"""Check characters of citizen IDs (GB 11643, MOD 11-2) and USCCs (GB 32100), edit distances,
and the SQL that generates every one-edit variant of a bad code (the exact candidate set)."""
from __future__ import annotations

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID_ALPHABET = "0123456789"          # positions 1-17; position 18 also 'X'

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def id_valid(value: str | None) -> bool:
    if not value or len(value) != 18 or not value[:17].isdigit():
        return False
    return id_check_char(value[:17]) == value[17]


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_valid(value: str | None) -> bool:
    if not value or len(value) != 18 or any(c not in USCC_ALPHABET for c in value):
        return False
    return uscc_check_char(value[:17]) == value[17]


def edit_kind(a: str, b: str) -> str:
    """'substitution@p', 'transposition@p' (1-based), 'two_edits' or 'else' between equal-length codes."""
    if len(a) != len(b):
        return "else"
    diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    if len(diff) == 1:
        return f"substitution@{diff[0] + 1}"
    if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
        return f"transposition@{diff[0] + 1}"
    if len(diff) == 2:
        return "two_edits"
    return "else"


def one_edit_variants(value: str, alphabet: str, last_alphabet: str | None = None) -> set[str]:
    """All single substitutions and adjacent transpositions (Python twin of variants_sql)."""
    out = set()
    for p in range(len(value)):
        for ch in (last_alphabet if (last_alphabet and p == len(value) - 1) else alphabet):
            if ch != value[p]:
                out.add(value[:p] + ch + value[p + 1:])
    for p in range(len(value) - 1):
        if value[p] != value[p + 1]:
            out.add(value[:p] + value[p + 1] + value[p] + value[p + 2:])
    return out


def variants_sql(codes_relation: str, code_column: str, known_relation: str, kind: str) -> str:
    """SQL: every one-edit variant of each bad code that exists in `known_relation(code)`.

    Set-based: each bad code is crossed with a generated list of (position, character) and the
    variants are hash-joined to the known valid codes — the known set holds only codes that
    pass the check, so no check has to be computed per variant. Returns (raw, candidate, edit).
    """
    if kind == "id":
        body_chars, last_chars = list(ID_ALPHABET), list(ID_ALPHABET + "X")
    else:
        body_chars = last_chars = list(USCC_ALPHABET)
    body = "[" + ",".join(f"'{c}'" for c in body_chars) + "]"
    last = "[" + ",".join(f"'{c}'" for c in last_chars) + "]"
    return f"""
    WITH bad AS (SELECT DISTINCT {code_column} AS raw FROM {codes_relation}
                 WHERE {code_column} IS NOT NULL AND length({code_column}) = 18),
    substituted AS (
        SELECT raw, substr(raw, 1, p - 1) || ch || substr(raw, p + 1) AS candidate,
               'substitution@' || p AS edit
        FROM bad, range(1, 19) AS pos(p), unnest(CASE WHEN p = 18 THEN {last} ELSE {body} END) AS chars(ch)
        WHERE ch <> substr(raw, p, 1)
    ),
    transposed AS (
        SELECT raw, substr(raw, 1, p - 1) || substr(raw, p + 1, 1) || substr(raw, p, 1) || substr(raw, p + 2)
                   AS candidate,
               'transposition@' || p AS edit
        FROM bad, range(1, 18) AS pos(p)
        WHERE substr(raw, p, 1) <> substr(raw, p + 1, 1)
    ),
    variants AS (SELECT * FROM substituted UNION ALL SELECT * FROM transposed)
    SELECT v.raw, v.candidate, min(v.edit) AS edit
    FROM variants v JOIN {known_relation} k ON k.code = v.candidate
    GROUP BY v.raw, v.candidate
    """
