"""核查 (verification): overdue processing and irregular payments in the subsidy ledger.

Entry point: `verify_month(con, month)`; each check is a SQL file in this package.
"""

from zhibu.verification.runner import (
    CHECK_CODES,
    VerificationInputError,
    load_parameters,
    verify_month,
)

__all__ = ["CHECK_CODES", "VerificationInputError", "load_parameters", "verify_month"]
