"""Property-based tests: whatever people send, in whatever order, nothing crashes, everything
is stored, and every reply is valid for the Bot API."""

from __future__ import annotations

import itertools
from datetime import timedelta
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.core.effects import CALLBACK_DATA_LIMIT, Effect, SendMessage, body
from bot.core.events import Attachment
from bot.core.telegram_html import MESSAGE_LIMIT
from storage.models import InboundMessage
from tests.driver import Hotline

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a"}
PREFIXES = ["framework", "lang", "intent", "unanswered", "privacy", "nothing"]
ARABIC = st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=ARABIC, max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.sampled_from(
        ["<b>", "</i>", "&amp;", "<script>x</script>", "/", "/lang ary", "stop", "/<i>oops"]
    ),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["a", "ش", "😀", "\x00", "\n"]), st.integers(4000, 5000)
    ),
    st.builds(lambda t: "/" + t, st.text(max_size=20)),
)
BUTTON = st.one_of(
    st.builds(
        lambda prefix, fields: ":".join([prefix, *fields]),
        st.sampled_from(PREFIXES),
        st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", max_size=8), max_size=3),
    ),
    st.text(max_size=64).filter(lambda t: len(t.encode()) <= CALLBACK_DATA_LIMIT),
)
ACTION = st.one_of(
    st.tuples(st.just("text"), TEXT),
    st.tuples(st.just("button"), BUTTON),
    st.tuples(st.just("attachment"), st.sampled_from(["voice", "photo", "document"])),
    st.tuples(st.just("unsupported"), st.sampled_from(["sticker", "location", "x" * 40])),
)
STEP = st.tuples(st.integers(0, 1), ACTION, st.integers(0, 3000))  # who, what, seconds later
_runs = itertools.count()


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")


def check_effect(effect: Effect) -> None:
    text = body(effect)
    if isinstance(effect, SendMessage):
        assert text.strip(), "empty message"
        assert len(text) <= MESSAGE_LIMIT
    else:
        assert len(text) <= 1024  # caption limit
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert checker.problems == [] and checker.stack == [], (checker.problems, text[:200])
    for row in effect.buttons:
        for button in row:
            assert button.label.strip()
            assert len(button.data.encode()) <= CALLBACK_DATA_LIMIT


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=12))
async def test_any_sequence_of_events(hotline: Hotline, steps: list) -> None:  # type: ignore[type-arg]
    engine = hotline.engine
    run = next(_runs)
    names = [f"p{run}a", f"p{run}b"]
    people = [hotline.newcomer(name, display_name="Ünïcode 👩🏽") for name in names]
    for number, (who, (kind, value), later) in enumerate(steps):
        engine.clock.advance(timedelta(seconds=later))
        content: dict[str, object] = {}
        if kind == "text":
            content["text"] = value
        elif kind == "button":
            content["button"] = value
        elif kind == "attachment":
            content["attachment"] = Attachment(value, f"file-{number}")
        else:
            content["unsupported"] = value
        for effect in await people[who].send(**content):
            check_effect(effect)
    async with engine.db.transaction() as session:
        stored = await session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.chat_id.in_(names))
        )
        errors = (
            await session.scalars(
                select(InboundMessage.error).where(
                    InboundMessage.chat_id.in_(names), InboundMessage.error.is_not(None)
                )
            )
        ).all()
    assert stored == len(steps)
    assert errors == []
