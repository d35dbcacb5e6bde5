"""The inbox and the case view. The actions call `bot.cases.work`, as the chat does, and
what a coach may open is `bot.cases.visibility`, as in the chat."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.cases import alerts, visibility, work
from bot.cases.labels import DEFAULT_SIGNATURE
from bot.core import audit
from bot.core.i18n import translator
from bot.plans import service as plans
from bot.web import files, queries
from bot.web.app import audit_read, console_of, form_of, me_of, page, render, see_other
from storage.models import (
    ActionPlan,
    Actor,
    CannedReply,
    Case,
    CaseCategory,
    CaseEvent,
    CaseNote,
    InboundMessage,
    Territory,
)

CONVERSATION = ("opened", "message_in", "message_out")
NOTE_LIMIT = 4000
REPLY_LIMIT = 3500  # a Telegram message holds 4096 characters, with the signature line


def routes(r: web.UrlDispatcher) -> None:
    r.add_get("/inbox", inbox, name="web:inbox")
    r.add_get("/inbox/rows", inbox_rows, name="web:inbox_rows")
    r.add_get("/case/{id:\\d+}", case_page, name="web:case")
    r.add_get("/case/{id:\\d+}/canned", canned_text, name="web:canned_text")
    r.add_get("/case/{id:\\d+}/file/{event:\\d+}", case_file, name="web:case_file")
    r.add_post("/case/{id:\\d+}/{action:take|reply|resolve|handover|note}", act, name="web:act")
    r.add_get("/canned", canned_page, name="web:canned")
    r.add_post("/canned", canned_add, name="web:canned_add")
    r.add_post("/canned/{id:\\d+}/delete", canned_delete, name="web:canned_delete")


# -- the inbox ----------------------------------------------------------------------------------


async def _inbox_context(request: web.Request) -> dict[str, Any]:
    session = page(request).db
    filters = queries.Filters.parse(dict(request.query))
    found, counts = await queries.inbox(session, me_of(request), filters, page(request).now)
    people = await queries.names(
        session, {c.actor_id for c in found} | {c.coach_id for c in found if c.coach_id}
    )
    places = await queries.territories(session)
    visible_plans = await plans.plans_visible_to(session, me_of(request))
    plan_titles = {p.id: p.title for p in visible_plans}
    for case in found:
        if case.plan_id and case.plan_id not in plan_titles:
            plan = await session.get(ActionPlan, case.plan_id)
            plan_titles[case.plan_id] = plan.title if plan else ""
    return {
        "cases": found,
        "counts": counts,
        "filters": filters,
        "people": people,
        "places": places,
        "plan_titles": plan_titles,
        "plans": visible_plans,
        "categories": list(CaseCategory),
        "query": request.query_string,
    }


async def inbox(request: web.Request) -> web.Response:
    return render(request, "inbox.html", await _inbox_context(request))


async def inbox_rows(request: web.Request) -> web.Response:
    """The list alone, polled by the page every few seconds (live updates)."""
    return render(request, "_inbox_rows.html", await _inbox_context(request))


# -- one case -----------------------------------------------------------------------------------


async def _visible_case(request: web.Request) -> Case:
    """The case of the URL if this coach may see it; otherwise "not found", as if it did not
    exist (nothing is revealed about other coaches' cases)."""
    case = await page(request).db.get(Case, int(request.match_info["id"]))
    if case is None or not await visibility.can_see(page(request).db, me_of(request), case):
        raise web.HTTPNotFound(text="not found")
    return case


async def case_page(request: web.Request) -> web.Response:
    session = page(request).db
    case = await _visible_case(request)
    await audit_read(request, f"case:{case.id}", via="web")
    events = list(
        (
            await session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
            )
        ).all()
    )
    notes = list(
        (
            await session.scalars(
                select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id)
            )
        ).all()
    )
    before: list[InboundMessage] = await alerts.recent_messages(session, case)
    people = await queries.names(
        session,
        {case.actor_id}
        | {e.actor_id for e in events if e.actor_id}
        | {n.author_id for n in notes}
        | ({case.coach_id} if case.coach_id else set()),
    )
    territory = await session.get(Territory, case.territory_id) if case.territory_id else None
    plan = await session.get(ActionPlan, case.plan_id) if case.plan_id else None
    canned = list(
        (
            await session.scalars(
                select(CannedReply).where(CannedReply.lang == case.lang).order_by(CannedReply.title)
            )
        ).all()
    )
    others = await work.handover_candidates(session, me_of(request))
    opened = next((e for e in events if e.kind == "opened"), None)
    answers = (opened.details or {}).get("answers", {}) if opened else {}
    settings = console_of(request).settings
    # A file can be shown when its id is Telegram's and the console holds the bot's token:
    # the id belongs to the channel of whoever sent it.
    fetchable = {
        e.id
        for e in events
        if e.file_id
        and e.actor_id in people
        and files.fetchable(settings, people[e.actor_id].channel)
    }
    me = me_of(request)
    t_actor = translator(case.lang)
    signed = me.coach_signature or t_actor.gettext(DEFAULT_SIGNATURE)
    return render(
        request,
        "case.html",
        {
            "case": case,
            "actor": people.get(case.actor_id),
            "events": events,
            "conversation": [
                e for e in events if e.kind in ("opened", "message_in", "message_out")
            ],
            "history": [e for e in events if e.kind not in ("message_in", "message_out")],
            "notes": notes,
            "before": before,
            "people": people,
            "territory": territory,
            "plan": plan,
            "canned": canned,
            "others": others,
            "answers": answers,
            "answer_labels": alerts.ANSWER_LABELS,
            "signature": signed,
            "done": request.query.get("done", ""),
            "closed": case.status in work.CLOSED,
            "text": "",
            "reply_limit": REPLY_LIMIT,
            "fetchable": fetchable,
            "file_kinds": files.KINDS,
            "file_kind_default": files.FILE,
        },
    )


async def case_file(request: web.Request) -> web.StreamResponse:
    """A file of the conversation, for whoever may see the case: fetched from the Bot API by
    its id the first time, then from the cache. Each showing is in the audit trail."""
    session = page(request).db
    case = await _visible_case(request)
    found = await session.get(CaseEvent, int(request.match_info["event"]))
    if found is None or found.case_id != case.id or not found.file_id:
        raise web.HTTPNotFound()
    sender = await session.get(Actor, found.actor_id) if found.actor_id else None
    console = console_of(request)
    if console.files is None or not files.fetchable(
        console.settings, sender.channel if sender else None
    ):
        raise web.HTTPNotFound()
    kind = str((found.details or {}).get("kind") or "file")
    # Fetched before anything is written, so no write transaction waits on the network.
    try:
        fetched = await console.files.get(found.file_id)
    except files.FileUnavailable:
        return web.Response(status=502, text="file unavailable")
    await audit_read(request, f"case:{case.id}", via="web", file_event=found.id, kind=kind)
    headers = {"Content-Type": fetched.content_type}
    if not files.shown_inline(kind, fetched.content_type):
        # Documents (and anything not of its kind's type) are downloaded, never rendered by
        # the browser from the console's own origin.
        name = f"case{case.id}-{files.safe_name(kind)}-{found.id}{fetched.suffix}"
        headers["Content-Type"] = "application/octet-stream"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    if fetched.path is not None:
        return web.FileResponse(fetched.path, headers=headers)
    return web.Response(body=fetched.body, headers=headers)


async def canned_text(request: web.Request) -> web.Response:
    """The reply box filled with a saved answer, for the coach to edit before sending."""
    case = await _visible_case(request)
    raw = request.query.get("canned", "")
    reply = await page(request).db.get(CannedReply, int(raw)) if raw.isdigit() else None
    text = reply.text if reply is not None and reply.lang == case.lang else ""
    return render(request, "_reply_box.html", {"text": text, "reply_limit": REPLY_LIMIT})


async def act(request: web.Request) -> web.StreamResponse:
    session = page(request).db
    case = await _visible_case(request)
    action = request.match_info["action"]
    form = await form_of(request)
    me = me_of(request)
    console = console_of(request)
    desk = work.Desk(
        session=session,
        coach=me,
        now=page(request).now,
        settings=console.settings,
        ref=f"web{secrets.token_hex(6)}",
        channel=me.channel,
        sent=page(request).sent,
    )
    done = action
    if action == "take":
        outcome = await work.take(desk, case)
        done = {work.Take.TAKEN: "taken", work.Take.ALREADY_TAKEN: "already_taken"}.get(
            outcome, "already_resolved"
        )
    elif action == "resolve":
        done = "resolved" if await work.resolve(desk, case) else "already_resolved"
    elif action == "handover":
        raw = str(form.get("coach", ""))
        coach = await work.handover(desk, case, int(raw)) if raw.isdigit() else None
        done = "handed_over" if coach is not None else "no_coach"
    elif action == "reply":
        text = str(form.get("text", "")).strip()[:REPLY_LIMIT]
        if not text:
            done = "empty"
        else:
            await work.relay(desk, case, text)
            await audit.record(
                session,
                me,
                "reply",
                f"case:{case.id}",
                page(request).now,
                via="web",
                chars=len(text),
            )
            done = "sent"
    elif action == "note":
        text = str(form.get("text", "")).strip()[:NOTE_LIMIT]
        if text:
            session.add(CaseNote(case_id=case.id, author_id=me.id, at=page(request).now, text=text))
            done = "noted"
        else:
            done = "empty"
    return see_other(f"/case/{case.id}?done={done}")


# -- canned replies -----------------------------------------------------------------------------


async def canned_page(request: web.Request) -> web.Response:
    found = list(
        (
            await page(request).db.scalars(
                select(CannedReply).order_by(CannedReply.lang, CannedReply.title)
            )
        ).all()
    )
    return render(request, "canned.html", {"replies": found})


async def canned_add(request: web.Request) -> web.StreamResponse:
    form = await form_of(request)
    lang = str(form.get("lang", ""))
    title = str(form.get("title", "")).strip()[:120]
    text = str(form.get("text", "")).strip()[:REPLY_LIMIT]
    if lang in ("fr", "ary", "ary-Latn") and title and text:
        page(request).db.add(
            CannedReply(
                lang=lang,
                title=title,
                text=text,
                author_id=me_of(request).id,
                created_at=page(request).now,
            )
        )
    return see_other("/canned")


async def canned_delete(request: web.Request) -> web.StreamResponse:
    reply = await page(request).db.get(CannedReply, int(request.match_info["id"]))
    if reply is not None:
        await page(request).db.delete(reply)
    return see_other("/canned")
