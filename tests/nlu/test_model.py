"""The compiled model answers exactly as the scikit-learn objects it was trained as, and training
is deterministic."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from bot.nlu.corpus import Example, load_corpus
from bot.nlu.knowledge import load_knowledge
from bot.nlu.model import ModelParams, Trainer, char_ngrams, load_or_train, prepare, train

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
SAMPLES = [
    "c koi un sociogramme svp",
    "واش ممكن الكوتش يعيط ليا غدا؟",
    "salam ana ra2isat jam3iya f Bouarfa, bghit n3ref kifach ndiro plan d'action",
    "kayn wa7ed tay7 w ma kaytneffesch",
    "👍",
    "",
    "zzzz qqqq",
]


@pytest.fixture(scope="module")
def small() -> list[Example]:
    entries = load_knowledge(KNOWLEDGE)
    return load_corpus(KNOWLEDGE, entries, toml_examples=True)[::7]


def test_compiled_model_matches_scikit_learn(small: list[Example]) -> None:
    params = ModelParams()
    trainer = Trainer(small, params)
    intent = trainer.fit_intent(params.c)
    emergency = trainer.fit_emergency(params.emergency_c, params.alarming_weight)
    model = trainer.compile(params, intent, emergency)
    char, word = trainer.char, trainer.word
    for text in SAMPLES:
        prepared = [prepare(text)]
        x = sparse.hstack([char.transform(prepared), word.transform(prepared)], format="csr")
        expected = dict(zip(intent.classes_, intent.predict_proba(x)[0], strict=True))
        scores, danger = model.predict(text)
        assert scores == pytest.approx(expected, abs=1e-5), text
        assert danger == pytest.approx(emergency.predict_proba(x)[0][1], abs=1e-5), text


def test_training_is_deterministic(small: list[Example]) -> None:
    a, b = train(small, ModelParams()), train(small, ModelParams())
    assert np.array_equal(a.coef, b.coef)
    assert a.labels == b.labels


def test_cache_by_data_hash(small: list[Example], tmp_path: Path) -> None:
    first = load_or_train(small, ModelParams(), tmp_path)
    files = list(tmp_path.glob("model-*.pickle"))
    assert len(files) == 1
    again = load_or_train(small, ModelParams(), tmp_path)
    assert np.array_equal(first.coef, again.coef)
    load_or_train(small[:-5], ModelParams(), tmp_path)  # other data: another file
    assert len(list(tmp_path.glob("model-*.pickle"))) == 2
    files[0].write_bytes(b"truncated")  # a broken cache trains again instead of failing
    assert load_or_train(small, ModelParams(), tmp_path).labels == first.labels


def test_answering_does_not_import_scikit_learn(small: list[Example], tmp_path: Path) -> None:
    model = train(small, ModelParams())
    path = tmp_path / "model.pickle"
    path.write_bytes(pickle.dumps(model))
    code = (
        "import pickle, sys; m = pickle.loads(open(sys.argv[1], 'rb').read()); "
        "m.predict('c koi un sociogramme'); print('sklearn' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("low, high", [(1, 1), (1, 3), (2, 5), (4, 4)])
@pytest.mark.parametrize(
    "text",
    ["a", "ab", "abc", "salam 3afak", "واش كاين", "c koi  un sociogramme", "👍 ok", ""],
)
def test_character_ngrams_are_scikit_learns_char_wb(text: str, low: int, high: int) -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    analyse = CountVectorizer(
        analyzer="char_wb", ngram_range=(low, high), lowercase=False
    ).build_analyzer()
    assert char_ngrams(text, low, high) == analyse(text)
