"""The review queue of the understanding, in the browser: each message the bot did not
understand (or whose answer was "not what I asked"), masked, with the model's best guesses;
one click files it. Filing goes through `bot.review.service`, as /review in the chat does:
the same rule for a second coach's click, the same answer to the person who asked."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.core import audit
from bot.nlu.corpus import NONE
from bot.nlu.knowledge import title_of
from bot.nlu.understander import Understander
from bot.review import service
from bot.web.app import console_of, form_of, me_of, page, render, see_other, variant_of
from storage.models import InboundMessage, ReviewItem

PAGE_SIZE = 50


def routes(r: web.UrlDispatcher) -> None:
    r.add_get("/review", queue_page, name="web:review")
    r.add_post("/review/{id:\\d+}", file_item, name="web:review_file")


def _titles(understander: Understander, labels: list[str], variant: str) -> dict[str, str]:
    titles = {}
    for label in labels:
        entry = understander.entry(label)
        titles[label] = title_of(entry, variant) if entry is not None else label
    return titles


def _refuse_actors(request: web.Request) -> None:
    # Sign-in is for coaches and admins already; this page says so itself too.
    if not me_of(request).is_coach:
        raise web.HTTPNotFound()


async def queue_page(request: web.Request) -> web.Response:
    _refuse_actors(request)
    session = page(request).db
    understander = await console_of(request).understander()
    variant = variant_of(request)
    waiting = list(await service.pending(session))
    shown = waiting[:PAGE_SIZE]
    guesses = {item.id: service.best_guesses(understander, item.text) for item in shown}
    offered = service.offered_labels(understander)
    titles = _titles(
        understander, sorted(set(offered) | {g for gs in guesses.values() for g in gs}), variant
    )
    # Who is still waiting for an answer: filing under a topic answers them.
    asked = {
        m.id: m.received_at
        for m in await session.scalars(
            select(InboundMessage).where(
                InboundMessage.id.in_([i.message_id for i in shown if i.message_id])
            )
        )
    }
    answers_asker = {
        item.id: item.message_id in asked
        and page(request).now - asked[item.message_id] <= service.ANSWER_WITHIN
        for item in shown
    }
    context: dict[str, Any] = {
        "items": shown,
        "total": len(waiting),
        "guesses": guesses,
        "titles": titles,
        "offered": sorted(offered, key=lambda label: titles[label].casefold()),
        "answers_asker": answers_asker,
        "out_of_scope": NONE,
        "skip_label": service.SKIP,
        "done": request.query.get("done", ""),
        "filed_as": request.query.get("as", ""),
    }
    return render(request, "review.html", context)


async def file_item(request: web.Request) -> web.StreamResponse:
    _refuse_actors(request)
    session = page(request).db
    me = me_of(request)
    now = page(request).now
    understander = await console_of(request).understander()
    item = await session.get(ReviewItem, int(request.match_info["id"]))
    label = str((await form_of(request)).get("label", ""))
    if item is None:
        return see_other("/review?done=gone")
    if not service.can_file_under(understander, label):
        return see_other("/review?done=unknown")
    if not service.file(item, label, me, now):
        return see_other("/review?done=already")
    page(request).sent += await service.answer_asker(session, understander, item, me, now)
    await audit.record(
        session,
        me,
        "review",
        f"review:{item.id}",
        now,
        via="web",
        label=label,
        answered=bool(page(request).sent),
    )
    if label == service.SKIP:
        return see_other("/review?done=skipped")
    return see_other(f"/review?done=filed&as={label}")
