"""The territory picture for coordinators: the tree with, per node, what needs attention,
and the weekly chart of cases opened and resolved with the median time to take one."""

from __future__ import annotations

from aiohttp import web

from bot.web import queries
from bot.web.app import me_of, page, render
from storage.models import CaseCategory

CHART_HEIGHT = 120


def routes(r: web.UrlDispatcher) -> None:
    r.add_get("/territory", territory_page, name="web:territory")


async def territory_page(request: web.Request) -> web.Response:
    picture = await queries.picture(page(request).db, me_of(request), page(request).now)
    peak = max([1, *(max(w.opened, w.resolved) for w in picture.weeks)])
    return render(
        request,
        "territory.html",
        {
            "picture": picture,
            "categories": list(CaseCategory),
            "peak": peak,
            "chart_height": CHART_HEIGHT,
        },
    )
