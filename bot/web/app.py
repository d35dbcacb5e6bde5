"""The console's aiohttp application: sign-in, sessions, CSRF, and the pages.

`mount` adds the console to an application — the webhook's, so one server serves both —
and `create_app` builds one for the console alone. Each request runs in one database
transaction; what it enqueues for Telegram is delivered by the outbox sender.
"""

from __future__ import annotations

import asyncio
import hmac
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import labels
from bot.core import audit
from bot.core.clock import Clock, local
from bot.core.config import Settings
from bot.core.i18n import VARIANTS, translator
from bot.nlu import lexicon
from bot.nlu.understander import Understander
from bot.plans.reminders import due_label, status_label
from bot.plans.timeline import _font_file
from bot.web import auth
from bot.web.files import FileCache
from storage.db import Database
from storage.models import Actor, OutboxMessage, WebSession

HERE = Path(__file__).resolve().parent
CONSOLE = web.AppKey("console", object)
LANG_COOKIE = "hotline_lang"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Page:
    """What one request of the console works with."""

    db: AsyncSession
    now: datetime
    me: Actor | None = None
    web_session: WebSession | None = None
    sent: list[OutboxMessage] = field(default_factory=list)  # enqueued for Telegram
    form: Any = None


PAGE = web.RequestKey("page", Page)


def page(request: web.Request) -> Page:
    return request[PAGE]


def me_of(request: web.Request) -> Actor:
    """The signed-in coach (every non-public page has one)."""
    me = request[PAGE].me
    assert me is not None
    return me


def web_session_of(request: web.Request) -> WebSession:
    """The session of the signed-in coach (every non-public page has one)."""
    session = request[PAGE].web_session
    assert session is not None
    return session


class Console:
    """What the pages need: the database, the clock, the settings, a way to wake the outbox
    sender when a page enqueued messages (in the bot's own process), the understanding (the
    engine's, so a /reload is seen here too), and the cache of files fetched from the Bot API."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        on_enqueued: Callable[[], None] | None = None,
        upload_dir: Path | None = None,
        understander: Understander | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.on_enqueued = on_enqueued
        self.upload_dir = upload_dir or Path(tempfile.gettempdir()) / "hotline-uploads"
        self.secure_cookie = settings.console_url.startswith("https://")
        self._understander = understander
        self._loading = asyncio.Lock()
        self.files = FileCache.from_settings(settings)

    async def understander(self) -> Understander:
        """The engine's understander when the console runs beside the bot; alone, one built
        from the knowledge base at first need (the trained model is cached on disk)."""
        if self._understander is None:
            async with self._loading:
                if self._understander is None:
                    self._understander = await asyncio.to_thread(build_understander, self.settings)
        return self._understander


def build_understander(settings: Settings) -> Understander:
    """The understanding built as `bot.app.build_engine` builds the engine's (the console
    cannot import the composition root, which imports it)."""
    lexicon.use(settings.knowledge_dir)
    return Understander(settings.knowledge_dir, cache_dir=settings.nlu_cache_dir)


def see_other(location: str) -> web.Response:
    """A redirect after a form (returned, not raised: raising would roll the work back)."""
    return web.Response(status=303, headers={"Location": location})


def console_of(request: web.Request) -> Console:
    console = request.app[CONSOLE]
    assert isinstance(console, Console)
    return console


# -- the request lifecycle ----------------------------------------------------------------------

PUBLIC = {"web:static", "web:font", "web:signin", "web:signin_post", "web:lang"}


@web.middleware
async def lifecycle(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Only the console's routes: a transaction, the signed-in coach, the CSRF check."""
    name = request.match_info.route.name or ""
    if not name.startswith("web:"):
        return await handler(request)  # the webhook and anything else mounted beside us
    console = console_of(request)
    now = console.clock.now()
    async with console.db.transaction() as session:
        request[PAGE] = Page(db=session, now=now)
        if name not in PUBLIC:
            found = await auth.current(session, request.cookies.get(auth.COOKIE), now)
            if found is None:
                return render(request, "signed_out.html", {}, status=401)
            page(request).web_session, page(request).me = found
            if request.method == "POST" and not await _csrf_ok(request):
                return render(request, "error.html", {"code": "csrf"}, status=403)
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            return render(request, "error.html", {"code": "notfound"}, status=404)
    if page(request).sent and console.on_enqueued is not None:
        console.on_enqueued()
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
    )
    return response


async def _csrf_ok(request: web.Request) -> bool:
    expected = web_session_of(request).csrf
    given = request.headers.get("X-CSRF-Token", "")
    if not given:
        form = await request.post()
        page(request).form = form
        given = str(form.get("csrf", ""))
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


async def form_of(request: web.Request) -> Any:
    return page(request).form or await request.post()


# -- templates ----------------------------------------------------------------------------------


def variant_of(request: web.Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in VARIANTS:
        return chosen
    current = request.get(PAGE)
    me = current.me if current is not None else None
    return me.lang if me is not None and me.lang in VARIANTS else "fr"


def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    variant = variant_of(request)
    t = translator(variant)
    current = request.get(PAGE)
    session = current.web_session if current else None
    base = {
        "t": t,
        "_": t.gettext,
        "ngettext": t.ngettext,
        "variant": variant,
        "variants": VARIANTS,
        "html_lang": {"fr": "fr", "ary": "ary-Arab", "ary-Latn": "ary-Latn"}[variant],
        "dir": "rtl" if variant == "ary" else "ltr",
        "me": current.me if current else None,
        "csrf": session.csrf if session is not None else "",
        "now": current.now if current else None,
        "path": request.path,
        "when": lambda value, fmt="short": t.datetime(value, fmt) if value else "",
        "day": lambda value: t.date(value, "medium") if value else "",
        "label": lambda names, key: labels.label(t, getattr(labels, names), key),
        "due": lambda commitment: Markup(due_label(t, commitment)),
        "plan_status": lambda status: status_label(t, status),
        "minutes": lambda m: _duration(t, m),
    }
    base.update(context)
    response = aiohttp_jinja2.render_template(template, request, base, status=status)
    return response


def _duration(t: Any, minutes: float) -> str:
    minutes = int(abs(minutes))
    if minutes < 60:
        return t.ngettext("{n} minute", "{n} minutes", minutes)
    if minutes < 48 * 60:
        return t.ngettext("{n} hour", "{n} hours", minutes // 60)
    return t.ngettext("{n} day", "{n} days", minutes // (24 * 60))


# -- sign-in and sessions ------------------------------------------------------------------------


async def signin_page(request: web.Request) -> web.Response:
    """Opening the link only shows a button: link previews and scanners fetch with GET, and
    must not spend the link."""
    secret = request.match_info["token"]
    if not await auth.link_is_valid(page(request).db, secret, page(request).now):
        return render(request, "error.html", {"code": "link"}, status=403)
    return render(request, "signin.html", {"token": secret})


async def signin_post(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    secret = request.match_info["token"]
    if not _same_origin(request):
        # Another site posting someone's link would sign the browser in as that someone.
        return render(request, "error.html", {"code": "link"}, status=403)
    lifetime = timedelta(hours=console.settings.web_session_hours)
    opened = await auth.redeem(page(request).db, secret, page(request).now, lifetime)
    if opened is None:
        return render(request, "error.html", {"code": "link"}, status=403)
    response = see_other("/inbox")
    response.set_cookie(
        auth.COOKIE,
        opened.cookie,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=console.secure_cookie,
        path="/",
    )
    return response


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    host = origin.split("://", 1)[-1]
    public = console_of(request).settings.console_url.split("://", 1)[-1].split("/", 1)[0]
    return host in (request.host, public)  # behind a proxy, Host may be the inner address


async def signout(request: web.Request) -> web.StreamResponse:
    await auth.revoke(page(request).db, web_session_of(request), page(request).now)
    response = see_other("/bye")
    response.del_cookie(auth.COOKIE, path="/")
    return response


async def bye(request: web.Request) -> web.Response:
    return render(request, "signed_out.html", {"bye": True})


async def sessions_page(request: web.Request) -> web.Response:
    found = await auth.live_sessions(page(request).db, me_of(request), page(request).now)
    return render(
        request, "sessions.html", {"sessions": found, "current": web_session_of(request).id}
    )


async def revoke_session(request: web.Request) -> web.StreamResponse:
    wanted = int(request.match_info["id"])
    for found in await auth.live_sessions(page(request).db, me_of(request), page(request).now):
        if found.id == wanted:
            await auth.revoke(page(request).db, found, page(request).now)
    return see_other("/sessions")


async def choose_lang(request: web.Request) -> web.StreamResponse:
    variant = request.match_info["variant"]
    back = request.query.get("back", "/inbox")
    # Only a path of this site: "//host" and "/\\host" would leave it.
    local_path = back.startswith("/") and not back.startswith(("//", "/\\"))
    response = see_other(back if local_path else "/inbox")
    if variant in VARIANTS:
        response.set_cookie(LANG_COOKIE, variant, max_age=365 * 86400, samesite="Strict", path="/")
    return response


async def font(request: web.Request) -> web.StreamResponse:
    path = _font_file()
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "max-age=86400"})


async def home(request: web.Request) -> web.StreamResponse:
    return see_other("/inbox")


def today(request: web.Request) -> date:
    return local(page(request).now).date()


# -- wiring -------------------------------------------------------------------------------------


def mount(
    app: web.Application,
    db: Database,
    clock: Clock,
    settings: Settings,
    on_enqueued: Callable[[], None] | None = None,
    upload_dir: Path | None = None,
    understander: Understander | None = None,
) -> Console:
    from bot.web import cases, plans, review, territory

    console = Console(db, clock, settings, on_enqueued, upload_dir, understander)
    app[CONSOLE] = console
    app.middlewares.append(lifecycle)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    r = app.router
    r.add_static("/static", HERE / "static", name="web:static")
    r.add_get("/fonts/noto-sans-arabic.ttf", font, name="web:font")
    r.add_get("/signin/{token}", signin_page, name="web:signin")
    r.add_post("/signin/{token}", signin_post, name="web:signin_post")
    r.add_get("/lang/{variant}", choose_lang, name="web:lang")
    r.add_get("/bye", bye, name="web:bye_public")
    r.add_post("/signout", signout, name="web:signout")
    r.add_get("/sessions", sessions_page, name="web:sessions")
    r.add_post("/sessions/{id:\\d+}/revoke", revoke_session, name="web:revoke")
    r.add_get("/", home, name="web:home")
    cases.routes(r)
    plans.routes(r)
    territory.routes(r)
    review.routes(r)
    return console


PUBLIC.add("web:bye_public")


def create_app(
    db: Database,
    clock: Clock,
    settings: Settings,
    on_enqueued: Callable[[], None] | None = None,
    upload_dir: Path | None = None,
    understander: Understander | None = None,
) -> web.Application:
    app = web.Application(client_max_size=10 * 1024 * 1024)
    mount(app, db, clock, settings, on_enqueued, upload_dir, understander)
    return app


def audit_read(request: web.Request, subject: str, **details: Any) -> Awaitable[Any]:
    return audit.record(
        page(request).db, page(request).me, audit.Action.READ, subject, page(request).now, **details
    )
