"""A fake Bot API on 127.0.0.1 that answers every call and records it, for process tests.

Only what `hotline run` calls in webhook mode: getMe, setMyCommands, setWebhook,
deleteWebhook, sendMessage (and files), answerCallbackQuery. Each call is kept with its time,
so a test sees what reached "Telegram", how often, and when.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT = {"id": 123456, "is_bot": True, "first_name": "Hotline", "username": "HotlineBot"}


@dataclass
class Call:
    method: str
    at: float  # time.monotonic()
    params: dict[str, Any] = field(default_factory=dict)


class FakeTelegram:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    def sent(self) -> list[Call]:
        return [c for c in self.calls if c.method.startswith("send")]

    def count(self, method: str) -> int:
        return sum(1 for c in self.calls if c.method == method)

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params: dict[str, Any] = await request.json()
        else:
            params = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.calls.append(Call(method, time.monotonic(), params))
        result: Any = True
        if method == "getMe":
            result = BOT
        elif method.startswith("send"):
            chat = int(params.get("chat_id", 0))
            result = {
                "message_id": len(self.calls),
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private"},
                "text": params.get("text", ""),
            }
        return web.json_response({"ok": True, "result": result})

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
