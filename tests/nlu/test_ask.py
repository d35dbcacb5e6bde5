from __future__ import annotations

import io
import json

import pytest

from bot.core.config import Settings
from bot.review import ask
from tests.nlu.conftest import KNOWLEDGE


def test_jsonl(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["c'est quoi un sociogramme", "واش اللجنة غادي تجتمع هاد السيمانة؟", "", "salam"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert ask.main(["--jsonl", "--knowledge", str(KNOWLEDGE)]) == 0
    out = capsys.readouterr().out
    assert "\\u" not in out  # ensure_ascii=False
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 3  # blank lines are skipped
    for row in rows:
        assert set(row) == {"text", "intent", "score", "lang"}
        assert 0.0 <= row["score"] <= 1.0
        assert row["lang"] in ("fr", "ary", "ary-Latn")
    assert rows[0]["intent"] == "sociogram"
    assert rows[1]["lang"] == "ary"
    assert rows[1]["text"] == lines[1]


def test_single_question_and_env(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOTLINE_KNOWLEDGE_DIR", str(KNOWLEDGE))
    assert ask.main(["bonjour"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row == {"text": "bonjour", "intent": "greeting", "score": row["score"], "lang": "fr"}


def test_knowledge_dir_resolution() -> None:
    default = Settings.from_env({})
    assert ask.knowledge_dir(None, default) == KNOWLEDGE
    elsewhere = Settings.from_env({"HOTLINE_KNOWLEDGE_DIR": "/elsewhere"})
    assert str(ask.knowledge_dir(None, elsewhere)) == "/elsewhere"
    assert str(ask.knowledge_dir("/flag", elsewhere)) == "/flag"
