"""A stand-in for the two calls of the Bot API that give a file — `getFile` and the file's
download — on 127.0.0.1, in a thread of its own (the browser blocks the test's loop while
the console fetches). The Telegram emulator the e2e tests use answers neither."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from aiohttp import web

from tests.pgserver import _free_port

TOKEN = "123456:FAKE-token-for-tests"


class FakeBotApi(threading.Thread):
    def __init__(self, files: dict[str, tuple[str, bytes]]) -> None:
        """`files`: file id → (the file_path getFile gives, the content)."""
        super().__init__(daemon=True)
        self.files = files
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.get_file: Counter[str] = Counter()  # getFile calls per file id
        self.downloads: Counter[str] = Counter()  # downloads per file path
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/getFile", self._get_file)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self.stop = asyncio.Event()
        self.ready.set()
        await self.stop.wait()
        await runner.cleanup()

    async def _get_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401}, status=401)
        file_id = request.query.get("file_id") or str((await request.post()).get("file_id", ""))
        self.get_file[file_id] += 1
        if file_id not in self.files:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"},
                status=400,
            )
        path, content = self.files[file_id]
        return web.json_response(
            {
                "ok": True,
                "result": {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}",
                    "file_size": len(content),
                    "file_path": path,
                },
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.Response(status=401)
        path = request.match_info["path"]
        self.downloads[path] += 1
        for file_path, content in self.files.values():
            if file_path == path:
                return web.Response(body=content)
        return web.Response(status=404)

    def __enter__(self) -> FakeBotApi:
        self.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.join(10)
