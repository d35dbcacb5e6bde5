"""Sign-in without passwords: a single-use link sent in the chat opens a browser session.

Only hashes of the secrets are stored: a copy of the database signs nobody in. Every
sign-in is in the audit trail.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import audit
from storage.models import Actor, WebSession, WebSignIn

LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=12)
COOKIE = "hotline_session"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def may_sign_in(person: Actor | None) -> bool:
    """Coaches and admins only: actors and committee members never get a link."""
    return person is not None and person.is_coach


async def issue_link(session: AsyncSession, person: Actor, now: datetime, base_url: str) -> str:
    """A link valid `LINK_LIFETIME`, usable once."""
    if not may_sign_in(person):
        raise PermissionError("only coaches and admins sign in to the console")
    secret = secrets.token_urlsafe(32)
    session.add(
        WebSignIn(
            token_hash=_hash(secret),
            actor_id=person.id,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    await session.flush()
    return f"{base_url.rstrip('/')}/signin/{secret}"


async def link_is_valid(session: AsyncSession, secret: str, now: datetime) -> bool:
    found = await session.scalar(select(WebSignIn).where(WebSignIn.token_hash == _hash(secret)))
    return found is not None and found.used_at is None and found.expires_at > now


@dataclass(frozen=True)
class Opened:
    cookie: str  # the session secret, for the cookie only
    session: WebSession


async def redeem(
    session: AsyncSession, secret: str, now: datetime, lifetime: timedelta = SESSION_LIFETIME
) -> Opened | None:
    """Use the link once and open a session; None if it is unknown, used or expired.

    The link is spent by a conditional UPDATE, so two browsers racing with one link cannot
    both get in.
    """
    spent = await session.execute(
        update(WebSignIn)
        .where(
            WebSignIn.token_hash == _hash(secret),
            WebSignIn.used_at.is_(None),
            WebSignIn.expires_at > now,
        )
        .values(used_at=now)
        .returning(WebSignIn.actor_id)
    )
    actor_id = spent.scalar_one_or_none()
    if actor_id is None:
        return None
    person = await session.get(Actor, actor_id)
    if not may_sign_in(person):
        return None
    assert person is not None
    cookie = secrets.token_urlsafe(32)
    opened = WebSession(
        token_hash=_hash(cookie),
        actor_id=person.id,
        csrf=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(opened)
    await session.flush()
    await audit.record(session, person, "sign_in", f"web_session:{opened.id}", now, via="link")
    return Opened(cookie, opened)


async def current(
    session: AsyncSession, cookie: str | None, now: datetime
) -> tuple[WebSession, Actor] | None:
    """The live session behind a cookie and its person, if still a coach."""
    if not cookie:
        return None
    found = await session.scalar(select(WebSession).where(WebSession.token_hash == _hash(cookie)))
    if found is None or found.revoked_at is not None or found.expires_at <= now:
        return None
    person = await session.get(Actor, found.actor_id)
    if not may_sign_in(person):
        return None
    assert person is not None
    return found, person


async def revoke(session: AsyncSession, web_session: WebSession, now: datetime) -> None:
    if web_session.revoked_at is None:
        web_session.revoked_at = now


async def live_sessions(session: AsyncSession, person: Actor, now: datetime) -> list[WebSession]:
    query = (
        select(WebSession)
        .where(
            WebSession.actor_id == person.id,
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > now,
        )
        .order_by(WebSession.id)
    )
    return list((await session.scalars(query)).all())
