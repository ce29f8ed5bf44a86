"""Inline SVG charts (no JS, no external resources). Output is deterministic text."""
from __future__ import annotations

from decimal import Decimal
from html import escape

PALETTE = ["#2F6FB3", "#E07B39", "#3A9A6E", "#C8494D", "#8C6BB1", "#B8923A",
           "#4FA3B8", "#7F7F7F"]
FONT = ("'Microsoft YaHei','微软雅黑','Noto Sans CJK SC','Source Han Sans SC','PingFang SC',"
        "'WenQuanYi Micro Hei','SimSun','宋体',sans-serif")


def _num(v) -> float:
    return float(v) if v is not None else 0.0


def _fmt(v, money: bool) -> str:
    if money:
        return f"{Decimal(str(v)):,.2f}"
    return f"{int(v):,}"


def _r(x: float) -> str:
    return f"{x:.1f}"


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    if v < 1:
        return 1.0
    mag = 10 ** (len(str(int(v))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * mag >= v:
            return step * mag
    return 10 * mag


def empty_chart(message: str = "暂无数据", width: int = 1080) -> str:
    return (
        f'<svg role="img" width="{width}" height="60" '
        f'viewBox="0 0 {width} 60" font-family="{FONT}">'
        f'<text x="{width // 2}" y="35" text-anchor="middle" font-size="13" fill="#888">'
        f"{escape(message)}</text></svg>"
    )


def hbar_chart(
    items: list[tuple[str, object]],
    *,
    title: str = "",
    money: bool = False,
    width: int = 1080,
    color: str = PALETTE[0],
) -> str:
    """Horizontal bar chart of (label, value)."""
    if not items:
        return empty_chart()
    label_w, value_w, bar_h, gap, top = 180, 130, 20, 8, 30 if title else 8
    plot_w = width - label_w - value_w
    vmax = max(_num(v) for _, v in items) or 1.0
    height = top + len(items) * (bar_h + gap) + 8
    out = [
        f'<svg role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="12">'
    ]
    if title:
        out.append(f'<text x="0" y="18" font-size="14" font-weight="600" fill="#333">{escape(title)}</text>')
    for i, (label, v) in enumerate(items):
        y = top + i * (bar_h + gap)
        w = plot_w * _num(v) / vmax
        out.append(
            f'<text x="{label_w - 8}" y="{_r(y + bar_h * 0.72)}" text-anchor="end" fill="#333">{escape(str(label))}</text>'
            f'<rect x="{label_w}" y="{y}" width="{_r(max(w, 1 if _num(v) else 0))}" height="{bar_h}" rx="3" fill="{color}">'
            f"<title>{escape(str(label))}: {_fmt(v, money)}</title></rect>"
            f'<text x="{_r(label_w + w + 6)}" y="{_r(y + bar_h * 0.72)}" fill="#555">{_fmt(v, money)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def weights_chart(items: list[tuple[str, object, object, object]], *, width: int = 1080) -> str:
    """Match weights (bits, may be negative): per (label, hand-set, estimated, used) three thin
    bars from a zero line; a missing value draws no bar."""
    if not items:
        return empty_chart()
    series = [("手工设定", PALETTE[7]), ("本月估计", PALETTE[1]), ("实际使用", PALETTE[0])]
    vals = [_num(v) for _, *vs in items for v in vs if v is not None] + [0.0]
    lo, hi = min(vals), max(vals)
    label_w, right_w, bar_h, top = 200, 20, 6, 30
    row_h = 3 * bar_h + 8
    plot_w = width - label_w - right_w
    span = (hi - lo) or 1.0
    x0 = label_w + plot_w * (0 - lo) / span
    height = top + len(items) * row_h + 24
    out = [f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="{FONT}" font-size="12">']
    for i, (name, color) in enumerate(series):
        out.append(f'<rect x="{label_w + i * 120}" y="6" width="12" height="12" rx="2" fill="{color}"/>'
                   f'<text x="{label_w + i * 120 + 18}" y="17" fill="#333">{escape(name)}</text>')
    out.append(f'<line x1="{_r(x0)}" y1="{top - 4}" x2="{_r(x0)}" y2="{height - 20}" stroke="#999"/>')
    for j, (label, *vs) in enumerate(items):
        y = top + j * row_h
        out.append(f'<text x="{label_w - 8}" y="{_r(y + 1.5 * bar_h + 4)}" text-anchor="end" fill="#333">'
                   f"{escape(str(label))}</text>")
        for k, ((name, color), v) in enumerate(zip(series, vs)):
            if v is None:
                continue
            x1 = label_w + plot_w * (_num(v) - lo) / span
            out.append(f'<rect x="{_r(min(x0, x1))}" y="{y + k * bar_h}" width="{_r(max(abs(x1 - x0), 1))}" '
                       f'height="{bar_h - 1}" fill="{color}"><title>{escape(str(label))} · {escape(name)}: '
                       f"{_num(v):+.2f}</title></rect>")
    out.append(f'<text x="{_r(x0)}" y="{height - 6}" text-anchor="middle" fill="#777">0</text>'
               f'<text x="{label_w}" y="{height - 6}" fill="#777">{lo:+.1f}</text>'
               f'<text x="{width - right_w}" y="{height - 6}" text-anchor="end" fill="#777">{hi:+.1f} 位</text>')
    out.append("</svg>")
    return "".join(out)


def stacked_hbar_chart(
    categories: list[str],
    series: list[tuple[str, dict[str, object]]],
    *,
    title: str = "",
    money: bool = True,
    width: int = 1080,
) -> str:
    """Horizontal stacked bars: one bar per category, one segment per series, with a legend."""
    totals = {c: sum(_num(vals.get(c)) for _, vals in series) for c in categories}
    cats = [c for c in categories if totals[c] > 0] or []
    if not cats:
        return empty_chart()
    label_w, value_w, bar_h, gap = 110, 140, 20, 8
    legend_rows = (len(series) + 2) // 3
    top = (30 if title else 8) + legend_rows * 20 + 6
    plot_w = width - label_w - value_w
    vmax = max(totals[c] for c in cats) or 1.0
    height = top + len(cats) * (bar_h + gap) + 8
    out = [
        f'<svg role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="12">'
    ]
    ly = 30 if title else 8
    if title:
        out.append(f'<text x="0" y="18" font-size="14" font-weight="600" fill="#333">{escape(title)}</text>')
    for i, (name, _) in enumerate(series):
        x = (i % 3) * (width // 3)
        y = ly + (i // 3) * 20
        out.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" rx="2" fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{x + 18}" y="{y + 11}" fill="#333">{escape(name)}</text>'
        )
    for j, c in enumerate(cats):
        y = top + j * (bar_h + gap)
        x = float(label_w)
        out.append(f'<text x="{label_w - 8}" y="{_r(y + bar_h * 0.72)}" text-anchor="end" fill="#333">{escape(c)}</text>')
        for i, (name, vals) in enumerate(series):
            v = _num(vals.get(c))
            if v <= 0:
                continue
            w = plot_w * v / vmax
            out.append(
                f'<rect x="{_r(x)}" y="{y}" width="{_r(w)}" height="{bar_h}" fill="{PALETTE[i % len(PALETTE)]}">'
                f"<title>{escape(c)} · {escape(name)}: {_fmt(vals.get(c), money)}</title></rect>"
            )
            x += w
        out.append(f'<text x="{_r(x + 6)}" y="{_r(y + bar_h * 0.72)}" fill="#555">{_fmt(totals[c], money)}</text>')
    out.append("</svg>")
    return "".join(out)


def column_line_chart(
    points: list[tuple[str, object, object]],
    *,
    title: str = "",
    bar_label: str = "",
    line_label: str = "",
    width: int = 1080,
    height: int = 260,
) -> str:
    """Month trend: columns for amount (left axis), a line for count (right axis)."""
    if not points:
        return empty_chart()
    left, right, top, bottom = 90, 70, 52 if title else 30, 36
    pw, ph = width - left - right, height - top - bottom
    amax = _nice_max(max(_num(a) for _, a, _ in points) / 4) * 4
    cmax = max(4.0, _nice_max(max(_num(c) for _, _, c in points) / 4) * 4)
    n = len(points)
    slot = pw / n
    bw = min(48.0, slot * 0.6)
    out = [
        f'<svg role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="12">'
    ]
    if title:
        out.append(f'<text x="0" y="18" font-size="14" font-weight="600" fill="#333">{escape(title)}</text>')
    ly = top - 16
    out.append(
        f'<rect x="{left}" y="{ly - 10}" width="12" height="12" rx="2" fill="{PALETTE[0]}"/>'
        f'<text x="{left + 18}" y="{ly}" fill="#333">{escape(bar_label)}（左轴）</text>'
        f'<line x1="{left + 200}" y1="{ly - 4}" x2="{left + 220}" y2="{ly - 4}" stroke="{PALETTE[1]}" stroke-width="2.5"/>'
        f'<text x="{left + 226}" y="{ly}" fill="#333">{escape(line_label)}（右轴）</text>'
    )
    for k in range(5):
        y = top + ph - ph * k / 4
        out.append(
            f'<line x1="{left}" y1="{_r(y)}" x2="{left + pw}" y2="{_r(y)}" stroke="#e5e5e5"/>'
            f'<text x="{left - 6}" y="{_r(y + 4)}" text-anchor="end" fill="#777">{amax * k / 4:,.0f}</text>'
            f'<text x="{left + pw + 6}" y="{_r(y + 4)}" fill="#777">{cmax * k / 4:,.0f}</text>'
        )
    pts = []
    for i, (label, a, c) in enumerate(points):
        cx = left + slot * (i + 0.5)
        h = ph * _num(a) / amax
        out.append(
            f'<rect x="{_r(cx - bw / 2)}" y="{_r(top + ph - h)}" width="{_r(bw)}" height="{_r(h)}" rx="2" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {_fmt(a, True)} 元</title></rect>"
            f'<text x="{_r(cx)}" y="{top + ph + 18}" text-anchor="middle" fill="#333">{escape(label)}</text>'
        )
        pts.append((cx, top + ph - ph * _num(c) / cmax, c, label))
    if len(pts) > 1:
        path = " ".join(f"{_r(x)},{_r(y)}" for x, y, _, _ in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[1]}" stroke-width="2.5"/>')
    for x, y, c, label in pts:
        out.append(
            f'<circle cx="{_r(x)}" cy="{_r(y)}" r="4" fill="#fff" stroke="{PALETTE[1]}" stroke-width="2">'
            f"<title>{escape(label)}: {_fmt(c, False)}</title></circle>"
        )
    out.append("</svg>")
    return "".join(out)
