"""/review for coaches, and "not what I asked" for everyone.

A coach sees one queued message at a time with the model's best guesses as buttons: one tap
files it. Filed under a knowledge topic, the person who asked (recently) gets the answer; every
filed message joins the training data at the next /reload.
"""

from __future__ import annotations

from datetime import timedelta

from bot.access import COACHES, requires
from bot.effects import Button, Keyboard
from bot.i18n import N_, translator
from bot.nlu.corpus import NONE
from bot.nlu.knowledge import title_of
from bot.review import service
from bot.router import Router
from bot.text import escape
from bot.turn import Turn
from storage.models import Actor, InboundMessage, ReviewItem, ReviewReason

router = Router("review")

# A person still waits for an answer this long after asking; later, filing teaches the model
# only (an answer days later about a question they have forgotten would puzzle them).
ANSWER_WITHIN = timedelta(days=3)
GUESSES = 3
# Labels offered under "Other label…", two a row; the rest are small talk and never asked.
_NOT_OFFERED = frozenset({"greeting", "goodbye", "thanks", "acknowledge"})
_VARIANT_NAMES = {
    "fr": N_("French"),
    "ary": N_("Darija in Arabic script"),
    "ary-Latn": N_("Darija in Latin letters"),
}


@router.command("review", "revue")
@requires(COACHES)
async def review(turn: Turn, _argument: str) -> None:
    await _show_next(turn, after_id=0)


async def _show_next(turn: Turn, after_id: int) -> None:
    item = await service.next_pending(turn.session, after_id)
    if item is None:
        await turn.reply(turn._("Nothing left to review. Thank you!"))
        return
    left = await service.pending_count(turn.session)
    await turn.reply(_card(turn, item, left), _guess_buttons(turn, item))


def _card(turn: Turn, item: ReviewItem, left: int) -> str:
    reason = (
        turn._("not answered")
        if item.reason == ReviewReason.UNANSWERED
        else turn._("answer marked as not what was asked")
    )
    head = turn.t.ngettext("Review: {n} message waiting.", "Review: {n} messages waiting.", left)
    return "\n".join(
        [
            f"<b>{escape(head)}</b>",
            f"«{escape(item.text)}»",
            escape(f"{turn._(_VARIANT_NAMES.get(item.lang, 'French'))} · {reason}"),
            escape(turn._("Which question is it? One tap files it.")),
        ]
    )


def _guess_buttons(turn: Turn, item: ReviewItem) -> Keyboard:
    understander = turn.engine.understander
    scores = understander.scores(item.text)
    ranked = [
        label
        for label, _ in sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        if label != NONE and understander.entry(label) is not None
    ][:GUESSES]
    rows: list[tuple[Button, ...]] = [
        (Button(_title(turn, label), f"rv:{item.id}:{label}"),) for label in ranked
    ]
    rows.append(
        (
            Button(turn._("Other label…"), f"rv:{item.id}:more"),
            Button(turn._("Out of scope"), f"rv:{item.id}:{NONE}"),
        )
    )
    rows.append((Button(turn._("Skip"), f"rv:{item.id}:{service.SKIP}"),))
    return tuple(rows)


def _title(turn: Turn, label: str) -> str:
    entry = turn.engine.understander.entry(label)
    return title_of(entry, turn.lang) if entry is not None else label


def _all_labels(turn: Turn, item: ReviewItem) -> Keyboard:
    understander = turn.engine.understander
    labels = [label for label in understander.labels if label not in _NOT_OFFERED]
    buttons = [Button(_title(turn, label), f"rv:{item.id}:{label}") for label in labels]
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    rows.append((Button(turn._("Out of scope"), f"rv:{item.id}:{NONE}"),))
    return tuple(rows)


@router.button("rv")
@requires(COACHES)
async def review_button(turn: Turn, fields: list[str]) -> None:
    if len(fields) != 2 or not fields[0].isdigit():
        await turn.reply(turn._("This button is no longer active."))
        return
    item = await turn.session.get(ReviewItem, int(fields[0]))
    label = fields[1]
    if item is None:
        await turn.reply(turn._("This message is no longer in the queue."))
        await _show_next(turn, after_id=0)
        return
    if label == "more":
        await turn.reply(turn._("Choose the label:"), _all_labels(turn, item))
        return
    known = label in (NONE, service.SKIP) or turn.engine.understander.entry(label) is not None
    if not known:
        await turn.reply(turn._("This button is no longer active."))
        return
    if not service.file(item, label, turn.actor, turn.now):
        await turn.reply(turn._("Another coach already filed this message."))
    elif label == service.SKIP:
        await turn.reply(turn._("Skipped: it will not be used for learning."))
    else:
        name = turn._("Out of scope") if label == NONE else _title(turn, label)
        await turn.reply(
            turn._(
                "Filed under «{label}». It will be learnt at the next /reload.",
                label=escape(name),
            )
        )
        await _answer_the_asker(turn, item, label)
    await _show_next(turn, after_id=item.id)


async def _answer_the_asker(turn: Turn, item: ReviewItem, label: str) -> None:
    """The person who asked gets the answer, if the question is a topic and recent."""
    if item.message_id is None:
        return
    message = await turn.session.get(InboundMessage, item.message_id)
    if message is None or turn.now - message.received_at > ANSWER_WITHIN:
        return
    asker = await turn.session.get(Actor, message.actor_id)
    # In the variant of the question, unless the person chose one.
    lang = (asker.lang if asker.lang_chosen else item.lang) if asker else "fr"
    answer = turn.engine.understander.answer(label, lang) if asker else None
    if asker is None or answer is None or not asker.reachable or asker.id == turn.actor.id:
        return
    t = translator(lang)
    await turn.send_to(
        asker,
        t.gettext(
            "A coach looked at your question «{question}». Here is the answer:",
            question=escape(message.text or ""),
        )
        + "\n\n"
        + escape(answer),
    )


@router.button("nothelp")
async def not_helpful(turn: Turn, fields: list[str]) -> None:
    """The person says the answer was not what they asked: queue the question, offer a coach."""
    message = None
    if fields[:1] and fields[0].isdigit():
        message = await turn.session.get(InboundMessage, int(fields[0]))
    if message is None or message.actor_id != turn.actor.id:
        await turn.reply(turn._("This button is no longer active."))
        return
    guess = message.intent if message.intent and message.intent != NONE else None
    await service.enqueue(
        turn.session, message, turn.actor, ReviewReason.NOT_HELPFUL, guess, turn.now
    )
    await turn.reply(
        turn._(
            "Sorry about that. Your question goes to the coaches so the answers improve. "
            "Would you like a coach to answer it?"
        ),
        (
            (Button(turn._("Send it to a coach"), f"unanswered:send:{message.id}"),),
            (Button(turn._("No, thank you"), "unanswered:no"),),
        ),
    )
