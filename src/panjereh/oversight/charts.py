"""Server-rendered SVG charts: no script, readable by screen readers (title, desc, and a data
table next to each chart on the page), the same markup in the browser and in the PDF.

Words stay in HTML (table cells, legend), so Persian is shaped and ordered right-to-left by the
browser and by WeasyPrint alike; inside an SVG only digits are drawn. Coordinates are mirrored
by hand for right-to-left pages, and the SVG itself is ``direction: ltr`` so that
``text-anchor`` means the same thing in every renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from panjereh.common.persian import to_persian_digits

_ids = count(1)
COLOURS = ["#1d70b8", "#00703c", "#d4351c", "#f47738", "#4c2c92"]


@dataclass
class Bar:
    label: str
    value: float
    text: str  # the value as shown (already formatted)


def _rtl() -> bool:
    return bool(translation.get_language_bidi())


def _n(value) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return to_persian_digits(text) if _rtl() else text


def _head(width: int, height: int, title: str, desc: str) -> tuple[str, str]:
    uid = f"chart{next(_ids)}"
    return uid, (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" direction="ltr" '
        f'aria-labelledby="{uid}-t {uid}-d" font-family="Vazirmatn, Tahoma, sans-serif">'
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>'
    )


def bar_chart(
    title: str, desc: str, bars: list[Bar], *, max_value: float | None = None
) -> SafeString:
    """Horizontal bars as a data table: each row's label and value are HTML text (so Persian is
    shaped and ordered by the browser or the PDF engine), the bar an SVG rectangle."""
    top = max_value or max((b.value for b in bars), default=0) or 1
    rtl = _rtl()
    rows = []
    for i, b in enumerate(bars):
        share = 100.0 * (b.value / top) if top else 0
        x = 100.0 - share if rtl else 0.0
        rows.append(
            f'<tr><th scope="row">{escape(b.label)}</th><td class="ov-bar">'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="22" aria-hidden="true" '
            f'focusable="false"><rect x="{x:.1f}%" y="2" width="{share:.1f}%" height="18" '
            f'fill="{COLOURS[i % len(COLOURS)]}"/></svg></td>'
            f'<td class="n">{escape(b.text)}</td></tr>'
        )
    return mark_safe(  # noqa: S308  (every text is escaped)
        f'<table class="ov-table ov-barchart"><caption>{escape(title)}'
        f'<span class="ov-def"> {escape(desc)}</span></caption><tbody>{"".join(rows)}</tbody></table>'
    )


def line_chart(
    title: str, desc: str, x_labels: list[str], series: list[tuple[str, list[float | None]]]
) -> SafeString:
    """Percentages (0–100) over time, one line per series, with an HTML legend. Only digits are
    drawn inside the SVG; an empty x label draws no tick text."""
    width, height, pad_x, pad_top, pad_bottom = 640, 260, 46, 16, 34
    plot_w, plot_h = width - 2 * pad_x, height - pad_top - pad_bottom
    rtl = _rtl()
    n = max(len(x_labels), 2)

    def x(i: int) -> float:
        step = plot_w / (n - 1)
        return (width - pad_x - i * step) if rtl else (pad_x + i * step)

    def y(v: float) -> float:
        return pad_top + plot_h * (1 - v / 100.0)

    _uid, svg = _head(width, height, title, desc)
    parts = [svg]
    for tick in (0, 25, 50, 75, 100):
        ty = y(tick)
        axis_x = width - pad_x + 6 if rtl else pad_x - 6
        anchor = "start" if rtl else "end"
        parts.append(
            f'<line x1="{pad_x}" x2="{width - pad_x}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#b1b4b6" '
            f'stroke-width="1"/><text x="{axis_x}" y="{ty + 4:.1f}" font-size="12" '
            f'text-anchor="{anchor}" fill="#505a5f">{_n(tick)}٪</text>'
            if rtl
            else f'<line x1="{pad_x}" x2="{width - pad_x}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="#b1b4b6" stroke-width="1"/><text x="{axis_x}" y="{ty + 4:.1f}" '
            f'font-size="12" text-anchor="{anchor}" fill="#505a5f">{tick}%</text>'
        )
    for i, label in enumerate(x_labels):
        if label:  # callers pass digits only (e.g. the year at each first quarter)
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - pad_bottom + 18}" font-size="12" '
                f'text-anchor="middle" fill="#505a5f">{escape(label)}</text>'
            )
    for k, (_name, values) in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        points = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
        if points:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="3"/>'
            )
            for px, py in points:
                parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}"/>')
    parts.append("</svg>")
    # The legend is HTML: SVG text is not shaped right-to-left by every renderer (WeasyPrint).
    legend = "".join(
        f'<li><svg width="14" height="14" aria-hidden="true" focusable="false"><rect width="14" '
        f'height="14" fill="{COLOURS[k % len(COLOURS)]}"/></svg> {escape(name)}</li>'
        for k, (name, _values) in enumerate(series)
    )
    parts.append(f'<ul class="ov-legend">{legend}</ul>')
    return mark_safe("".join(parts))  # noqa: S308  (every text above is escaped)
