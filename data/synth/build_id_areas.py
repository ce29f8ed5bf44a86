"""Dev-time builder of ``id_areas.csv``: which 6-digit area code a citizen ID carries for a person
now living in a county, by birth year. An ID keeps the code of the county *when it was issued*,
so people born before a county code existed (e.g. 通辽市科尔沁区 150502 dates from 1999) carry
the earlier code (哲里木盟通辽市 152301). Source: python-stdnum's ``cn/loc.dat`` (GB/T 2260
history), which ``stdnum.cn.ric`` also uses to validate IDs. Run:
``python -m data.synth.build_id_areas`` (writes data/synth/id_areas.csv)."""
from __future__ import annotations

import csv
import re
from pathlib import Path

from .regions import COUNTIES, COUNTY_CODES

LEGACY_LEAGUE = {"1504": ["1524"], "1505": ["1523"], "1506": ["1527"], "1507": ["1521"], "1508": ["1528"],
                 "1509": ["1526"], "1501": ["1501", "1526"], "1502": ["1502", "1526"], "1503": ["1528", "1527"],
                 "1522": ["1521"]}
Y0, Y1 = 1925, 2026


def load_loc() -> dict[str, list[tuple[int, int, str]]]:
    import stdnum

    path = Path(stdnum.__file__).parent / "cn" / "loc.dat"
    lines = path.read_text(encoding="utf-8").splitlines()
    i = lines.index('15 province="内蒙古自治区"')
    out = {}
    for line in lines[i + 1:]:
        if not line.startswith("  "):
            break
        code, rest = line.strip().split(" ", 1)
        val = re.match(r'county="(.*)"', rest).group(1)
        segs = []
        for part in val.split(","):
            m = re.match(r"\[(\d*)-(\d*)\](.*)", part)
            if m:
                segs.append((int(m.group(1) or Y0), int(m.group(2) or Y1), m.group(3)))
            else:
                segs.append((Y0, Y1, part))
        out["15" + code] = segs
    return out


def valid_in(segs, y) -> str | None:
    for a, b, name in segs:
        if a <= y <= b:
            return name
    return None


def build() -> list[tuple[str, int, int, str]]:
    loc = load_loc()
    usable = {c: s for c, s in loc.items() if not c.endswith("00") and not any(
        n in ("市辖区", "市区") for _, _, n in s)}
    rows = []
    for c in COUNTY_CODES:
        name = COUNTIES[c]
        cur = None
        for y in range(Y0, Y1 + 1):
            if c in loc and valid_in(loc[c], y):
                pick = c
            else:
                cands = [k for k, s in usable.items() if valid_in(s, y) and valid_in(s, y).endswith(name)]
                if not cands:
                    for pre in LEGACY_LEAGUE.get(c[:4], []) + [c[:4]]:
                        cands = [k for k, s in sorted(usable.items()) if k.startswith(pre) and valid_in(s, y)]
                        if cands:
                            break
                if not cands:
                    cands = [k for k, s in sorted(usable.items()) if valid_in(s, y) and s[0][0] == Y0]
                pick = sorted(cands)[0]
            if cur and cur[3] == pick and cur[2] == y - 1:
                cur[2] = y
            else:
                cur = [c, y, y, pick]
                rows.append(cur)
    return [tuple(r) for r in rows]


def main() -> None:
    rows = build()
    path = Path(__file__).with_name("id_areas.csv")
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["region_code", "birth_year_from", "birth_year_to", "id_area_code"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {path}")


if __name__ == "__main__":
    main()
