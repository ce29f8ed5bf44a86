"""Linkage settings as data: thresholds, which columns hold IDs, blocking keys, comparison levels.

Everything the matchers decide with is declared here, in one readable place. The code in
`persons.py` / `firms.py` only evaluates these declarations.

Scoring is Fellegi–Sunter (as in Splink): every comparison has ordered levels (null first, then
strongest agreement to weakest, then `else`); each level has an m probability (P(level | same
entity)) and a u probability (P(level | different entities among the candidates of the block)).
A candidate pair starts from its blocking rule's prior log2-odds and adds log2(m/u) for the level
reached in each comparison; score = 2^w / (1 + 2^w), a match probability in 0..1.

Decision bands:
  score >= ACCEPT and no other plausible candidate  -> link (method exact/id_repaired/fuzzy)
  REVIEW <= score < ACCEPT, or two plausible owners  -> review_queue (never auto-linked)
  score < REVIEW, or a level marked `veto`           -> stays unlinked
"""
from __future__ import annotations

from dataclasses import dataclass, field

# --------------------------------------------------------------------------------------------
# Thresholds (match probability)
# --------------------------------------------------------------------------------------------
ACCEPT = 0.99   # at or above: link automatically
REVIEW = 0.50   # at or above (and below ACCEPT, or ambiguous): review queue; below: unlinked
# A second candidate for the same record at or above REVIEW makes the record ambiguous: it is
# never auto-linked, every plausible candidate goes to the review queue.
AMBIGUOUS_AT = REVIEW

# --------------------------------------------------------------------------------------------
# Where the IDs are: (source, id column, name column, region column, phone column, employer column)
# Citizen-ID columns (公民身份号码). `None` = the source has no such column.
# --------------------------------------------------------------------------------------------
# confirmations.beneficiary_id is a USCC for a firm policy, a citizen ID otherwise (the policy decides).
from schemas.sources import FIRM_POLICY_CODES as _FIRM_CODES  # noqa: E402

FIRM_POLICY_SQL = "policy_code IN (" + ", ".join(f"'{c}'" for c in _FIRM_CODES) + ")"
PERSON_POLICY_SQL = "policy_code NOT IN (" + ", ".join(f"'{c}'" for c in _FIRM_CODES) + ")"


@dataclass(frozen=True)
class PersonIdColumn:
    source: str
    column: str
    name: str | None = None
    region: str | None = "region_code"
    phone: str | None = None
    employer: str | None = None
    where: str | None = None   # SQL filter on the source rows (ledger applicant_id: 个人 only)


@dataclass(frozen=True)
class FirmIdColumn:
    source: str
    column: str
    name: str | None = None
    region: str | None = "region_code"
    person: str | None = None  # a citizen-ID column on the same row (employees → shared-employee evidence)
    where: str | None = None


PERSON_ID_COLUMNS: tuple[PersonIdColumn, ...] = (
    PersonIdColumn("employment_registration", "id_number", "name", phone="phone", employer="employer_uscc"),
    PersonIdColumn("hiring_filing", "id_number", "name", employer="employer_uscc"),
    PersonIdColumn("social_insurance", "id_number", "name", employer="employer_uscc"),
    PersonIdColumn("business_registration", "legal_rep_id_number", "legal_rep_name", phone="phone"),
    PersonIdColumn("graduates", "id_number", "name", phone="phone"),
    PersonIdColumn("poverty_alleviation", "id_number", "name", phone="phone"),
    PersonIdColumn("fiscal_staff", "id_number", "name"),
    PersonIdColumn("deceased", "id_number", "name", region=None),
    PersonIdColumn("subsidy_ledger", "applicant_id", where="applicant_type = '个人'"),
    PersonIdColumn("subsidy_ledger", "beneficiary_id_number"),
    PersonIdColumn("subsidy_ledger", "handler_id_number"),
    # From list to money (optional sources): a person policy's confirmation, the card roster.
    PersonIdColumn("confirmations", "beneficiary_id", region=None, where=PERSON_POLICY_SQL),
    PersonIdColumn("social_security_cards", "id_number", "name"),
)

FIRM_ID_COLUMNS: tuple[FirmIdColumn, ...] = (
    FirmIdColumn("business_registration", "uscc", "name"),
    FirmIdColumn("employment_registration", "employer_uscc", person="id_number"),
    FirmIdColumn("hiring_filing", "employer_uscc", "employer_name", person="id_number"),
    FirmIdColumn("social_insurance", "employer_uscc", person="id_number"),
    FirmIdColumn("subsidy_ledger", "applicant_id", where="applicant_type = '单位'",
                 person="beneficiary_id_number"),
    # a firm policy's confirmation: the beneficiary code is a USCC (all-digit ones included)
    FirmIdColumn("confirmations", "beneficiary_id", region=None, where=FIRM_POLICY_SQL),
)

# The firm register: names to match firms by name against (within region).
FIRM_REGISTER = ("business_registration", "uscc", "name")


# --------------------------------------------------------------------------------------------
# Blocking rules: how candidates are found without comparing everything with everything.
# Pair counts per rule are reported in link_stats. `prior` = log2 odds that a candidate pair
# from this rule is a match before any field is compared.
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BlockingRule:
    key: str
    description: str
    prior: float
    fallback: bool = False   # only for records that the earlier rules found no candidate for


PERSON_BLOCKING: tuple[BlockingRule, ...] = (
    BlockingRule(
        "id_one_edit",
        "every single-character substitution or adjacent transposition of the bad ID that "
        "passes the MOD 11-2 check, joined to the known valid IDs (exact candidate set)",
        prior=0.0,
    ),
    BlockingRule(
        "name_birthdate",
        "same name (as sent) and same birth date (ID digits 7-14) — bad IDs with more than one "
        "typo, if no one-edit candidate was found",
        prior=-6.0, fallback=True,
    ),
)

FIRM_BLOCKING: tuple[BlockingRule, ...] = (
    BlockingRule(
        "uscc_one_edit",
        "every single-character substitution or adjacent transposition of the bad USCC that "
        "passes the GB 32100 check, joined to the known valid USCCs",
        prior=0.0,
    ),
    BlockingRule(
        "name_league",
        "normalised firm name equal or close within the same league (盟市), for records whose "
        "USCC is missing or has no one-edit candidate; candidates from business_registration",
        prior=-2.0, fallback=True,
    ),
)


# --------------------------------------------------------------------------------------------
# Comparison levels
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Level:
    label: str
    m: float
    u: float
    veto: bool = False          # a pair reaching this level is never linked nor reviewed
    agrees: bool = False        # counts as "agreed" in the link's explanation
    null: bool = False          # no information: weight 0

    @property
    def weight(self) -> float:
        import math
        return 0.0 if self.null else math.log2(self.m / self.u)


@dataclass(frozen=True)
class Comparison:
    field: str
    description: str
    levels: tuple[Level, ...] = field(default_factory=tuple)

    def level(self, label: str) -> Level:
        for lv in self.levels:
            if lv.label == label:
                return lv
        raise KeyError(f"{self.field}: no level {label!r}")


def _null() -> Level:
    return Level("null", 1.0, 1.0, null=True)


PERSON_COMPARISONS: tuple[Comparison, ...] = (
    Comparison("name", "name after t2s + dot/space normalisation (see names.compare_person_names)", (
        _null(),
        Level("exact", m=0.92, u=0.0005, agrees=True),
        Level("homophone", m=0.04, u=0.0002, agrees=True),      # 王晓明 ~ 王小明, surname agrees
        Level("fuzzy", m=0.02, u=0.01),                          # same surname, one char off etc.
        Level("else", m=0.02, u=0.9895, veto=True),              # different name: never linked
    )),
    Comparison("id_edit", "distance between the bad ID and the candidate", (
        Level("one_edit", m=0.97, u=0.97, agrees=True),          # neutral: the block implies it
        Level("two_edits", m=0.02, u=0.02 * 8),
        Level("else", m=0.01, u=0.01 * 256),
    )),
    Comparison("birth_date", "birth date (ID digits 7-14)", (
        _null(),
        Level("exact", m=0.6, u=0.5, agrees=True),
        Level("else", m=0.4, u=0.5),
    )),
    Comparison("sex", "sex (ID digit 17 odd = male)", (
        _null(),
        Level("exact", m=0.95, u=0.9, agrees=True),
        Level("else", m=0.05, u=0.1),
    )),
    Comparison("region", "record county vs counties the candidate was seen in", (
        _null(),
        Level("same_county", m=0.80, u=0.10, agrees=True),
        Level("same_league", m=0.12, u=0.15, agrees=True),
        Level("else", m=0.08, u=0.75),
    )),
    Comparison("phone", "record phone vs phones the candidate was seen with", (
        _null(),
        Level("exact", m=0.70, u=0.0005, agrees=True),
        Level("else", m=0.30, u=0.9995),
    )),
    Comparison("employer", "record employer USCC vs employers the candidate was seen with", (
        _null(),
        Level("exact", m=0.80, u=0.01, agrees=True),
        Level("else", m=0.20, u=0.99),
    )),
)

FIRM_COMPARISONS: tuple[Comparison, ...] = (
    Comparison("firm_name", "normalised firm name (see names.compare_firm_names)", (
        _null(),
        Level("exact", m=0.90, u=0.0005, agrees=True),
        Level("fuzzy_high", m=0.07, u=0.002, agrees=True),   # token-set ratio >= 92
        Level("fuzzy", m=0.02, u=0.02),                      # ratio >= 80
        Level("else", m=0.01, u=0.9775, veto=True),
    )),
    Comparison("uscc_edit", "distance between the bad USCC and the candidate", (
        _null(),                                             # no USCC (firm by name)
        Level("one_edit", m=0.97, u=0.97, agrees=True),
        Level("else", m=0.03, u=0.03 * 64),
    )),
    Comparison("region", "record county vs the firm's county", (
        _null(),
        Level("same_county", m=0.85, u=0.10, agrees=True),
        Level("same_league", m=0.10, u=0.15, agrees=True),
        Level("else", m=0.05, u=0.75),
    )),
    Comparison("register_gap", "a register (business_registration) row with a bad USCC vs a candidate that "
               "has no register row of its own: the row is most likely the candidate's missing entry", (
        _null(),                                             # record not from the register
        Level("exact", m=0.90, u=0.05, agrees=True),         # candidate not registered under its code
        Level("else", m=0.10, u=0.95),                       # candidate already registered
    )),
    Comparison("shared_employee", "a person on the record's rows also appears with the candidate firm", (
        _null(),
        Level("exact", m=0.85, u=0.001, agrees=True),
        Level("else", m=0.15, u=0.999),
    )),
)

# Name comparison thresholds (rapidfuzz, 0..100)
NAME_FUZZY_MIN = 66.0        # char-level ratio of the given name (surname agrees) for `fuzzy`
FIRM_FUZZY_HIGH = 92.0       # token_set_ratio on normalised firm names for `fuzzy_high`
FIRM_FUZZY_MIN = 80.0        # for `fuzzy`
