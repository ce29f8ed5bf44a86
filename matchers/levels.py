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
Two rules on top of the score (persons):
  strong evidence  the record's only one-edit candidate, a name that agrees (exact after t2s /
                   dots / spaces, or homophone) and a shared employer or phone -> links, whatever
                   the score (still never with a second plausible owner)
  conflict         an independent field disagrees (employer / phone / school / household seen on
                   both sides, none shared) and none agrees -> never auto-linked (review at most)

The m/u below are hand-set; each run re-estimates them from the month's own data
(matchers.weights: u from random pairs of known persons, m and each block's prior by EM on the
candidate pairs) with these values as priors and bounds, and persists both in `link_weights`.
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
    school: str | None = None      # 院校名称 (graduates)
    household: str | None = None   # 户编号 (poverty roster)


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
    PersonIdColumn("business_registration", "legal_rep_id_number", "legal_rep_name", phone="phone",
                   employer="uscc"),   # the firm a legal representative runs: registration rows of the same firm
    PersonIdColumn("graduates", "id_number", "name", phone="phone", school="school"),
    PersonIdColumn("poverty_alleviation", "id_number", "name", phone="phone", household="household_id"),
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
    zh: str = ""                # how the review queue says it (Chinese)

    @property
    def weight(self) -> float:
        import math
        return 0.0 if self.null else math.log2(self.m / self.u)


@dataclass(frozen=True)
class Comparison:
    field: str
    description: str
    levels: tuple[Level, ...] = field(default_factory=tuple)
    # where u comes from when weights are estimated (matchers.weights):
    #   'random'  random pairs of known persons sharing the ID's region prefix (the block's non-matches)
    #   'hand'    derived from the ID itself (the block fixes it): the hand-set u is kept
    u_from: str = "random"
    # independent evidence (not read off the ID): agreement corroborates, disagreement conflicts
    corroborates: bool = False

    def level(self, label: str) -> Level:
        for lv in self.levels:
            if lv.label == label:
                return lv
        raise KeyError(f"{self.field}: no level {label!r}")


def _null() -> Level:
    return Level("null", 1.0, 1.0, null=True)


PERSON_COMPARISONS: tuple[Comparison, ...] = (
    Comparison("name", "name after t2s + dot/space normalisation (see names.compare_person_names); "
               "`exact` is weighted by the name's own frequency (a common name is weaker evidence)", (
        _null(),
        Level("exact", m=0.92, u=0.0005, agrees=True, zh="姓名一致"),
        Level("homophone", m=0.04, u=0.0002, agrees=True, zh="姓名同音"),      # 王晓明 ~ 王小明
        Level("fuzzy", m=0.02, u=0.01, zh="姓名相近"),                          # same surname, one char off
        Level("else", m=0.02, u=0.9895, veto=True, zh="姓名不同"),              # different name: never linked
    )),
    Comparison("id_edit", "distance between the bad ID and the candidate", (
        Level("one_edit", m=0.97, u=0.97, agrees=True, zh="号码一位之差"),     # neutral: the block implies it
        Level("two_edits", m=0.02, u=0.02 * 8, zh="号码两位之差"),
        Level("else", m=0.01, u=0.01 * 256, zh="号码差异较大"),
    ), u_from="hand"),
    Comparison("birth_date", "birth date (ID digits 7-14)", (
        _null(),
        Level("exact", m=0.6, u=0.5, agrees=True, zh="出生日期一致"),
        Level("else", m=0.4, u=0.5, zh="出生日期不同"),
    ), u_from="hand"),
    Comparison("sex", "sex (ID digit 17 odd = male)", (
        _null(),
        Level("exact", m=0.95, u=0.9, agrees=True, zh="性别一致"),
        Level("else", m=0.05, u=0.1, zh="性别不同"),
    ), u_from="hand"),
    Comparison("region", "record county vs every county the candidate was seen in (region history)", (
        _null(),
        Level("same_county", m=0.80, u=0.10, agrees=True, zh="同一旗县区"),
        Level("same_league", m=0.12, u=0.15, agrees=True, zh="同一盟市"),
        Level("else", m=0.08, u=0.75, zh="地区不同"),
    )),
    Comparison("phone", "record phone vs phones the candidate was seen with", (
        _null(),
        Level("exact", m=0.70, u=0.0005, agrees=True, zh="电话相同"),
        Level("else", m=0.30, u=0.9995, zh="电话不同"),
    ), corroborates=True),
    Comparison("employer", "record employer USCC vs employers the candidate was seen with (filing, "
               "contribution, employment registration, and the firm a legal representative registered)", (
        _null(),
        Level("exact", m=0.80, u=0.01, agrees=True, zh="同一单位"),
        Level("else", m=0.20, u=0.99, zh="单位不同"),
    ), corroborates=True),
    Comparison("school", "record school vs schools the candidate was seen with (graduates)", (
        _null(),
        Level("exact", m=0.80, u=0.02, agrees=True, zh="同一院校"),
        Level("else", m=0.20, u=0.98, zh="院校不同"),
    ), corroborates=True),
    Comparison("household", "record household (户编号) vs the candidate's households (poverty roster)", (
        _null(),
        Level("exact", m=0.85, u=0.0005, agrees=True, zh="同一户"),
        Level("else", m=0.15, u=0.9995, zh="户编号不同"),
    ), corroborates=True),
)

# Chinese names of the blocking rules and decision reasons (review queue `reason`)
BLOCK_ZH = {"id_one_edit": "号码改一位即有效", "name_birthdate": "同名同出生日期"}

# --------------------------------------------------------------------------------------------
# Weight estimation (matchers.weights): the hand-set m/u above are the priors and the bounds.
# --------------------------------------------------------------------------------------------
ESTIMATE_WEIGHTS = True       # False: score with the hand-set values only
PRIOR_PAIRS = 50.0            # strength of the hand-set m (and λ) in EM, as pseudo-pairs
U_PRIOR_PAIRS = 200.0         # strength of the hand-set u against the random-pair counts
WEIGHT_BOUND = 3.0            # an estimated level weight stays within hand-set ± this (bits)
PRIOR_BOUND = 2.0             # a block's estimated prior log2-odds stays within hand-set ± this
EM_ITERATIONS = 25
U_SAMPLE = 200_000            # known persons sampled for the random pairs and name frequencies
# name frequency: the `exact` name weight uses u = the name's share among the sampled persons
# (floored at one in the sample), kept within the estimated exact weight - TF_DOWN .. + TF_UP
TF_DOWN, TF_UP = 6.0, 4.0

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
