"""政策清单 layout and date: readable (names on one line), stamped by the parameters' effective
dates (same files → same bytes), rendered by headless Chromium."""
from __future__ import annotations

import os
import hashlib
import shutil
import subprocess

import pytest

from policies.catalogue import catalogue_date, render_catalogue
from policies.params import policy_codes


def _hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_catalogue_is_dated_by_parameters_and_reproducible(tmp_path):
    a = render_catalogue(tmp_path / "a")
    b = render_catalogue(tmp_path / "b")
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b") and a
    day = catalogue_date(policy_codes()).isoformat()
    listing = (tmp_path / "a" / "policy_list.html").read_text(encoding="utf-8")
    assert f"参数截至 {day}" in listing
    md = (tmp_path / "a" / "policy_list.md").read_text(encoding="utf-8")
    assert f"参数截至 {day}" in md and "## 一览" in md
    # the overview has five short columns; the names are never wrapped
    assert "td.name{white-space:nowrap" in listing and listing.count("<td class='name'>") == len(policy_codes())


@pytest.mark.skipif(shutil.which("chromium") is None and not os.environ.get("ZHIBU_REQUIRE_CLIENTS"), reason="chromium missing (make browser)")
def test_catalogue_screenshot(tmp_path):
    render_catalogue(tmp_path / "pol")
    png = tmp_path / "policy_list.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1400",
                    f"--screenshot={png}", (tmp_path / "pol" / "policy_list.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert png.stat().st_size > 20_000
    shots = __import__("pathlib").Path(__file__).parent / "screenshots"
    shots.mkdir(exist_ok=True)
    shutil.copy(png, shots / "policy_list.png")
