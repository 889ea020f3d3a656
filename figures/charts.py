"""Bar charts as inline SVG, drawn on the server: the report prints and
renders to PDF offline, with no script and no CDN. A hidden figure is drawn
as no bar and the word for "suppressed", never as a bar of any length."""
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

BAR_HEIGHT = 18
GAP = 6
LABEL_WIDTH = 210
BAR_WIDTH = 300
VALUE_WIDTH = 90


def bar_chart(rows: list[tuple[str, int | None]], *, title: str) -> SafeString:
    """Horizontal bars, one per ``(label, value)``; ``None`` is a suppressed value."""
    largest = max((value for _label, value in rows if value), default=0)
    height = len(rows) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="11">',
             f"<title>{escape(title)}</title>"]
    for index, (label, value) in enumerate(rows):
        y = GAP + index * (BAR_HEIGHT + GAP)
        middle = y + BAR_HEIGHT / 2 + 4
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{middle}" text-anchor="end">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text x="{LABEL_WIDTH + 4}" y="{middle}" fill="#777" font-style="italic">'
                         f"{escape(_('suppressed'))}</text>")
            continue
        length = round(BAR_WIDTH * value / largest) if largest else 0
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" fill="#2b6a8f"/>')
        parts.append(f'<text x="{LABEL_WIDTH + length + 4}" y="{middle}">{value}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped
