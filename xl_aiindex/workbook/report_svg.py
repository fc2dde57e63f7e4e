"""The report's charts as inline SVG (no script, font file or image): horizontal bars (TOP-N),
clustered columns of two units, and rank intervals. Score axes run 0–100 when every value is on
that scale, as in the workbook's charts."""

from __future__ import annotations

import html
import math
import unicodedata
from collections.abc import Sequence
from typing import Any

_FONT = '"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif'



def _svg_head(width: float, height: float, title: str, font_size: int) -> list[str]:
    """The opening of a chart: the ``<svg>`` element (text at ``font_size``) and its centred
    bold title."""
    return [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="{_e(title)}" font-family=\'{_FONT}\' font-size="{font_size}">',
            f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="13" '
            f'font-weight="bold">{_e(title)}</text>']

def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def label_width(labels: Sequence[str], size: float) -> float:
    """Room (px) the longest of ``labels`` needs at font size ``size``: wide (CJK) characters
    a full em, others about 0.6 em; so long names are never cut at the chart's edge."""
    def px(text: str) -> float:
        return sum(size if unicodedata.east_asian_width(ch) in "WF" else 0.6 * size
                   for ch in text)
    return max((px(t) for t in labels), default=0.0)


def axis_max(values: Sequence[float]) -> tuple[float, float]:
    """The end of a score axis and its step: 100 (step 20) when every value lies in 0–100, else
    the largest value rounded up to a round step."""
    finite = [v for v in values if v == v]
    vmax = max([*finite, 0.0]) or 1.0
    if finite and min(finite) >= 0 and vmax <= 100:
        return 100.0, 20.0
    step = _nice_step(vmax)
    return math.ceil(vmax / step) * step, step


def svg_bars(title: str, labels: Sequence[str], values: Sequence[float],
             fills: Sequence[str], width: int = 460) -> str:
    """A horizontal bar chart (first label on top) as inline SVG: value labels at the bar ends,
    a 0–max axis with grid lines."""
    row, top, right = 19, 34, 44
    left = max(78.0, label_width(labels, 11) + 12)
    n = len(values)
    height = top + n * row + 24
    top_value, step = axis_max(values)
    scale = (width - left - right) / top_value
    parts = _svg_head(width, height, title, 11)
    tick = 0.0
    while tick <= top_value + 1e-9:
        x = left + tick * scale
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + n * row}" '
                     'stroke="#e0e0e0"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + n * row + 14}" text-anchor="middle" '
                     f'fill="#666" font-size="9">{tick:g}</text>')
        tick += step
    for i, (label, v, fill) in enumerate(zip(labels, values, fills, strict=True)):
        y = top + i * row
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_e(label)}</text>')
        if v == v:
            w = max(v, 0.0) * scale
            parts.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 5}" '
                         f'fill="#{fill}" stroke="#7f7f7f" stroke-width="0.6"/>')
            parts.append(f'<text x="{left + w + 3:.1f}" y="{y + 13}" font-size="9.5" '
                         f'fill="#404040">{v:.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_pair(title: str, categories: Sequence[str], a: Sequence[float], b: Sequence[float],
             names: tuple[str, str], width: int = 460) -> str:
    """Clustered columns of two units over ``categories`` as inline SVG, with a legend."""
    colors = ("1F4E78", "C55A11")
    top, bottom, left = 34, 48, 30
    height = 240
    plot_h = height - top - bottom
    top_value, step = axis_max([*a, *b])
    group = (width - left - 10) / max(len(categories), 1)
    bar = group * 0.32
    parts = _svg_head(width, height, title, 10)
    tick = 0.0
    while tick <= top_value + 1e-9:
        y = top + plot_h - tick / top_value * plot_h
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" '
                     'stroke="#e0e0e0"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#666" '
                     f'font-size="9">{tick:g}</text>')
        tick += step
    for i, cat in enumerate(categories):
        x0 = left + i * group + group * 0.16
        for j, vals in enumerate((a, b)):
            v = vals[i]
            if v != v:
                continue
            h = max(v, 0.0) / top_value * plot_h
            x = x0 + j * bar
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="#{colors[j]}"/>')
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h - h - 3:.1f}" '
                         f'text-anchor="middle" font-size="8" fill="#404040">{v:.1f}</text>')
        parts.append(f'<text x="{left + (i + 0.5) * group:.1f}" y="{top + plot_h + 14}" '
                     f'text-anchor="middle">{_e(cat)}</text>')
    ly = height - 12
    for j, name in enumerate(names):
        lx = width / 2 - 60 + j * 80
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="#{colors[j]}"/>'
                     f'<text x="{lx + 14}" y="{ly}">{_e(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_intervals(title: str, labels: Sequence[str], median: Sequence[float],
                  low: Sequence[float], high: Sequence[float], n_units: int,
                  width: int = 620) -> str:
    """Rank intervals as inline SVG: a dot at the median rank, a line from the 5th to the 95th
    percentile rank, one row per unit (rank 1 on the left)."""
    row, top, right = 16, 34, 20
    left = max(78.0, label_width(labels, 10) + 12)
    height = top + len(labels) * row + 24
    span = max(n_units, 2) - 1
    scale = (width - left - right) / span
    parts = _svg_head(width, height, title, 10)
    step = max(1, round(span / 10))
    for r in range(1, n_units + 1, step):
        x = left + (r - 1) * scale
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" '
                     f'y2="{top + len(labels) * row}" stroke="#e8e8e8"/>'
                     f'<text x="{x:.1f}" y="{top + len(labels) * row + 13}" '
                     f'text-anchor="middle" fill="#666" font-size="9">{r}</text>')
    for i, label in enumerate(labels):
        y = top + i * row + row / 2
        parts.append(f'<text x="{left - 6}" y="{y + 3.5:.1f}" text-anchor="end">{_e(label)}</text>')
        x1, x2 = left + (low[i] - 1) * scale, left + (high[i] - 1) * scale
        xm = left + (median[i] - 1) * scale
        parts.append(f'<line x1="{x1:.1f}" y1="{y:.1f}" x2="{x2:.1f}" y2="{y:.1f}" '
                     'stroke="#1f4e78" stroke-width="2"/>'
                     f'<circle cx="{xm:.1f}" cy="{y:.1f}" r="3.5" fill="#c55a11"/>')
    parts.append("</svg>")
    return "".join(parts)


def _nice_step(vmax: float) -> float:
    raw = vmax / 5
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag
