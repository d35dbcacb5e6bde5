"""The committee's status picture."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from PIL import Image

from bot.plans import timeline
from bot.plans.timeline import (
    COLORS,
    MAX_ROWS,
    WIDTH,
    TimelineItem,
    TimelineLabels,
    layout_for,
    render_timeline,
)

LABELS = TimelineLabels(
    done="done",
    in_progress="in progress",
    blocked="blocked",
    not_started="not started",
    overdue="overdue",
    today="today",
    more="+{n} more",
)
PLAN_START = date(2013, 1, 31)
ITEMS = [
    TimelineItem(
        "Réunion d'échange/préparatoire", "M Jaouad ELAFOUI", None, date(2013, 3, 3), "done"
    ),
    TimelineItem("Vision globale", "Comité TS", date(2013, 2, 1), date(2013, 4, 28), "in_progress"),
    TimelineItem("Diagnostic du BK", "Comité TS", date(2013, 2, 15), date(2013, 3, 31), "blocked"),
    TimelineItem("Évaluation", "Comité TS", date(2013, 4, 1), date(2013, 5, 7), "not_started"),
]


def render(items: list[TimelineItem], today: date, **kwargs: object) -> Image.Image:
    png = render_timeline(items, today, "Plan d'action — Bouanane", LABELS, **kwargs)  # type: ignore[arg-type]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image.convert("RGB")


def center(box: tuple[int, int, int, int]) -> tuple[int, int]:
    x0, y0, x1, y1 = box
    return (x0 + x1) // 2, (y0 + y1) // 2


def test_size_grows_with_rows() -> None:
    one = render(ITEMS[:1], date(2013, 2, 10))
    four = render(ITEMS, date(2013, 2, 10))
    assert one.width == four.width == WIDTH
    assert four.height > one.height
    assert four.size == (WIDTH, layout_for(ITEMS, date(2013, 2, 10), PLAN_START).height)


def test_each_status_colour_and_today_line_where_expected() -> None:
    today = date(2013, 2, 20)  # before every due date: nothing is overdue
    image = render(ITEMS, today, plan_start=PLAN_START)
    layout = layout_for(ITEMS, today, PLAN_START)
    for index, item in enumerate(ITEMS):
        box = layout.bar_box(index, item)
        assert box is not None
        x, y = center(box)
        if abs(x - layout.x(today)) < 3:
            x = box[2] - 3
        assert image.getpixel((x, y)) == COLORS[item.status], item.status
    # Bars follow the dates: the one due last ends furthest right.
    assert layout.bar_box(1, ITEMS[1])[2] > layout.bar_box(2, ITEMS[2])[2]  # type: ignore[index]
    # An item without start begins at the plan's start.
    assert layout.bar_box(0, ITEMS[0])[0] == layout.x(PLAN_START)  # type: ignore[index]
    # Today's line crosses every row, on top of the bars.
    x = layout.x(today)
    for index in range(len(ITEMS)):
        assert image.getpixel((x, layout.row_top(index) + 1)) == COLORS["today"]
    assert image.getpixel((x, layout.bar_box(1, ITEMS[1])[1] + 2)) == COLORS["today"]  # type: ignore[index]


def test_overdue_bars_are_outlined_and_done_ones_are_not() -> None:
    today = date(2013, 4, 10)  # "done" and "blocked" are past due; only "blocked" is late
    image = render(ITEMS, today, plan_start=PLAN_START)
    layout = layout_for(ITEMS, today, PLAN_START)
    done = layout.bar_box(0, ITEMS[0])
    blocked = layout.bar_box(2, ITEMS[2])
    assert done is not None and blocked is not None
    assert image.getpixel((done[0] + 1, done[1] + 1)) == COLORS["done"]
    assert image.getpixel((blocked[0] + 1, blocked[1] + 1)) == COLORS["overdue"]
    inside = [image.getpixel((x, blocked[1] + 8)) for x in range(blocked[0] + 4, blocked[2] - 4)]
    assert COLORS["blocked"] in inside and COLORS["overdue"] in inside  # hatched
    assert timeline.is_overdue(ITEMS[2], today)
    assert not timeline.is_overdue(ITEMS[0], today)


def test_items_without_dates_are_question_marks_at_the_right() -> None:
    items = [
        TimelineItem("Journée d'étude", "Comité TS", None, None, "not_started"),
        TimelineItem("Sans date", "", date(2013, 2, 1), None, "blocked"),
    ]
    today = date(2013, 2, 10)
    image = render(items, today)
    layout = layout_for(items, today)
    for index, item in enumerate(items):
        assert layout.bar_box(index, item) is None
        cx, cy = layout.marker_center(index)
        assert image.getpixel((cx - 6, cy)) == COLORS[item.status]


def test_zero_items() -> None:
    image = render([], date(2013, 2, 10))
    assert image.size == (WIDTH, layout_for([], date(2013, 2, 10)).height)


def test_today_outside_the_dates_widens_the_axis() -> None:
    today = date(2014, 6, 1)
    layout = layout_for(ITEMS, today)
    assert layout.first == date(2013, 2, 1) and layout.end > today
    image = render(ITEMS, today)
    assert image.getpixel((layout.x(today), layout.row_top(0) + 1)) == COLORS["today"]


def test_hundred_items_are_capped_with_a_more_line() -> None:
    items = [
        TimelineItem(f"Action {n}", "Comité", None, date(2013, 2 + n % 10, 1 + n % 27), "done")
        for n in range(100)
    ]
    today = date(2013, 5, 1)
    layout = layout_for(items, today)
    assert (layout.rows, layout.hidden) == (MAX_ROWS, 60)
    capped = render(items, today)
    assert capped.size == (WIDTH, layout.height)
    assert capped.height == render(items[:MAX_ROWS], today).height + 28  # the "+60 more" line
    assert capped.height < 2300  # still a phone picture


def test_arabic_and_long_labels_do_not_crash() -> None:
    items = [
        TimelineItem(
            "تنظيم يوم تحسيسي لفائدة الشباب في الدوار " * 5,
            "رئيس الجمعية",
            None,
            date(2013, 3, 1),
            "blocked",
        ),
        TimelineItem(
            "Réunion مع الجماعة 🙂\u200f\x00", "\t", None, date(2013, 3, 1), "in_progress"
        ),
        TimelineItem("", "", None, None, "unknown-status"),
    ]
    image = render(items, date(2013, 2, 1))
    layout = layout_for(items, date(2013, 2, 1))
    box = layout.bar_box(0, items[0])
    assert box is not None
    assert image.getpixel(center(box)) == COLORS["blocked"]
    cx, cy = layout.marker_center(2)
    assert image.getpixel((cx - 6, cy)) == COLORS["not_started"]  # unknown status: grey


def test_datetimes_are_drawn_as_their_day() -> None:
    # A meeting has a time of day; on the timeline it is its day, as if given as a date.
    timed = [TimelineItem("Réunion", "Comité", None, datetime(2013, 2, 3, 10, 30), "done")]
    dated = [TimelineItem("Réunion", "Comité", None, date(2013, 2, 3), "done")]
    today = date(2013, 2, 1)
    image = render(timed, today, plan_start=datetime(2013, 1, 31, 9, 0))
    assert image.tobytes() == render(dated, today, plan_start=date(2013, 1, 31)).tobytes()
    layout = layout_for(timed, today, datetime(2013, 1, 31, 9, 0))
    box = layout.bar_box(0, timed[0])
    assert box is not None and (box[0], box[2]) == (
        layout.x(date(2013, 1, 31)),
        layout.x(date(2013, 2, 4)),  # a deadline is the end of its day
    )


def test_label_truncation_fits_the_column() -> None:
    font = timeline._font(15, bold=True)
    text = timeline._fit(
        "Diagnostic du BK en matière de TS (FFOM)/ visite d'investigation", font, 200
    )
    assert text.endswith("…")
    assert font.getlength(text) <= 200


@pytest.fixture
def without_arabic_font(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Simulate an install without the font package and without libraqm."""
    monkeypatch.setattr(timeline, "_font_file", lambda: None)
    monkeypatch.setattr(timeline, "_can_shape", lambda: False)
    timeline._font.cache_clear()
    yield
    timeline._font.cache_clear()


def test_fallback_font_transliterates_arabic(without_arabic_font: None) -> None:
    font = timeline._font(15)
    assert not timeline._has_arabic_font(font)
    assert timeline._drawable("رئيس الجمعية", font) == "r2ys aljm3ya"
    assert timeline._drawable("Siège — ١٢ ✓ ŝ «x»", font) == 'Siege - 12  s "x"'
    items = [TimelineItem("تنظيم يوم تحسيسي", "رئيس الجمعية", None, date(2013, 3, 1), "done")]
    image = render(items, date(2013, 2, 1))
    assert image.width == WIDTH


def test_bundled_font_draws_arabic_when_available() -> None:
    font = timeline._font(15)
    if not (timeline._has_arabic_font(font) and timeline._can_shape()):
        pytest.skip("font package or libraqm not installed")
    assert timeline._drawable("رئيس الجمعية", font) == "رئيس الجمعية"
