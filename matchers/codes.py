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
    """SQL: every one-edit variant of each bad code that passes the check and exists in
    `known_relation(code)` -> (raw, candidate, edit).

    Set-based and exact: each bad code is crossed with a generated list of (position, character);
    the check of each variant is computed arithmetically from the code's weighted sum (changing
    position p from a to b changes the sum by w_p·(b - a)), so only the ~1/11 (ID) or ~1/31
    (USCC) of variants that pass become strings and are hash-joined to the known valid codes.
    Edits: substitution at 1..18 (18 = the check character itself), transposition of p, p+1.
    """
    if kind == "id":
        alphabet, weights, modulus = ID_ALPHABET, ID_WEIGHTS, 11

        def check(total: str) -> str:
            return f"substr('{ID_CHECK}', (({total}) % 11)::INT + 1, 1)"
        # the weighted sum (mod 11) that yields the code's check character, if it is one
        target = f"nullif(instr('{ID_CHECK}', c18), 0) - 1"
    else:
        alphabet, weights, modulus = USCC_ALPHABET, USCC_WEIGHTS, 31

        def check(total: str) -> str:
            return f"substr('{USCC_ALPHABET}', ((31 - ({total}) % 31) % 31)::INT + 1, 1)"
        target = f"(31 - (nullif(instr('{USCC_ALPHABET}', c18), 0) - 1)) % 31"

    w = "[" + ",".join(map(str, weights)) + "]"
    # The modulus is prime, so each weight has an inverse: the one character at position p that
    # makes the check come right is solved for, not searched among the alphabet.
    inverse = "[" + ",".join(str(pow(x, -1, modulus)) for x in weights) + "]"

    def val(expr: str) -> str:
        return f"(instr('{alphabet}', {expr}) - 1)"

    return f"""
    WITH bad AS (
        SELECT DISTINCT {code_column} AS raw FROM {codes_relation}
        WHERE {code_column} IS NOT NULL AND length({code_column}) = 18
    ),
    summed AS (
        SELECT raw, substr(raw, 18, 1) AS c18,
               list_sum(list_transform(range(1, 18), lambda i: {val('substr(raw, i::INT, 1)')} * ({w})[i]))::BIGINT AS s
        FROM bad
    ),
    solved AS (
        SELECT raw, p, a, (((a + (t - s) * ({inverse})[p]) % {modulus}) + {modulus}) % {modulus} AS b
        FROM (SELECT raw, s, p, {val('substr(raw, p::INT, 1)')} AS a, {target} AS t
              FROM summed, range(1, 18) AS pos(p))
        WHERE t IS NOT NULL
    ),
    substituted AS (
        SELECT raw, p, substr('{alphabet}', (b + 1)::INT, 1) AS ch FROM solved
        WHERE b <> a AND b < {len(alphabet)}
    ),
    transposed AS (
        SELECT raw, p FROM summed, range(1, 17) AS pos(p)
        WHERE substr(raw, p, 1) <> substr(raw, p + 1, 1)
          AND {check(f"s + (({w})[p] - ({w})[p + 1]) * ({val('substr(raw, (p + 1)::INT, 1)')} - {val('substr(raw, p::INT, 1)')})")} = c18
    ),
    variants AS (
        SELECT raw, substr(raw, 1, p - 1) || ch || substr(raw, p + 1) AS candidate, 'substitution@' || p AS edit
        FROM substituted
        UNION ALL
        SELECT raw, substr(raw, 1, 17) || {check('s')}, 'substitution@18' FROM summed
        WHERE {check('s')} <> c18
        UNION ALL
        SELECT raw, substr(raw, 1, p - 1) || substr(raw, p + 1, 1) || substr(raw, p, 1) || substr(raw, p + 2),
               'transposition@' || p
        FROM transposed
        UNION ALL
        SELECT raw, substr(raw, 1, 16) || c18 || substr(raw, 17, 1), 'transposition@17' FROM summed
        WHERE c18 <> substr(raw, 17, 1) AND instr('{alphabet}', c18) > 0
          AND {check(f"s + ({w})[17] * ({val('c18')} - {val('substr(raw, 17, 1)')})")} = substr(raw, 17, 1)
    )
    SELECT v.raw, v.candidate, min(v.edit) AS edit
    FROM variants v JOIN {known_relation} k ON k.code = v.candidate
    GROUP BY v.raw, v.candidate
    """
