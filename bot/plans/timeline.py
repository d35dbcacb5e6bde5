"""Draw the committee's status picture: one bar per commitment on a month axis, as a PNG.

The picture is made for a phone screen (``WIDTH`` px wide, taller with more rows, at most
``MAX_ROWS`` rows and then a "+N" line). Every word on it comes from the caller: the title, the
items and the already-translated ``TimelineLabels``; this module holds no user-visible text.

Text is drawn with Noto Sans Arabic (Latin and Arabic glyphs, from the ``fontpkg-noto-sans-arabic``
package) shaped by libraqm when Pillow has it. Without that font or without libraqm, Arabic
letters are transliterated to Latin (Arabizi) and drawn with Pillow's built-in font: the picture
is always produced, never an exception because of a glyph.
"""

from __future__ import annotations

import contextlib
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow is imported when a picture is drawn: the running bot rarely does
    from PIL import ImageDraw, ImageFont

    _Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

__all__ = [
    "COLORS",
    "MAX_ROWS",
    "WIDTH",
    "Layout",
    "TimelineItem",
    "TimelineLabels",
    "layout_for",
    "render_timeline",
]

WIDTH = 1000
MAX_ROWS = 40

STATUSES = ("done", "in_progress", "blocked", "not_started")
RGB = tuple[int, int, int]
COLORS: dict[str, RGB] = {
    "done": (46, 160, 67),
    "in_progress": (31, 111, 235),
    "blocked": (215, 58, 73),
    "not_started": (150, 150, 150),
    "overdue": (110, 0, 0),  # outline and hatching over the status colour
    "today": (240, 130, 0),
}
_BACKGROUND: RGB = (255, 255, 255)
_STRIPE: RGB = (245, 246, 248)
_GRID: RGB = (222, 224, 228)
_TEXT: RGB = (33, 37, 41)
_MUTED: RGB = (108, 117, 125)

# Geometry (px). Rows: label and owner on the left, the bar in the chart on the right.
_MARGIN = 16
_LABEL_WIDTH = 290
_CHART_LEFT = _MARGIN + _LABEL_WIDTH + 12
_CHART_RIGHT = WIDTH - _MARGIN - 24  # room for the "?" markers of undated items
_TITLE_HEIGHT = 56
_AXIS_HEIGHT = 50
_ROW_HEIGHT = 44
_BAR_HEIGHT = 18
_MORE_HEIGHT = 28
_LEGEND_HEIGHT = 64


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One commitment. ``status`` is one of ``STATUSES`` (anything else is drawn as not started)."""

    label: str
    owner: str
    start: date | None
    due: date | None
    status: str


@dataclass(frozen=True, slots=True)
class TimelineLabels:
    """Words drawn on the picture, already translated by the caller."""

    done: str
    in_progress: str
    blocked: str
    not_started: str
    overdue: str
    today: str
    # "+{n}" line when items are left out; ``{n}`` is replaced by their number.
    more: str = "+{n}"
    # Twelve short month names for the axis; numbers are used when not given.
    months: tuple[str, ...] = (
        "01",
        "02",
        "03",
        "04",
        "05",
        "06",
        "07",
        "08",
        "09",
        "10",
        "11",
        "12",
    )


def _day(value: date | None) -> date | None:
    # A datetime is a date subclass but cannot be compared with one.
    return value.date() if isinstance(value, datetime) else value


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where things go; shared by the renderer and the tests that sample its pixels."""

    first: date  # first day on the axis (a month start)
    end: date  # day after the last one on the axis (a month start)
    plan_start: date
    rows: int  # rows drawn (at most MAX_ROWS)
    hidden: int  # items left out
    height: int

    @property
    def chart_top(self) -> int:
        return _TITLE_HEIGHT + _AXIS_HEIGHT

    @property
    def chart_bottom(self) -> int:
        return self.chart_top + max(self.rows, 1) * _ROW_HEIGHT  # an empty plan keeps one row

    def x(self, day: date) -> int:
        """Left edge of ``day`` on the axis."""
        span = (self.end - self.first).days
        offset = (day - self.first).days
        return _CHART_LEFT + round(offset * (_CHART_RIGHT - _CHART_LEFT) / span)

    def row_top(self, index: int) -> int:
        return self.chart_top + index * _ROW_HEIGHT

    def bar_box(self, index: int, item: TimelineItem) -> tuple[int, int, int, int] | None:
        """The bar of row ``index`` as (x0, y0, x1, y1), or None for an item without due date."""
        due = _day(item.due)
        if due is None:
            return None
        start = _day(item.start) or self.plan_start
        start = min(start, due)
        x0 = self.x(start)
        x1 = max(self.x(due + timedelta(days=1)), x0 + 6)  # a deadline is the end of its day
        y0 = self.row_top(index) + (_ROW_HEIGHT - _BAR_HEIGHT) // 2
        return x0, y0, x1, y0 + _BAR_HEIGHT

    def marker_center(self, index: int) -> tuple[int, int]:
        """Where the "?" of an item without due date is drawn."""
        return _CHART_RIGHT + 10, self.row_top(index) + _ROW_HEIGHT // 2


def layout_for(
    items: Sequence[TimelineItem], today: date, plan_start: date | None = None
) -> Layout:
    """Axis range and picture size for these items (whole months around every date and today)."""
    today = _day(today) or today
    days = [today]
    if plan_start is not None:
        days.append(_day(plan_start) or plan_start)
    for item in items:
        days.extend(d for d in (_day(item.start), _day(item.due)) if d is not None)
    first = _month_start(min(days))
    end = _next_month(max(days))
    if (end - first).days < 60:  # at least two months, so a lone date is not a full-width bar
        end = _next_month(end)
    rows = min(len(items), MAX_ROWS)
    hidden = len(items) - rows
    height = (
        _TITLE_HEIGHT
        + _AXIS_HEIGHT
        + max(rows, 1) * _ROW_HEIGHT
        + (_MORE_HEIGHT if hidden else 0)
        + _LEGEND_HEIGHT
    )
    start = _day(plan_start) if plan_start is not None else min(days)
    return Layout(first, end, start or first, rows, hidden, height)


def is_overdue(item: TimelineItem, today: date) -> bool:
    due = _day(item.due)
    return item.status != "done" and due is not None and due < today


def render_timeline(
    items: Sequence[TimelineItem],
    today: date,
    title: str,
    labels: TimelineLabels,
    *,
    plan_start: date | None = None,
) -> bytes:
    """The status picture as PNG bytes. Items are drawn in the order given.

    A bar runs from the item's start (else ``plan_start``, else the earliest date shown) to the
    end of its due day; an item without due date is a "?" marker at the right edge.
    """
    today = _day(today) or today
    layout = layout_for(items, today, plan_start)
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, layout.height), _BACKGROUND)
    draw = ImageDraw.Draw(image)

    _text(draw, (_MARGIN, 14), title, _font(22, bold=True), _TEXT, WIDTH - 2 * _MARGIN)
    _draw_axis(draw, layout, labels)

    for index, item in enumerate(items[: layout.rows]):
        _draw_row(draw, layout, index, item, today)

    # Today's line goes over the bars so it can be seen across the whole chart.
    if layout.first <= today < layout.end:
        x = layout.x(today)
        draw.rectangle((x - 1, layout.chart_top - 8, x, layout.chart_bottom), fill=COLORS["today"])
        font = _font(13, bold=True)
        word = _drawable(labels.today, font)
        width = _width(font, word)
        left = min(max(x - width // 2, _CHART_LEFT), WIDTH - _MARGIN - width)
        _text(draw, (left, _TITLE_HEIGHT - 8), labels.today, font, COLORS["today"], width + 2)

    bottom = layout.chart_bottom
    if layout.hidden:
        more = labels.more.replace("{n}", str(layout.hidden))
        _text(draw, (_MARGIN, bottom + 6), more, _font(14, bold=True), _MUTED, WIDTH)
        bottom += _MORE_HEIGHT
    _draw_legend(draw, bottom + 14, labels)

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- parts of the picture ------------------------------------------------------------------------


def _draw_axis(draw: ImageDraw.ImageDraw, layout: Layout, labels: TimelineLabels) -> None:
    months: list[date] = []
    month = layout.first
    while month < layout.end:
        months.append(month)
        month = _next_month(month)
    step = -(-len(months) // 12)  # at most ~12 labels, whatever the span
    font = _font(13)
    top = layout.chart_top
    bottom = layout.chart_bottom
    for index, month in enumerate(months):
        if index % step:
            continue
        x = layout.x(month)
        draw.line((x, top - 4, x, bottom), fill=_GRID, width=1)
        text = labels.months[month.month - 1] if len(labels.months) == 12 else str(month.month)
        following = months[index + step] if index + step < len(months) else layout.end
        room = layout.x(following) - x - 6
        _text(draw, (x + 4, _TITLE_HEIGHT + 12), text, font, _MUTED, room)
        # The year on a line of its own, where it starts or changes, so labels stay short.
        if index == 0 or month.month == 1:
            _text(draw, (x + 4, _TITLE_HEIGHT + 28), str(month.year), font, _MUTED, 80)
    draw.line((_CHART_LEFT, top, _CHART_RIGHT, top), fill=_GRID, width=1)


def _draw_row(
    draw: ImageDraw.ImageDraw, layout: Layout, index: int, item: TimelineItem, today: date
) -> None:
    top = layout.row_top(index)
    if index % 2:
        draw.rectangle((0, top, WIDTH, top + _ROW_HEIGHT - 1), fill=_STRIPE)
    _text(draw, (_MARGIN, top + 2), item.label, _font(15, bold=True), _TEXT, _LABEL_WIDTH)
    _text(draw, (_MARGIN, top + 23), item.owner, _font(13), _MUTED, _LABEL_WIDTH)

    color = COLORS[item.status] if item.status in STATUSES else COLORS["not_started"]
    box = layout.bar_box(index, item)
    if box is None:
        cx, cy = layout.marker_center(index)
        draw.ellipse((cx - 9, cy - 9, cx + 9, cy + 9), fill=color)
        font = _font(14, bold=True)
        draw.text((cx, cy), "?", font=font, fill=_BACKGROUND, anchor="mm")
        return
    draw.rectangle(box, fill=color)
    if is_overdue(item, today):
        _hatch(draw, box, COLORS["overdue"])
        draw.rectangle(box, outline=COLORS["overdue"], width=3)


def _hatch(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], color: RGB) -> None:
    """Diagonal stripes clipped to ``box``: 'late' stays visible to colour-blind readers."""
    x0, y0, x1, y1 = box
    height = y1 - y0
    for start in range(x0 - height, x1, 8):
        # Segment from (start, y1) to (start + height, y0), clipped horizontally to the box.
        a, b = max(start, x0), min(start + height, x1)
        if a >= b:
            continue
        draw.line((a, y1 - (a - start), b, y1 - (b - start)), fill=color, width=2)


def _draw_legend(draw: ImageDraw.ImageDraw, top: int, labels: TimelineLabels) -> None:
    font = _font(14)
    entries: list[tuple[str, str]] = [
        ("done", labels.done),
        ("in_progress", labels.in_progress),
        ("blocked", labels.blocked),
        ("not_started", labels.not_started),
        ("overdue", labels.overdue),
        ("today", labels.today),
    ]
    x, y = _MARGIN, top
    for key, word in entries:
        text = _drawable(word, font)
        width = 26 + min(_width(font, text), 200) + 22
        if x + width > WIDTH - _MARGIN:
            x, y = _MARGIN, y + 24
        if key == "overdue":
            box = (x, y + 2, x + 18, y + 16)
            draw.rectangle(box, fill=COLORS["not_started"])
            _hatch(draw, box, COLORS["overdue"])
            draw.rectangle(box, outline=COLORS["overdue"], width=2)
        elif key == "today":
            draw.rectangle((x + 8, y, x + 9, y + 18), fill=COLORS["today"])
        else:
            draw.rectangle((x, y + 2, x + 18, y + 16), fill=COLORS[key])
        # The box is the word's own width: a right-to-left word must not drift past its swatch.
        _text(draw, (x + 26, y), word, font, _TEXT, min(_width(font, text), 200) + 1)
        x += width


# --- text --------------------------------------------------------------------------------------


def _font_file() -> Path | None:
    try:
        import fontpkg_noto_sans_arabic  # optional at run time: a missing font is not a crash
    except ImportError:
        return None
    files = sorted((Path(fontpkg_noto_sans_arabic.__file__).parent / "files").glob("*.ttf"))
    return files[0] if files else None


@lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> _Font:
    from PIL import ImageFont

    path = _font_file()
    if path is not None:
        try:
            engine = ImageFont.Layout.RAQM if _can_shape() else ImageFont.Layout.BASIC
            font = ImageFont.truetype(str(path), size, layout_engine=engine)
            if bold:
                # Named instance of the variable font; a static build stays regular, fine too.
                with contextlib.suppress(OSError, ValueError):
                    font.set_variation_by_name("Bold")
            return font
        except OSError:
            pass
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=1)
def _can_shape() -> bool:
    from PIL import features

    return bool(features.check("raqm"))


def _has_arabic_font(font: _Font) -> bool:
    from PIL import ImageFont

    return isinstance(font, ImageFont.FreeTypeFont) and font.path == str(_font_file())


def _is_arabic(char: str) -> bool:
    return (
        "\u0600" <= char <= "\u06ff"
        or "\u0750" <= char <= "\u077f"
        or "\ufb50" <= char <= "\ufdff"
        or "\ufe70" <= char <= "\ufeff"
    )


_ARABIZI = {
    "ا": "a", "أ": "a", "إ": "i", "آ": "a", "ٱ": "a", "ب": "b", "ت": "t", "ث": "t", "ج": "j",
    "ح": "7", "خ": "kh", "د": "d", "ذ": "d", "ر": "r", "ز": "z", "س": "s", "ش": "ch", "ص": "s",
    "ض": "d", "ط": "t", "ظ": "d", "ع": "3", "غ": "gh", "ف": "f", "ق": "9", "ك": "k", "ڭ": "g",
    "گ": "g", "ل": "l", "م": "m", "ن": "n", "ه": "h", "ة": "a", "و": "w", "ؤ": "2", "ي": "y",
    "ى": "a", "ئ": "2", "ء": "2", "ڤ": "v", "پ": "p", "،": ",", "؛": ";", "؟": "?", "ـ": "",
}  # fmt: skip


_ASCII_PUNCTUATION = str.maketrans(
    {"—": "-", "–": "-", "’": "'", "‘": "'", "«": '"', "»": '"', "\u00a0": " "}
)


def _transliterate(text: str) -> str:
    """Arabic script to Arabizi, for fonts or builds that cannot draw Arabic."""
    out: list[str] = []
    for char in unicodedata.normalize("NFKC", text):
        if "\u0660" <= char <= "\u0669":
            out.append(str(ord(char) - 0x0660))
        elif char in _ARABIZI:
            out.append(_ARABIZI[char])
        elif _is_arabic(char) or unicodedata.combining(char):
            continue  # vowel marks and rare letters: left out rather than drawn as boxes
        else:
            out.append(char)
    return "".join(out)


def _drawable(text: str, font: _Font) -> str:
    """What of ``text`` this font can draw: one line, no control characters or emoji."""
    text = " ".join(text.split())
    text = "".join(c for c in text if unicodedata.category(c)[0] not in "CS" or c in "+$€%<>=")
    if any(_is_arabic(c) for c in text) and not (_has_arabic_font(font) and _can_shape()):
        text = _transliterate(text)
    if not _has_arabic_font(font):
        # Pillow's built-in font draws ASCII only: accents go, dashes become hyphens, the rest
        # is left out rather than drawn as boxes.
        text = text.translate(_ASCII_PUNCTUATION)
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if ord(c) < 128 or c == "…")
    return text


def _width(font: _Font, text: str) -> int:
    return int(font.getlength(text)) if text else 0


def _fit(text: str, font: _Font, max_width: int) -> str:
    """``text`` cut with "…" so it fits ``max_width`` (binary search on the logical string)."""
    if _width(font, text) <= max_width:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _width(font, text[:middle].rstrip() + "…") <= max_width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…"


def _text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[int, int],
    text: str,
    font: _Font,
    fill: RGB,
    max_width: int,
) -> None:
    """Draw one line of user text, truncated; right-aligned in its box if it reads right to left."""
    text = _fit(_drawable(text, font), font, max_width)
    if not text:
        return
    x, y = xy
    rtl = _is_rtl(text)
    if rtl:
        x += max_width - _width(font, text)
    draw.text((x, y), text, font=font, fill=fill)


def _is_rtl(text: str) -> bool:
    """True when the first strong character is right-to-left."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False
