"""`hotline ask`: run the understanding layer on one question or on JSON lines from stdin."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bot.nlu.understander import Understander

DEFAULT_KNOWLEDGE_DIR = Path(__file__).resolve().parents[2] / "knowledge"


def knowledge_dir(flag: str | None = None) -> Path:
    """--knowledge flag, else HOTLINE_KNOWLEDGE_DIR, else the repository's knowledge/."""
    if flag:
        return Path(flag)
    env = os.environ.get("HOTLINE_KNOWLEDGE_DIR")
    return Path(env) if env else DEFAULT_KNOWLEDGE_DIR


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
    understander = Understander(knowledge_dir(args.knowledge))
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
