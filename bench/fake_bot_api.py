"""A fake Bot API on 127.0.0.1 that enforces Telegram's limits, for the fan-out benchmark.

    python -m bench.fake_bot_api [--random-429 0.02] [--seed 7]   # prints its port, then serves

`sendMessage` is refused with a 429 and `retry_after` when accepting it would put more than
30 messages in the last second (sliding window), or a second message to one chat within a
second; a share of the other calls is refused at random (Telegram's own flood control is not
predictable either). Each accepted message is counted per (chat, text), so a duplicate is
seen; `GET /stats` reports the counts. Run as a separate process so that its memory and CPU
are not counted as the bot's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import time
from collections import Counter, deque
from typing import Any

from aiohttp import web

OVERALL_PER_SECOND = 30
PER_CHAT_INTERVAL = 1.0


class FakeBotApi:
    def __init__(self, random_429: float, random_retry_after: int, seed: int) -> None:
        self.random_429 = random_429
        self.random_retry_after = random_retry_after
        self.random = random.Random(seed)
        self.window: deque[float] = deque()  # accept times within the last second
        self.last_in_chat: dict[str, float] = {}
        self.accepted: Counter[tuple[str, str]] = Counter()
        self.refused: Counter[str] = Counter()
        self.calls = 0
        self.first_call: float | None = None
        self.last_accept: float | None = None

    def _refuse(self, reason: str, retry_after: float) -> web.Response:
        self.refused[reason] += 1
        return web.json_response(
            {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {math.ceil(retry_after)}",
                "parameters": {"retry_after": max(1, math.ceil(retry_after))},
            },
            status=429,
        )

    async def send_message(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            form: dict[str, Any] = await request.json()
        else:
            form = dict(await request.post())
        now = time.monotonic()
        self.calls += 1
        if self.first_call is None:
            self.first_call = now
        chat, text = str(form["chat_id"]), str(form["text"])
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        if len(self.window) >= OVERALL_PER_SECOND:
            return self._refuse("overall", self.window[0] + 1.0 - now)
        last = self.last_in_chat.get(chat)
        if last is not None and now - last < PER_CHAT_INTERVAL:
            return self._refuse("per_chat", last + PER_CHAT_INTERVAL - now)
        if self.random.random() < self.random_429:
            return self._refuse("random", self.random.randint(1, self.random_retry_after))
        self.window.append(now)
        self.last_in_chat[chat] = now
        self.accepted[(chat, text)] += 1
        self.last_accept = now
        return web.json_response(
            {
                "ok": True,
                "result": {
                    "message_id": self.calls,
                    "date": int(time.time()),
                    "chat": {"id": int(chat), "type": "private"},
                    "text": text,
                },
            }
        )

    async def get_me(self, request: web.Request) -> web.Response:
        bot = {"id": 1, "is_bot": True, "first_name": "Hotline", "username": "HotlineBot"}
        return web.json_response({"ok": True, "result": bot})

    async def stats(self, request: web.Request) -> web.Response:
        accepted = sum(self.accepted.values())
        elapsed = (
            self.last_accept - self.first_call
            if self.first_call is not None and self.last_accept is not None
            else 0.0
        )
        return web.json_response(
            {
                "calls": self.calls,
                "accepted": accepted,
                "distinct": len(self.accepted),
                "duplicates": accepted - len(self.accepted),
                "refused": dict(self.refused),
                "elapsed": elapsed,
            }
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/sendMessage", self.send_message)
        app.router.add_post("/bot{token}/getMe", self.get_me)
        app.router.add_get("/stats", self.stats)
        return app


async def serve(api: FakeBotApi) -> None:
    runner = web.AppRunner(api.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(json.dumps({"port": port}), flush=True)
    await asyncio.Event().wait()  # until the benchmark terminates the process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random-429", type=float, default=0.02, help="share of calls refused")
    parser.add_argument("--retry-after", type=int, default=3, help="max retry_after of those")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(serve(FakeBotApi(args.random_429, args.retry_after, args.seed)))


if __name__ == "__main__":
    main()
