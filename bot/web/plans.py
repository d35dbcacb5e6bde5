"""The plans board: commitments by status, the timeline picture, each commitment's history,
the XLSX/CSV import (a dry run shown first, then confirmed) and the XLSX export.

Who sees a plan is `bot.plans.service.can_see_plan`, as in the chat; importing is for
coaches, and the importer is the one the command line uses.
"""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.core import audit
from bot.plans import committee_report, export, importer, service
from bot.web.app import console_of, form_of, me_of, page, render, see_other, today
from storage.models import ActionPlan, Actor, Commitment, CommitmentStatus

COLUMNS = (
    CommitmentStatus.NOT_STARTED,
    CommitmentStatus.IN_PROGRESS,
    CommitmentStatus.BLOCKED,
    CommitmentStatus.DONE,
    CommitmentStatus.CANCELLED,
)
SUFFIXES = (".xlsx", ".csv")


def routes(r: web.UrlDispatcher) -> None:
    r.add_get("/plans", plans_page, name="web:plans")
    r.add_get("/plans/import", import_page, name="web:plan_import")
    r.add_post("/plans/import", import_dry_run, name="web:import_dry_run")
    r.add_post("/plans/import/confirm", import_confirm, name="web:import_confirm")
    r.add_get("/plans/{id:\\d+}", plan_page, name="web:plan")
    r.add_get("/plans/{id:\\d+}/timeline.png", timeline, name="web:timeline")
    r.add_get("/plans/{id:\\d+}/export.xlsx", export_xlsx, name="web:export")


async def plans_page(request: web.Request) -> web.Response:
    session = page(request).db
    found = await service.plans_visible_to(session, me_of(request))
    summary = {}
    for plan in found:
        commitments = await service.commitments_of_plan(session, plan.id)
        live = [c for c in commitments if c.status != CommitmentStatus.CANCELLED]
        summary[plan.id] = {
            "total": len(live),
            "done": sum(1 for c in live if c.status == CommitmentStatus.DONE),
            "late": sum(1 for c in live if service.is_overdue(c, page(request).now)),
        }
    return render(request, "plans.html", {"plans": found, "summary": summary})


async def _visible_plan(request: web.Request) -> ActionPlan:
    plan = await page(request).db.get(ActionPlan, int(request.match_info["id"]))
    if plan is None or not await service.can_see_plan(page(request).db, me_of(request), plan):
        raise web.HTTPNotFound(text="not found")
    return plan


async def _owners(request: web.Request, commitments: list[Commitment]) -> dict[int, Actor]:
    from bot.web.queries import names

    return await names(page(request).db, {c.owner_id for c in commitments if c.owner_id})


async def plan_page(request: web.Request) -> web.Response:
    session = page(request).db
    plan = await _visible_plan(request)
    commitments = list(await service.commitments_of_plan(session, plan.id))
    owners = await _owners(request, commitments)
    histories = {c.id: list(await service.history(session, c.id)) for c in commitments}
    people = await _owners(request, [])
    authors = {e.actor_id for events in histories.values() for e in events if e.actor_id}
    from bot.web.queries import names

    people = await names(session, authors)
    columns = [(s, [c for c in commitments if c.status == s]) for s in COLUMNS]
    return render(
        request,
        "plan.html",
        {
            "plan": plan,
            "columns": [(s, cs) for s, cs in columns if cs or s != CommitmentStatus.CANCELLED],
            "owners": owners,
            "histories": histories,
            "people": people,
            "overdue": {c.id for c in commitments if service.is_overdue(c, page(request).now)},
            "owner_name": lambda c: committee_report.owner_name(c, owners),
        },
    )


async def timeline(request: web.Request) -> web.Response:
    from bot.core.i18n import translator
    from bot.web.app import variant_of

    plan = await _visible_plan(request)
    commitments = list(await service.commitments_of_plan(page(request).db, plan.id))
    owners = await _owners(request, commitments)
    png = committee_report.timeline_png(
        translator(variant_of(request)), plan, commitments, owners, page(request).now
    )
    return web.Response(body=png, content_type="image/png")


async def export_xlsx(request: web.Request) -> web.Response:
    plan = await _visible_plan(request)
    commitments = list(await service.commitments_of_plan(page(request).db, plan.id))
    owners = await _owners(request, commitments)
    content = export.plan_xlsx(plan, commitments, owners)
    await audit.record(
        page(request).db,
        me_of(request),
        audit.Action.EXPORT,
        f"plan:{plan.id}",
        page(request).now,
        rows=len(commitments),
        via="web",
    )
    return web.Response(
        body=content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="plan-{plan.id}.xlsx"'},
    )


# -- import -------------------------------------------------------------------------------------


def _options(form: Any, reference: date, coach: Actor) -> importer.PlanOptions:
    return importer.PlanOptions(
        title=str(form.get("title", "")).strip()[:200] or "Plan",
        reference=reference,
        theme=str(form.get("theme", "")).strip()[:200],
        territory=str(form.get("territory", "")).strip() or None,
        committee=str(form.get("committee", "")).strip() or None,
        coach=coach,
        importer=coach,
    )


def _fields(form: Any) -> dict[str, str]:
    keys = ("title", "theme", "territory", "committee", "reference")
    return {k: str(form.get(k, "")).strip() for k in keys}


async def import_page(request: web.Request) -> web.Response:
    return render(
        request,
        "import.html",
        {"fields": {"reference": today(request).isoformat()}, "report": None, "error": ""},
    )


def _reference(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


async def import_dry_run(request: web.Request) -> web.Response:
    """Read the uploaded table and show what would be stored; nothing is stored yet."""
    form = await form_of(request)
    fields = _fields(form)
    upload = form.get("file")
    reference = _reference(fields["reference"])
    suffix = Path(getattr(upload, "filename", "") or "").suffix.lower()
    if reference is None or upload is None or not hasattr(upload, "file") or suffix not in SUFFIXES:
        return render(
            request, "import.html", {"fields": fields, "report": None, "error": "file"}, 400
        )
    console = console_of(request)
    console.upload_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16)
    path = console.upload_dir / f"{key}{suffix}"
    path.write_bytes(upload.file.read())
    report = importer.read(path, reference)
    if not report.valid:
        path.unlink(missing_ok=True)
    return render(
        request,
        "import.html",
        {"fields": fields, "report": report, "upload": f"{key}{suffix}", "error": ""},
    )


async def import_confirm(request: web.Request) -> web.StreamResponse:
    form = await form_of(request)
    fields = _fields(form)
    upload = str(form.get("upload", ""))
    console = console_of(request)
    stem, _, suffix = upload.partition(".")
    path = console.upload_dir / upload
    reference = _reference(fields["reference"])
    if not stem.isalnum() or f".{suffix}" not in SUFFIXES or not path.exists() or reference is None:
        return render(
            request, "import.html", {"fields": fields, "report": None, "error": "file"}, 400
        )
    report = await importer.import_plan(
        page(request).db, path, _options(form, reference, me_of(request)), now=page(request).now
    )
    path.unlink(missing_ok=True)
    if report.plan_id is None:
        return render(
            request, "import.html", {"fields": fields, "report": report, "error": ""}, 400
        )
    return see_other(f"/plans/{report.plan_id}")
