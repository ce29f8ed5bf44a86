import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reports.report_html import SECTION_TITLES
from test_reports_data import MONTH, publish, published, warehouse  # noqa: F401

SHOTS = Path(__file__).resolve().parent / "screenshots"


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture
def report(published):  # noqa: F811
    return published / "report.html"


def test_section_headings(report):
    html = report.read_text(encoding="utf-8")
    for key, title in SECTION_TITLES:
        assert f'<section id="{key}"><h2>{title}</h2>' in html
    for text in ("各来源读入、入库、隔离行数", "隔离原因", "各匹配方式链接率", "按盟市 × 政策",
                 "待人工复核的灰区候选链接共", "按排除原因", "按核查项目", "近月新增补贴金额与受益主体数",
                 "138,614.79", "123,456.78", "1,200"):
        assert text in html, text
    assert html.count("<svg") >= 4


def test_no_external_references(report):
    html = report.read_text(encoding="utf-8")
    low = html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", low)
    assert "@import" not in low
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", low)
    assert "<script" not in low and "<link" not in low and "<iframe" not in low
    assert "http://" not in low and "https://" not in low   # not even in text
    assert "content-security-policy" in low


def test_renders_in_headless_chromium(report, tmp_path):
    exe = _chromium()
    if exe is None and not os.environ.get("ZHIBU_REQUIRE_CLIENTS"):
        pytest.skip("chromium not installed (make test installs Debian's chromium)")
    assert exe, "chromium missing: make test installs it (make browser)"
    SHOTS.mkdir(exist_ok=True)
    png = SHOTS / f"report_{MONTH}.png"
    png.unlink(missing_ok=True)
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", f"--screenshot={png}",
           "--window-size=1280,2400", report.resolve().as_uri()]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000            # a real page, not a blank canvas
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2400)
    dom = subprocess.run([*cmd[:-3], "--dump-dom", report.resolve().as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0
    assert "一、本月概览" in dom.stdout and "九、月度趋势" in dom.stdout


def test_director_questions_answered_in_chinese(report):
    from reports.common import CHECK_NAMES
    html = report.read_text(encoding="utf-8")
    for text in ("各来源匹配率", "主动告知汇总", "涉及金额（元）", "往月已列入名单", "按排除原因"):
        assert text in html, text
    for name in CHECK_NAMES.values():              # every check shown, 0 included
        assert name in html, name
    for raw in (">review<", ">unlinked<", "valid_uscc", ">fuzzy<", ">id_repaired<", "（fiscal_staff）"):
        assert raw not in html, raw
    assert "'Microsoft YaHei'" in html and "'Noto Sans CJK SC'" in html and "SimSun" in html
