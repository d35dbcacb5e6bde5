"""Files people sent (photos, voice notes, documents), fetched from the Bot API by file id
for the case view, and kept on disk under a size bound.

The Bot API gives a file in two steps: `getFile` returns its path, then the file is at
`{base}/file/bot{token}/{path}`. Both URLs hold the bot's token: they are never logged,
shown or sent to the browser, which only ever sees the console's own URL of the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mimetypes
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.core.config import Settings
from bot.core.i18n import N_

log = logging.getLogger(__name__)

TELEGRAM_API = "https://api.telegram.org"
TELEGRAM = "telegram"
# The Bot API hands out no file bigger than this; a larger answer is not a file we want.
MAX_DOWNLOAD = 20 * 1024 * 1024
CHUNK = 64 * 1024
# Shown by kind in the case view; anything else is a plain file.
KINDS = {
    "photo": N_("Photo"),
    "voice": N_("Voice note"),
    "audio": N_("Audio"),
    "video": N_("Video"),
    "video_note": N_("Video message"),
    "document": N_("Document"),
}
FILE = N_("File")
# What mimetypes does not know, or knows differently (Telegram's voice notes are .oga).
_TYPES = {".oga": "audio/ogg", ".ogg": "audio/ogg", ".opus": "audio/ogg", ".webp": "image/webp"}
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,10}$")


class FileUnavailable(Exception):
    """The Bot API would not give the file (unknown id, too big, unreachable)."""


@dataclass(frozen=True)
class Fetched:
    content_type: str
    suffix: str  # ".jpg", ".oga"... ("" if unknown), for a download's file name
    path: Path | None = None  # in the cache
    body: bytes | None = None  # a file bigger than the whole cache is served, not kept


def content_type(suffix: str) -> str:
    return _TYPES.get(suffix) or mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream"


# The media a kind may be shown as in the page; svg is left out (it can carry scripts).
_INLINE = {
    "photo": ("image/jpeg", "image/png", "image/webp", "image/gif"),
    "voice": ("audio/",),
    "audio": ("audio/",),
    "video": ("video/",),
    "video_note": ("video/",),
}


def shown_inline(kind: str, media_type: str) -> bool:
    return media_type.startswith(_INLINE.get(kind, ()))


def safe_name(part: str) -> str:
    """A piece of a download's file name: letters, digits and underscores only."""
    return re.sub(r"[^A-Za-z0-9_]", "", part)[:16] or "file"


def fetchable(settings: Settings, channel: str | None) -> bool:
    """Only Telegram's file ids can be fetched, and only with the bot's token; the console
    chat keeps no files, so there the kind and the caption are all there is."""
    return channel == TELEGRAM and bool(settings.telegram_token)


class FileCache:
    """Fetch by file id, keep on disk, drop the least recently served past `max_bytes`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        directory: Path,
        max_bytes: int,
        timeout: float = 30.0,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> FileCache | None:
        if not settings.telegram_token:
            return None
        return cls(
            settings.telegram_api_base_url or TELEGRAM_API,
            settings.telegram_token,
            settings.file_cache_dir,
            settings.file_cache_bytes,
        )

    async def get(self, file_id: str) -> Fetched:
        key = hashlib.sha256(file_id.encode()).hexdigest()
        found = self._cached(key)
        if found is not None:
            return found
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:  # two views of one new photo fetch it once
                found = self._cached(key)
                if found is not None:
                    return found
                return await self._download(file_id, key)
        finally:
            if not lock.locked():
                self._locks.pop(key, None)

    def _cached(self, key: str) -> Fetched | None:
        if not self.directory.is_dir():
            return None
        for path in self.directory.glob(f"{key}*"):
            if path.name.endswith(".part"):
                continue
            with contextlib.suppress(OSError):
                _touch(path)  # recently served: evicted last
                return Fetched(content_type(path.suffix), path.suffix, path=path)
        return None

    async def _download(self, file_id: str, key: str) -> Fetched:
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as client:
                async with client.get(
                    f"{self._base}/bot{self._token}/getFile", params={"file_id": file_id}
                ) as response:
                    answer = await response.json(content_type=None)
                if not isinstance(answer, dict) or not answer.get("ok"):
                    raise FileUnavailable("getFile refused")
                file_path = (answer.get("result") or {}).get("file_path")
                if not isinstance(file_path, str) or not file_path:
                    raise FileUnavailable("no file path")
                suffix = Path(file_path).suffix.lower()
                suffix = suffix if _SUFFIX.match(suffix) else ""
                async with client.get(f"{self._base}/file/bot{self._token}/{file_path}") as got:
                    if got.status != 200:
                        raise FileUnavailable(f"download answered {got.status}")
                    body = await _read_bounded(got)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            # Never the URL: it holds the token.
            log.warning("could not fetch a file from the Bot API: %s", type(error).__name__)
            raise FileUnavailable(type(error).__name__) from error
        if len(body) > self.max_bytes:
            return Fetched(content_type(suffix), suffix, body=body)
        path = await asyncio.to_thread(self._store, key, suffix, body)
        return Fetched(content_type(suffix), suffix, path=path)

    def _store(self, key: str, suffix: str, body: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{key}{suffix}"
        part = path.with_name(path.name + f".{os.getpid()}.part")
        part.write_bytes(body)
        os.replace(part, path)  # a reader never sees half a file
        _touch(path)
        self._evict(keep=path)
        return path

    def _evict(self, keep: Path) -> None:
        """Remove the least recently served files until the cache fits its bound."""
        files = []
        for path in self.directory.iterdir():
            if path.name.endswith(".part") or path == keep:
                continue
            with contextlib.suppress(OSError):
                stat = path.stat()
                files.append((stat.st_mtime_ns, stat.st_size, path))
        total = sum(size for _, size, _ in files) + keep.stat().st_size
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size


def _touch(path: Path) -> None:
    # An explicit time: the file system's own clock is too coarse to order quick successions.
    now = time.time_ns()
    os.utime(path, ns=(now, now))


async def _read_bounded(response: aiohttp.ClientResponse) -> bytes:
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(CHUNK):
        size += len(chunk)
        if size > MAX_DOWNLOAD:
            raise FileUnavailable("file too big")
        chunks.append(chunk)
    return b"".join(chunks)
