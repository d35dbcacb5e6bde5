"""Who is alerted about a case, and the card they receive.

A recipient is a coach's private chat or the coaches' group chat. Every alert carries a
dedup key, so a scan or a retried transaction never alerts anyone twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import labels, lifecycle
from bot.cases.buttons import CaseAction
from bot.cases.routing import COACH_ROLES
from bot.core.config import Settings
from bot.core.effects import CAPTIONLESS, Button, Keyboard
from bot.core.i18n import N_, Translator, translator
from bot.core.outbox import enqueue
from bot.core.telegram_html import CAPTION_LIMIT, escape, to_plain, utf16_len
from storage.models import (
    ActionPlan,
    Actor,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseSeverity,
    InboundKind,
    InboundMessage,
    OutboxMessage,
    Priority,
    Role,
    Territory,
)

GROUP_CHANNEL = "telegram"  # the coaches' group chat lives on Telegram
RECENT_MESSAGES = 3


@dataclass(frozen=True)
class Recipient:
    channel: str
    chat_id: str
    lang: str
    key: str  # stable part of dedup keys: "a<actor id>" or "group"
    actor_id: int | None = None

    @classmethod
    def of(cls, actor: Actor) -> Recipient:
        return cls(actor.channel, actor.chat_id, actor.lang, f"a{actor.id}", actor.id)


@dataclass(frozen=True)
class SharedFile:
    """A file someone sent (kind, channel file id) and the channel whose id it is."""

    kind: str
    file_id: str
    channel: str

    def line(self, t: Translator) -> str:
        """What is said of it where the file itself cannot go (another channel), in the
        recipient's variant; the id stays as is, for whoever fetches the file by hand."""
        kind = labels.label(t, labels.FILE_KIND, self.kind)
        return f"📎 {escape(kind)}: <code>{escape(self.file_id)}</code>"


async def enqueue_with_file(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    text: str,
    now: datetime,
    t: Translator,
    file: SharedFile | None = None,
    missing: str | None = None,
    buttons: Keyboard = (),
    actor_id: int | None = None,
    cause_id: int | None = None,
    dedup_key: str | None = None,
    about_id: int | None = None,
) -> list[OutboxMessage]:
    """A message that carries a file as the file itself, sent on by id (nothing downloaded).

    The text becomes the file's caption when it fits; otherwise the text goes first and the
    file follows with the buttons. A file id means nothing on another channel: there the
    text says what was sent instead (`missing`, else the kind and id, in `t`'s variant).
    """

    async def put(
        body: str, keys: Keyboard, key: str | None, ref: SharedFile | None
    ) -> list[OutboxMessage]:
        return await enqueue(
            session,
            channel=channel,
            chat_id=chat_id,
            text=body,
            now=now,
            buttons=keys,
            file_ref=(ref.kind, ref.file_id) if ref else None,
            actor_id=actor_id,
            cause_id=cause_id,
            dedup_key=key,
            about_id=about_id,
            priority=Priority.URGENT,  # cases: alerts, relays and replies go first
        )

    if file is None:
        return await put(text, buttons, dedup_key, None)
    if file.channel != channel:
        return await put(f"{text}\n{missing or file.line(t)}", buttons, dedup_key, None)
    if file.kind not in CAPTIONLESS and utf16_len(to_plain(text)) <= CAPTION_LIMIT:
        return await put(text, buttons, dedup_key, file)
    rows = await put(text, (), dedup_key, None)
    return rows + await put("", buttons, f"{dedup_key}:file" if dedup_key else None, file)


def _unique(recipients: list[Recipient]) -> list[Recipient]:
    seen: set[tuple[str, str]] = set()
    out = []
    for r in recipients:
        if (r.channel, r.chat_id) not in seen:
            seen.add((r.channel, r.chat_id))
            out.append(r)
    return out


async def coaches(session: AsyncSession, *conditions: ColumnElement[bool]) -> list[Actor]:
    query = select(Actor).where(Actor.role.in_(COACH_ROLES), *conditions).order_by(Actor.id)
    return list((await session.scalars(query)).all())


async def coordinators(session: AsyncSession) -> list[Actor]:
    return await coaches(session, Actor.is_coordinator.is_(True))


def group(settings: Settings) -> list[Recipient]:
    if not settings.coaches_chat_id:
        return []
    return [Recipient(GROUP_CHANNEL, settings.coaches_chat_id, "fr", "group")]


async def fallback(session: AsyncSession, settings: Settings) -> list[Recipient]:
    """No coach answers for this actor: the coaches' group, else every admin and coordinator."""
    if settings.coaches_chat_id:
        return group(settings)
    people = await coaches(session, or_(Actor.role == Role.ADMIN, Actor.is_coordinator.is_(True)))
    # A case is never left without anyone alerted: at worst, every coach.
    return [Recipient.of(a) for a in people or await coaches(session)]


async def new_case_recipients(
    session: AsyncSession, case: Case, settings: Settings
) -> list[Recipient]:
    coach = await session.get(Actor, case.coach_id) if case.coach_id else None
    if case.severity == CaseSeverity.EMERGENCY:
        # Whatever the hour: the coach in charge, everyone on duty, the coordinators.
        people = [coach] if coach else []
        people += await coaches(session, Actor.on_duty.is_(True))
        people += await coordinators(session)
        found = [Recipient.of(a) for a in people] + group(settings)
        return _unique(found or await fallback(session, settings))
    if coach is not None:
        return [Recipient.of(coach)]
    return await fallback(session, settings)


async def escalation_recipients(session: AsyncSession, settings: Settings) -> list[Recipient]:
    found = [Recipient.of(a) for a in await coordinators(session)]
    return found or await fallback(session, settings)


def coach_buttons(t: Translator, case_id: int) -> Keyboard:
    return (
        (
            Button(t.gettext("Take it"), CaseAction("take", case_id).pack()),
            Button(t.gettext("Reply"), CaseAction("reply", case_id).pack()),
        ),
        (
            Button(t.gettext("Resolve"), CaseAction("resolve", case_id).pack()),
            Button(t.gettext("Hand over"), CaseAction("handover", case_id).pack()),
        ),
    )


def reply_buttons(t: Translator, case_id: int) -> Keyboard:
    return (
        (
            Button(t.gettext("Reply"), CaseAction("reply", case_id).pack()),
            Button(t.gettext("Resolve"), CaseAction("resolve", case_id).pack()),
        ),
    )


ANSWER_LABELS = {
    "who": N_("Who is involved"),
    "since": N_("Since when"),
    "tried": N_("Already tried"),
}


async def case_card(session: AsyncSession, case: Case, t: Translator, heading: str) -> str:
    """What a coach needs to act: who, where, what, by when, and what was said."""
    actor = await session.get_one(Actor, case.actor_id)
    lines = [
        heading,
        t.gettext(
            "<b>Case #{number}</b> · {category} · {severity}",
            number=case.id,
            category=labels.label(t, labels.CATEGORY, case.category),
            severity=labels.label(t, labels.SEVERITY, case.severity),
        ),
        t.gettext(
            "👤 {name}, writes in {variant}: please answer in that language.",
            name=escape(actor.display_name or "?"),
            variant=labels.label(t, labels.VARIANT, case.lang),
        ),
    ]
    where = []
    if case.territory_id is not None:
        territory = await session.get(Territory, case.territory_id)
        if territory is not None:
            where.append("📍 " + escape(territory.name))
    if case.plan_id is not None:
        plan = await session.get(ActionPlan, case.plan_id)
        if plan is not None:
            where.append("📋 " + escape(plan.title))
    if where:
        lines.append(" · ".join(where))
    if case.ack_due_at is not None and case.acknowledged_at is None:
        lines.append(t.gettext("⏱ To take by {when}", when=t.datetime(case.ack_due_at, "short")))
    lines += ["", escape(case.summary) or t.gettext("(no summary given)")]
    opened = await session.scalar(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == CaseEventKind.OPENED
        )
    )
    answers = (opened.details or {}).get("answers", {}) if opened else {}
    for key, name in ANSWER_LABELS.items():
        if answers.get(key):
            lines.append(f"<b>{t.gettext(name)}</b>: {escape(answers[key])}")
    said = [case.summary, *answers.values()]
    recent = [m for m in await recent_messages(session, case) if (m.text or "").strip() not in said]
    if recent:
        lines += ["", t.gettext("Recent messages:")]
        lines += [f"• {t.datetime(m.received_at, 'short')}: {escape(m.text or '')}" for m in recent]
    files = await case_files(session, case)
    if files:
        # The files themselves travel beside the alerts; the card says what there is.
        kinds = ", ".join(labels.label(t, labels.FILE_KIND, kind) for kind, _ in files)
        lines += ["", t.gettext("📎 Files: {kinds}", kinds=escape(kinds))]
    return "\n".join(lines)


async def recent_messages(session: AsyncSession, case: Case) -> list[InboundMessage]:
    """The actor's last words before the case, unless the summary already holds them."""
    query = (
        select(InboundMessage)
        .where(
            InboundMessage.actor_id == case.actor_id,
            InboundMessage.kind == InboundKind.TEXT,
            InboundMessage.received_at >= case.opened_at - timedelta(hours=24),
            InboundMessage.received_at <= case.opened_at,
        )
        .order_by(InboundMessage.id.desc())
        .limit(10)
    )
    found = []
    for message in (await session.scalars(query)).all():
        text = (message.text or "").strip()
        if not text or text.startswith("/"):
            continue
        found.append(message)
        if len(found) == RECENT_MESSAGES:
            break
    return list(reversed(found))


async def case_files(
    session: AsyncSession, case: Case, inbound: bool = False
) -> list[tuple[str, str]]:
    """(kind, file id) of the files of a case; `inbound`: only those the actor sent."""
    query = select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.file_id.is_not(None))
    if inbound:
        query = query.where(CaseEvent.kind == CaseEventKind.MESSAGE_IN)
    events = (await session.scalars(query.order_by(CaseEvent.id))).all()
    return [(str(e.details.get("kind", "file")), e.file_id or "") for e in events]


async def send(
    session: AsyncSession,
    recipients: list[Recipient],
    now: datetime,
    dedup: str,
    render: Callable[[Translator], Awaitable[str]],
    buttons_for: Callable[[Translator], Keyboard] | None = None,
    file: SharedFile | None = None,
    about_id: int | None = None,
) -> list[OutboxMessage]:
    """Enqueue one message per recipient, rendered in their variant, each under its own key;
    with a file, the file itself goes along (see `enqueue_with_file`)."""
    rows: list[OutboxMessage] = []
    for recipient in recipients:
        t = translator(recipient.lang)
        text = await render(t)
        buttons = buttons_for(t) if buttons_for else ()
        rows += await enqueue_with_file(
            session,
            channel=recipient.channel,
            chat_id=recipient.chat_id,
            text=text,
            t=t,
            file=file,
            buttons=buttons,
            now=now,
            actor_id=recipient.actor_id,
            dedup_key=f"{dedup}:{recipient.key}",
            about_id=about_id,
        )
    return rows


async def send_case_files(
    session: AsyncSession,
    case: Case,
    recipients: list[Recipient],
    now: datetime,
    dedup: str,
) -> list[OutboxMessage]:
    """After a case card: the files the actor gave with the case, as files, where they can go
    (the card lists them by id for recipients on another channel)."""
    actor = await session.get_one(Actor, case.actor_id)
    rows: list[OutboxMessage] = []
    for index, (kind, file_id) in enumerate(await case_files(session, case, inbound=True), 1):
        for recipient in recipients:
            if recipient.channel != actor.channel:
                continue
            t = translator(recipient.lang)
            caption = "" if kind in CAPTIONLESS else t.gettext(CASE_FILE_CAPTION, number=case.id)
            rows += await enqueue(
                session,
                channel=recipient.channel,
                chat_id=recipient.chat_id,
                text=caption,
                now=now,
                file_ref=(kind, file_id),
                actor_id=recipient.actor_id,
                dedup_key=f"{dedup}:file{index}:{recipient.key}",
                about_id=case.actor_id,
                priority=Priority.URGENT,
            )
    return rows


NEW_HEADING = N_("🔔 <b>New case for you</b>")
EMERGENCY_HEADING = N_(
    "🚨 <b>EMERGENCY: a person may be in danger.</b> The actor was given the numbers of the "
    "police (19), gendarmerie (177) and civil protection (15). Please take this case now."
)
GROUP_HEADING = N_("🔔 <b>New case without a coach</b>: whoever takes it follows it up.")
REALERT_HEADING = N_("⏰ <b>Reminder: this case is still waiting to be taken.</b>")
ESCALATE_HEADING = N_(
    "⚠️ <b>Escalation: this case was not taken in time</b> by {coach}. As coordinator, "
    "please take it or hand it over."
)
HANDOVER_HEADING = N_("🔁 <b>Case handed over to you</b> by {coach}.")
CASE_FILE_CAPTION = N_("📎 Case #{number}: sent by the actor")
TAKEN_BY = N_("✅ Case #{number} has been taken by {coach}: no need to take it as well.")
# The case events that record who was alerted, in details["to"] (recipient keys).
ALERTING_EVENTS = (CaseEventKind.ROUTED, CaseEventKind.REALERT, CaseEventKind.ESCALATED)


async def alert_new_case(
    session: AsyncSession, case: Case, settings: Settings, now: datetime
) -> list[OutboxMessage]:
    recipients = await new_case_recipients(session, case, settings)
    if case.severity == CaseSeverity.EMERGENCY:
        heading = EMERGENCY_HEADING
    else:
        heading = NEW_HEADING if case.coach_id else GROUP_HEADING

    async def render(t: Translator) -> str:
        return await case_card(session, case, t, t.gettext(heading))

    rows = await send(
        session,
        recipients,
        now,
        f"case:{case.id}:alert",
        render,
        lambda t: coach_buttons(t, case.id),
        about_id=case.actor_id,
    )
    rows += await send_case_files(session, case, recipients, now, f"case:{case.id}:alert")
    lifecycle.routed(session, case, now, [r.key for r in recipients])
    return rows


async def alerted(session: AsyncSession, case: Case, settings: Settings) -> list[Recipient]:
    """Everyone alerted about this case so far (the first alert, re-alerts, escalation)."""
    events = (
        await session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.kind.in_(ALERTING_EVENTS))
            .order_by(CaseEvent.id)
        )
    ).all()
    found: list[Recipient] = []
    for event in events:
        for key in (event.details or {}).get("to", []):
            if key == "group":
                found += group(settings)
            elif key.startswith("a") and key[1:].isdigit():
                person = await session.get(Actor, int(key[1:]))
                if person is not None:
                    found.append(Recipient.of(person))
    return _unique(found)


async def tell_taken(
    session: AsyncSession, case: Case, coach: Actor, settings: Settings, now: datetime
) -> list[OutboxMessage]:
    """The other people alerted learn who took the case, so that nobody duplicates the work."""
    others = [r for r in await alerted(session, case, settings) if r.actor_id != coach.id]
    name = escape(coach.display_name or "?")

    async def render(t: Translator) -> str:
        return t.gettext(TAKEN_BY, number=case.id, coach=name)

    return await send(
        session,
        others,
        now,
        f"case:{case.id}:taken",
        render,
        lambda t: ((Button(t.gettext("See the case"), CaseAction("view", case.id).pack()),),),
        about_id=case.actor_id,
    )
