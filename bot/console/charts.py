"""Charts as inline SVG, drawn on the server: no script, no CDN, readable offline and printable.
Each chart has a <title> and a text description for screen readers; every bar has its own
<title> with the exact value (shown on hover)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

COLORS = {"whatsapp": "#1f7a4d", "sms": "#2b5c8a", "otro": "#8a6d2b", "fallas": "#b3261e"}
NEUTRAL = "#2b5c8a"
WARN = "#b3261e"
FONT = 'font-family="system-ui, sans-serif"'


def _nice_max(value: int) -> int:
    """A round top for the axis whose four gridline steps are whole numbers."""
    if value <= 4:
        return 4
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 4, 5, 8, 10):
        top = int(step * magnitude)
        if top >= value and top % 4 == 0:
            return top
    return value + (-value) % 4


def stacked_bars(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[int]],
    names: Mapping[str, str],
    width: int = 760,
    height: int = 260,
) -> Markup:
    """Vertical bars per label (a day), stacked by series (a medium), with a legend."""
    left, right, top, bottom = 44, 10, 28, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top_value = _nice_max(max(totals, default=0))
    n = max(1, len(labels))
    slot = plot_w / n
    bar = max(2.0, slot * 0.7)
    parts = [
        f'<svg role="img" aria-labelledby="t-{id(labels)}" viewBox="0 0 {width} {height}" '
        f'width="100%" class="chart" {FONT} font-size="12">',
        f'<title id="t-{id(labels)}">{escape(title)}</title>',
    ]
    for k in range(5):
        value = top_value * k / 4
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#333">{value:g}</text>')
    every = max(1, math.ceil(n * 44 / plot_w))  # about 44 px per date label
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar) / 2
        y = top + plot_h
        for key, values in series.items():
            value = values[i]
            if not value:
                continue
            h = plot_h * value / top_value
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{COLORS.get(key, NEUTRAL)}"><title>{escape(label)} · '
                f"{escape(names.get(key, key))}: {value}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                f'fill="#333">{escape(label)}</text>'
            )
    x = left
    for key in series:
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{COLORS.get(key, NEUTRAL)}"/>')
        parts.append(
            f'<text x="{x + 16}" y="16" fill="#222">{escape(names.get(key, key))} ({sum(series[key])})</text>'
        )
        x += 150
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(
    title: str, items: Sequence[tuple[str, int]], width: int = 560, color: str = NEUTRAL, unit: str = ""
) -> Markup:
    """Horizontal bars, one per item, with its value written at the end of the bar."""
    row, left, right = 26, 170, 60
    height = max(1, len(items)) * row + 12
    top_value = max((v for _, v in items), default=0) or 1
    plot_w = width - left - right
    parts = [
        f'<svg role="img" viewBox="0 0 {width} {height}" width="100%" class="chart" {FONT} '
        f'font-size="12"><title>{escape(title)}</title>'
    ]
    if not items:
        parts.append('<text x="10" y="20" fill="#555">Sin datos en el periodo</text>')
    for i, (label, value) in enumerate(items):
        y = 6 + i * row
        w = plot_w * value / top_value
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" fill="#222">{escape(label)}</text>'
        )
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row - 8}" '
            f'fill="{color}"><title>{escape(label)}: {value}{escape(unit)}</title></rect>'
        )
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}" fill="#222">{value}{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def share_bar(
    title: str, part: int, total: int, part_label: str, rest_label: str, width: int = 560
) -> Markup:
    """One 100 % bar split in two, with the share written on it."""
    share = part / total if total else 0
    w = (width - 20) * share
    parts = [
        f'<svg role="img" viewBox="0 0 {width} 64" width="100%" class="chart" {FONT} '
        f'font-size="13"><title>{escape(title)}: {share:.0%}</title>',
        f'<rect x="10" y="8" width="{width - 20}" height="26" fill="#d9e4ee"><title>'
        f"{escape(rest_label)}: {total - part}</title></rect>",
        f'<rect x="10" y="8" width="{w:.1f}" height="26" fill="{WARN}"><title>'
        f"{escape(part_label)}: {part}</title></rect>",
        f'<text x="10" y="54" fill="#222">{escape(part_label)}: {part} de {total} ({share:.0%})</text></svg>',
    ]
    return Markup("".join(parts))
