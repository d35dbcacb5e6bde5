"""The committee's view of a plan: a short text per commitment and the timeline picture."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from babel.dates import get_month_names

from bot.core.clock import local
from bot.core.i18n import Translator
from bot.core.telegram_html import escape
from bot.plans import service
from bot.plans.reminders import due_label, status_label
from bot.plans.timeline import TimelineItem, TimelineLabels, render_timeline
from storage.models import ActionPlan, Actor, Commitment

_ICONS = {"done": "✅", "in_progress": "🔄", "blocked": "⛔", "not_started": "⏸"}


def owner_name(commitment: Commitment, owners: dict[int, Actor]) -> str:
    owner = owners.get(commitment.owner_id) if commitment.owner_id else None
    return owner.display_name if owner is not None else commitment.owner_text


def status_text(
    t: Translator,
    plan: ActionPlan,
    commitments: Sequence[Commitment],
    owners: dict[int, Actor],
    now: datetime,
) -> str:
    lines = [t.gettext("<b>Commitments of the plan “{plan}”</b>", plan=escape(plan.title))]
    if not commitments:
        lines.append(t.gettext("This plan has no commitment yet."))
    late = 0
    # What is late comes first: it is what the committee must act on.
    ordered = sorted(commitments, key=lambda c: not service.is_overdue(c, now))
    for number, commitment in enumerate(ordered, start=1):
        overdue = service.is_overdue(commitment, now)
        late += overdue
        icon = _ICONS.get(commitment.status, "•")
        lines.append("")
        lines.append(f"{number}. {icon} <b>{escape(commitment.what)}</b>")
        lines.append(
            t.gettext(
                "Owner: {owner} · due {due} · {status}",
                owner=escape(owner_name(commitment, owners)),
                due=due_label(t, commitment),
                status=status_label(t, commitment.status),
            )
        )
        if overdue:
            lines.append(t.gettext("⚠️ Late"))
    if commitments:
        done = sum(1 for c in commitments if c.status == "done")
        lines.append("")
        lines.append(
            t.gettext(
                "{done_part}, {late_part}.",
                done_part=t.ngettext(
                    "{n} of {total} done", "{n} of {total} done", done, total=len(commitments)
                ),
                late_part=t.ngettext("{n} late", "{n} late", late),
            )
        )
    return "\n".join(lines)


def labels(t: Translator) -> TimelineLabels:
    months = get_month_names("abbreviated", locale=t.babel_locale)
    return TimelineLabels(
        done=t.gettext("done"),
        in_progress=t.gettext("in progress"),
        blocked=t.gettext("blocked"),
        not_started=t.gettext("not started"),
        overdue=t.gettext("late"),
        today=t.gettext("today"),
        months=tuple(months[m] for m in range(1, 13)),
    )


def timeline_png(
    t: Translator,
    plan: ActionPlan,
    commitments: Sequence[Commitment],
    owners: dict[int, Actor],
    now: datetime,
) -> bytes:
    items = [
        TimelineItem(
            label=c.what,
            owner=owner_name(c, owners),
            start=None,
            due=None if c.due_needs_confirmation else service.due_day(c),
            status=c.status,
        )
        for c in commitments
    ]
    return render_timeline(
        items, local(now).date(), plan.title, labels(t), plan_start=plan.reference_date
    )
