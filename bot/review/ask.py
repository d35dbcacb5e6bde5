"""`hotline ask`: run the understanding layer on one question or on JSON lines from stdin."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.core.config import Settings
from bot.nlu import lexicon
from bot.nlu.understander import Understander


def knowledge_dir(flag: str | None, settings: Settings) -> Path:
    """--knowledge flag, else the settings' (HOTLINE_KNOWLEDGE_DIR, else knowledge/)."""
    return Path(flag) if flag else settings.knowledge_dir


def _record(understander: Understander, text: str) -> str:
    u = understander.understand(text)
    out = {"text": text, "intent": u.intent, "score": u.score, "lang": u.lang}
    return json.dumps(out, ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline ask", description=__doc__)
    parser.add_argument("question", nargs="?", help="one question to understand")
    parser.add_argument("--jsonl", action="store_true", help="read one message per stdin line")
    parser.add_argument("--knowledge", metavar="DIR", help="knowledge directory")
    args = parser.parse_args(argv)
    if not args.jsonl and args.question is None:
        parser.error("give a question or --jsonl")
    settings = Settings.from_env()
    directory = knowledge_dir(args.knowledge, settings)
    lexicon.use(directory)
    understander = Understander(directory, cache_dir=settings.nlu_cache_dir)
    if args.jsonl:
        for line in sys.stdin:
            text = line.rstrip("\r\n")
            if text.strip():
                print(_record(understander, text), flush=False)
        sys.stdout.flush()
    else:
        print(_record(understander, args.question))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
