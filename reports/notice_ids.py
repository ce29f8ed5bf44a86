"""Stable notice IDs (告知编号): the push platform sends them back in `confirmations`.

Derived from what the notice is — run month, beneficiary and the set of policies it bundles —
never from row order or time, so a re-run of the month gives every notice the same ID.
"""
from __future__ import annotations

import hashlib


def notice_id(run_month: str, beneficiary_type: str, beneficiary_id: str, policy_codes) -> str:
    """`ZB<YYYYMM>-<10 hex>`, e.g. `ZB202610-3F9A0C12BE`."""
    codes = ";".join(sorted(policy_codes.split(";") if isinstance(policy_codes, str) else policy_codes))
    key = f"{run_month}|{beneficiary_type}|{beneficiary_id}|{codes}"
    return f"ZB{run_month.replace('-', '')}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:10].upper()}"
