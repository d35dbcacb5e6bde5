"""The learned understanding: a linear model over character and word n-grams.

Two models share one featuriser, both trained from `bot.nlu.corpus` data:
- the intent model (every label and `none`), multinomial logistic regression, whose probability
  is the score; a message below the abstention threshold, or whose best label is `none`, is
  out of scope;
- the emergency model, binary (emergency against everything else, the alarming look-alikes
  weighted up), whose probability feeds a recall-first decision with two thresholds: act at once,
  or ask "is someone in danger right now?".

Hyper-parameters and thresholds live in `knowledge/nlu.toml`, chosen on the validation split by
`bench/nlu.py --tune`; training is deterministic, and a trained model is cached on disk under a
hash of its data and parameters, so a restart loads it instead of training again.
"""

from __future__ import annotations

import logging
import os
import pickle
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlu.corpus import NONE, Example, data_hash
from bot.nlu.knowledge import KnowledgeError
from bot.nlu.normalize import tokens

log = logging.getLogger(__name__)

# Bumped when the featuriser or training code changes, so stale caches are not reused.
MODEL_VERSION = "1"
EMERGENCY = "emergency"


@dataclass(frozen=True)
class ModelParams:
    """What `knowledge/nlu.toml` sets; the defaults are the values chosen on validation."""

    c: float = 10.0  # inverse regularisation of the intent model
    emergency_c: float = 10.0
    alarming_weight: float = 3.0  # weight of an alarming look-alike in the emergency model
    threshold: float = 0.35  # below this probability the intent is "none"
    emergency_act: float = 0.7  # at or above: act at once
    emergency_ask: float = 0.25  # at or above (and below act): ask
    char_ngrams: tuple[int, int] = (2, 5)
    word_ngrams: tuple[int, int] = (1, 2)
    min_df: int = 2

    def key(self) -> str:
        # Only what changes training is part of the cache key; thresholds are applied after.
        return repr(
            (
                MODEL_VERSION,
                self.c,
                self.emergency_c,
                self.alarming_weight,
                self.char_ngrams,
                self.word_ngrams,
                self.min_df,
            )
        )


def load_params(path: Path) -> ModelParams:
    """`knowledge/nlu.toml` if present, else the defaults."""
    if not path.exists():
        return ModelParams()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path.name}: {exc}") from exc
    intent = data.get("intent", {})
    emergency = data.get("emergency", {})
    features = data.get("features", {})
    defaults = ModelParams()
    try:
        return ModelParams(
            c=float(intent.get("c", defaults.c)),
            threshold=float(intent.get("threshold", defaults.threshold)),
            emergency_c=float(emergency.get("c", defaults.emergency_c)),
            alarming_weight=float(emergency.get("alarming_weight", defaults.alarming_weight)),
            emergency_act=float(emergency.get("act", defaults.emergency_act)),
            emergency_ask=float(emergency.get("ask", defaults.emergency_ask)),
            char_ngrams=tuple(features.get("char_ngrams", defaults.char_ngrams)),  # type: ignore[arg-type]
            word_ngrams=tuple(features.get("word_ngrams", defaults.word_ngrams)),  # type: ignore[arg-type]
            min_df=int(features.get("min_df", defaults.min_df)),
        )
    except (TypeError, ValueError) as exc:
        raise KnowledgeError(f"{path.name}: {exc}") from exc


def _symbols(text: str) -> list[str]:
    """Emoji and other pictographs, which the token normaliser drops but people mean (👍, 🙏)."""
    return [ch for ch in text if unicodedata.category(ch) == "So"]


def prepare(text: str) -> str:
    """The one string both vectorisers read: normalised tokens of either script, then emoji."""
    return " ".join(tokens(text) + _symbols(text))


def _identity(text: str) -> str:
    return text


@dataclass
class Featuriser:
    char: TfidfVectorizer
    word: TfidfVectorizer

    @classmethod
    def fit(cls, texts: Sequence[str], params: ModelParams) -> Featuriser:
        char = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=params.char_ngrams,
            min_df=params.min_df,
            sublinear_tf=True,
            lowercase=False,
            preprocessor=_identity,
            dtype=np.float32,
        )
        word = TfidfVectorizer(
            analyzer="word",
            ngram_range=params.word_ngrams,
            min_df=params.min_df,
            sublinear_tf=True,
            lowercase=False,
            preprocessor=_identity,
            token_pattern=r"\S+",
            dtype=np.float32,
        )
        char.fit(texts)
        word.fit(texts)
        return cls(char, word)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return sparse.hstack([self.char.transform(texts), self.word.transform(texts)], format="csr")


@dataclass
class Model:
    """A trained intent model and emergency model; thresholds are applied by the caller."""

    features: Featuriser
    intent: LogisticRegression
    emergency: LogisticRegression | None
    labels: tuple[str, ...] = field(default=())

    def predict(self, text: str) -> tuple[dict[str, float], float]:
        """(probability of each label, probability that someone is in danger)."""
        x = self.features.transform([prepare(text)])
        probs = self.intent.predict_proba(x)[0]
        scores = {label: float(p) for label, p in zip(self.labels, probs, strict=True)}
        danger = 0.0
        if self.emergency is not None:
            danger = float(self.emergency.predict_proba(x)[0][1])
        return scores, danger


def train(examples: Sequence[Example], params: ModelParams) -> Model:
    """Deterministic: same examples and parameters, same model."""
    if len({ex.label for ex in examples}) < 2:
        raise KnowledgeError("the model needs examples of at least two labels")
    texts = [prepare(ex.text) for ex in examples]
    features = Featuriser.fit(texts, params)
    x = features.transform(texts)
    y = np.array([ex.label for ex in examples])
    intent = LogisticRegression(C=params.c, max_iter=2000, tol=1e-4)
    intent.fit(x, y)
    intent.coef_ = intent.coef_.astype(np.float32)  # half the memory, same decisions
    emergency = None
    danger = np.array([ex.label == EMERGENCY for ex in examples])
    if danger.any() and not danger.all():
        weights = np.array(
            [params.alarming_weight if ex.source == "alarming" else 1.0 for ex in examples]
        )
        emergency = LogisticRegression(C=params.emergency_c, max_iter=2000, tol=1e-4)
        emergency.fit(x, danger, sample_weight=weights)
        emergency.coef_ = emergency.coef_.astype(np.float32)
    labels = tuple(str(c) for c in intent.classes_)
    return Model(features, intent, emergency, labels)


def cache_dir() -> Path | None:
    """Where trained models are kept: HOTLINE_NLU_CACHE_DIR, else var/nlu-cache (none: off)."""
    value = os.environ.get("HOTLINE_NLU_CACHE_DIR", "var/nlu-cache")
    return Path(value) if value else None


def load_or_train(
    examples: Sequence[Example], params: ModelParams, directory: Path | None = None
) -> Model:
    """The model for these examples: from the cache when it has one, else trained and cached."""
    directory = directory if directory is not None else cache_dir()
    key = data_hash(examples, params.key())[:24]
    path = directory / f"model-{key}.pickle" if directory else None
    if path is not None and path.exists():
        try:
            with path.open("rb") as handle:
                # Our own cache directory, written by train() below: not untrusted input.
                model = pickle.load(handle)
            if isinstance(model, Model):
                return model
        except Exception:  # a truncated or stale file: train again
            log.warning("unreadable model cache %s; training again", path)
    model = train(examples, params)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as handle:
                pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(path)  # atomic: another process never reads half a file
        except OSError:
            log.warning("could not cache the model in %s", directory)
    return model


def labels_without_none(model: Model) -> list[str]:
    return [label for label in model.labels if label != NONE]
