"""Masking of personal data for human-readable outputs (report.html).

- ID numbers / USCC: first 6 + 8 stars + last 4 (`150102********123X`)
- names: first + stars + last (`张*伟`), two characters `张*`
- phones: first 3 + 4 stars + last 4 (`138****5678`)
"""
from __future__ import annotations

import re

_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([0-9]{6})[0-9A-Za-z]{8}([0-9A-Za-z]{3}[0-9Xx])(?![0-9A-Za-z])")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_id(value: str | None) -> str:
    """Mask a citizen ID or USCC: keep first 6 and last 4, 8 stars between."""
    if value is None:
        return ""
    s = str(value).strip()
    if not s:
        return ""
    if len(s) >= 12:
        return s[:6] + "*" * 8 + s[-4:]
    if len(s) > 4:
        return "*" * (len(s) - 4) + s[-4:]
    return "*" * len(s)


def mask_name(value: str | None) -> str:
    """Mask a name: `张*伟` (≥3 chars: first + stars + last), `张*` (2 chars)."""
    if value is None:
        return ""
    s = str(value).strip()
    n = len(s)
    if n == 0:
        return ""
    if n == 1:
        return "*"
    if n == 2:
        return s[0] + "*"
    return s[0] + "*" * (n - 2) + s[-1]


def mask_phone(value: str | None) -> str:
    """Mask a phone number: `138****5678`."""
    if value is None:
        return ""
    s = re.sub(r"\D", "", str(value))
    if len(s) >= 11:
        s = s[-11:]
        return s[:3] + "****" + s[-4:]
    if len(s) > 4:
        return "*" * (len(s) - 4) + s[-4:]
    return "*" * len(s)


def mask_text(value: str | None) -> str:
    """Mask any ID numbers and mobile numbers embedded in free text."""
    if value is None:
        return ""
    s = _ID_IN_TEXT.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), str(value))
    return _PHONE_IN_TEXT.sub(lambda m: m.group(1) + "****" + m.group(2), s)
