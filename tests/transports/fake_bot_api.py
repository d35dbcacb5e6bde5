"""What the transport tests share: a fake Bot API served on 127.0.0.1, and waits that move
the injected clock instead of sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from aiohttp import web

from bot.core.clock import ManualClock


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free port of 127.0.0.1; yields its root URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def virtual_wait(clock: ManualClock) -> Callable[[float], Awaitable[None]]:
    async def wait(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))  # time passes without sleeping
        await asyncio.sleep(0)

    return wait
