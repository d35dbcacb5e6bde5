"""/review for coaches, and "not what I asked" for everyone.

A coach sees one queued message at a time with the model's best guesses as buttons: one tap
files it. Filed under a knowledge topic, the person who asked (recently) gets the answer; every
filed message joins the training data at the next /reload.
"""

from __future__ import annotations

from bot.cases.buttons import Unanswered
from bot.core.access import COACHES, requires
from bot.core.callback import CallbackData
from bot.core.effects import Button, Keyboard
from bot.core.i18n import N_
from bot.core.router import Router
from bot.core.telegram_html import escape
from bot.core.turn import Turn
from bot.nlu.corpus import NONE
from bot.nlu.knowledge import title_of
from bot.review import service
from storage.models import InboundMessage, ReviewItem, ReviewReason

router = Router("review")


class ReviewLabel(CallbackData, prefix="rv"):
    """A coach files a queued message: rv:<item>:<label, more, none or skip>."""

    item_id: int
    label: str


class NotHelpful(CallbackData, prefix="nothelp"):
    """ "Not what I asked" under an answer: nothelp:<message answered>."""

    message_id: int


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
    ranked = service.best_guesses(turn.engine.understander, item.text)
    rows: list[tuple[Button, ...]] = [
        (Button(_title(turn, label), ReviewLabel(item.id, label).pack()),) for label in ranked
    ]
    rows.append(
        (
            Button(turn._("Other label…"), ReviewLabel(item.id, "more").pack()),
            Button(turn._("Out of scope"), ReviewLabel(item.id, NONE).pack()),
        )
    )
    rows.append((Button(turn._("Skip"), ReviewLabel(item.id, service.SKIP).pack()),))
    return tuple(rows)


def _title(turn: Turn, label: str) -> str:
    entry = turn.engine.understander.entry(label)
    return title_of(entry, turn.lang) if entry is not None else label


def _all_labels(turn: Turn, item: ReviewItem) -> Keyboard:
    labels = service.offered_labels(turn.engine.understander)
    buttons = [Button(_title(turn, label), ReviewLabel(item.id, label).pack()) for label in labels]
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    rows.append((Button(turn._("Out of scope"), ReviewLabel(item.id, NONE).pack()),))
    return tuple(rows)


@router.button(ReviewLabel)
@requires(COACHES)
async def review_button(turn: Turn, button: ReviewLabel) -> None:
    item = await turn.session.get(ReviewItem, button.item_id)
    label = button.label
    if item is None:
        await turn.reply(turn._("This message is no longer in the queue."))
        await _show_next(turn, after_id=0)
        return
    if label == "more":
        await turn.reply(turn._("Choose the label:"), _all_labels(turn, item))
        return
    understander = turn.engine.understander
    if not service.can_file_under(understander, label):
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
        turn.sent += await service.answer_asker(
            turn.session, understander, item, turn.actor, turn.now, cause_id=turn.message.id
        )
    await _show_next(turn, after_id=item.id)


@router.button(NotHelpful)
async def not_helpful(turn: Turn, button: NotHelpful) -> None:
    """The person says the answer was not what they asked: queue the question, offer a coach."""
    message = await turn.session.get(InboundMessage, button.message_id)
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
            (Button(turn._("Send it to a coach"), Unanswered("send", message.id).pack()),),
            (Button(turn._("No, thank you"), Unanswered("no").pack()),),
        ),
    )
