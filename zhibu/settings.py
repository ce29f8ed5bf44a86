"""Settings an analyst changes without touching code (`settings.yaml`, or ZHIBU_SETTINGS).

Read afresh on each call so a changed file applies to the next run; a run records the values
in force in its manifest. Unknown keys and values of the wrong type are refused by name, so a
typo never silently falls back to a default.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = {
    "broken_export_share": 0.5,
    "broken_export_min_rows": 200,
    "snapshot_min_ratio": 0.5,
    "future_dated_rows_max": 3,
}


class SettingsError(ValueError):
    pass


def settings_file() -> Path:
    return Path(os.environ.get("ZHIBU_SETTINGS") or ROOT / "settings.yaml")


def current() -> dict:
    """The settings in force: defaults overlaid by the settings file."""
    path = settings_file()
    values = dict(DEFAULTS)
    if path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise SettingsError(f"{path}: expected 'name: value' lines")
        unknown = sorted(set(data) - set(DEFAULTS))
        if unknown:
            raise SettingsError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
        for k, v in data.items():
            want = type(DEFAULTS[k])
            if isinstance(v, bool) or not isinstance(v, (int, float)) or (want is int and not isinstance(v, int)):
                raise SettingsError(f"{path}: {k} must be a {want.__name__}, not {v!r}")
            if v < 0 or (k.endswith(("share", "ratio")) and v > 1):
                raise SettingsError(f"{path}: {k} = {v} is out of range")
            values[k] = v
    elif "ZHIBU_SETTINGS" in os.environ:
        raise SettingsError(f"settings file {path} (ZHIBU_SETTINGS) does not exist")
    return values


def get(name: str):
    return current()[name]
