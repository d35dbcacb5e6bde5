"""The learned understanding: a linear model over character and word n-grams.

Two models share one featuriser, both trained from `bot.nlu.corpus` data:
- the intent model (every label and `none`), multinomial logistic regression, whose probability
  is the score; a message below the abstention threshold, or whose best label is `none`, is
  out of scope;
- the emergency model, binary (emergency against everything else, the alarming look-alikes
  weighted up), whose probability feeds a recall-first decision with two thresholds: act at once,
  or ask "is someone in danger right now?".

Hyper-parameters and thresholds live in `knowledge/corpus/model.toml`, chosen on the validation
split by `bench/nlu.py --tune`; training is deterministic, and a trained model is cached on disk
under a hash of its data and parameters, so a restart loads it instead of training again.
"""

from __future__ import annotations

import logging
import os
import pickle
import tomllib
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from bot.nlu.corpus import Example, data_hash
from bot.nlu.knowledge import KnowledgeError
from bot.nlu.normalize import strip_accents, tokens

log = logging.getLogger(__name__)

# Bumped when the featuriser or training code changes, so stale caches are not reused.
MODEL_VERSION = "6"
# Where trained models are cached by a hash of their data, relative to the working directory.
DEFAULT_CACHE_DIR = Path("var/nlu-cache")
EMERGENCY = "emergency"
FIELD_WEIGHT = 3.0
KEEP_CACHED = 4


@dataclass(frozen=True)
class ModelParams:
    """What `knowledge/corpus/model.toml` sets; the defaults are the values chosen on validation."""

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
    """`knowledge/corpus/model.toml` if present, else the defaults."""
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
            char_ngrams=tuple(features.get("char_ngrams", defaults.char_ngrams)),
            word_ngrams=tuple(features.get("word_ngrams", defaults.word_ngrams)),
            min_df=int(features.get("min_df", defaults.min_df)),
        )
    except (TypeError, ValueError) as exc:
        raise KnowledgeError(f"{path.name}: {exc}") from exc


def _symbols(text: str) -> list[str]:
    """Emoji and other pictographs, which the token normaliser drops but people mean (👍, 🙏)."""
    return [ch for ch in text if unicodedata.category(ch) == "So"]


def prepare(text: str) -> str:
    """The one string both n-gram extractors read: normalised tokens of either script, then
    emoji."""
    return " ".join(tokens(text) + _symbols(text))


def variant_text(text: str) -> str:
    """What the variant model reads: the raw message, lower case, without accents."""
    return strip_accents(text.lower())


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams inside word boundaries, each word padded with a space (exactly
    scikit-learn's "char_wb" analyser, so the compiled model reproduces the trained one)."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            if size <= n:  # a short word counts once, whole
                grams.append(padded)
                break
            grams += [padded[i : i + n] for i in range(size - n + 1)]
    return grams


def word_ngrams(text: str, low: int, high: int) -> list[str]:
    words = text.split()
    return [
        " ".join(words[i : i + n]) for n in range(low, high + 1) for i in range(len(words) - n + 1)
    ]


@dataclass
class _Block:
    """One TF-IDF block of the features (sublinear tf, idf, L2-normalised on its own)."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int  # index of this block's first column in the whole feature vector

    def features(self, grams: list[str]) -> tuple[list[int], list[float]]:
        # Counted in C (Counter over a map), not gram by gram: the hottest loop of a message.
        counts: Counter[int | None] = Counter(map(self.vocabulary.get, grams))
        counts.pop(None, None)  # grams outside the vocabulary
        if not counts:
            return [], []
        columns = cast(list[int], list(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), float))) * self.idf[columns]
        values /= np.sqrt(values @ values)
        return [c + self.offset for c in columns], values.tolist()


@dataclass
class Model:
    """A trained intent model and emergency model, compiled to plain arrays: serving needs
    numpy only (scikit-learn is imported to train, never to answer). Thresholds are applied by
    the caller (`bot.nlu.understander.decide`)."""

    params: ModelParams
    char: _Block
    word: _Block
    labels: tuple[str, ...]
    coef: np.ndarray  # labels x features (float32)
    intercept: np.ndarray
    danger_coef: np.ndarray | None = None  # features
    danger_intercept: float = 0.0
    # The variant model: its own character n-grams of the raw text (normalisation would erase
    # what tells French from Arabizi), one row per variant.
    variant_block: _Block | None = None
    variants: tuple[str, ...] = ()
    variant_coef: np.ndarray | None = None
    variant_intercept: np.ndarray | None = None

    def vector(self, text: str) -> tuple[list[int], np.ndarray]:
        prepared = prepare(text)
        c_cols, c_vals = self.char.features(char_ngrams(prepared, *self.params.char_ngrams))
        w_cols, w_vals = self.word.features(word_ngrams(prepared, *self.params.word_ngrams))
        return c_cols + w_cols, np.asarray(c_vals + w_vals, dtype=np.float64)

    def variant(self, text: str) -> tuple[str, float] | None:
        """(variant, probability) of a message written in Latin letters; None without a model."""
        if self.variant_block is None or self.variant_coef is None:
            return None
        columns, values = self.variant_block.features(char_ngrams(variant_text(text), 1, 3))
        logits = self.variant_intercept + self.variant_coef[:, columns] @ np.asarray(values)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        best = int(probs.argmax())
        return self.variants[best], float(probs[best])

    def predict(self, text: str) -> tuple[dict[str, float], float]:
        """(probability of each label, probability that someone is in danger)."""
        columns, values = self.vector(text)
        logits = self.intercept + self.coef[:, columns] @ values
        logits -= logits.max()
        probs = np.exp(logits)
        probs /= probs.sum()
        scores = {label: float(p) for label, p in zip(self.labels, probs, strict=True)}
        # Without a dedicated emergency model (a base with no emergency examples... or only
        # those), the intent model's own probability stands in.
        danger = scores.get(EMERGENCY, 0.0)
        if self.danger_coef is not None:
            z = self.danger_intercept + float(self.danger_coef[columns] @ values)
            danger = 1.0 / (1.0 + np.exp(-z))
        return scores, danger


def train(examples: Sequence[Example], params: ModelParams) -> Model:
    """Deterministic: same examples and parameters, same model."""
    trainer = Trainer(examples, params)
    model = trainer.compile(
        params,
        trainer.fit_intent(params.c),
        trainer.fit_emergency(params.emergency_c, params.alarming_weight),
    )
    trainer.add_variant_model(model)
    return model


class Trainer:
    """The features fitted once on the examples, then the two linear models on them (the
    benchmark fits several of each to choose their regularisation on validation)."""

    def __init__(self, examples: Sequence[Example], params: ModelParams) -> None:
        # Imported here: a process that only answers never loads scikit-learn (~100 MiB).
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        if len({ex.label for ex in examples}) < 2:
            raise KnowledgeError("the model needs examples of at least two labels")
        self.examples = list(examples)
        texts = [prepare(ex.text) for ex in examples]
        common: dict[str, object] = {
            "min_df": params.min_df,
            "sublinear_tf": True,
            "lowercase": False,
            "preprocessor": _identity,
            "dtype": np.float64,
        }
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=params.char_ngrams, **common)
        self.word = TfidfVectorizer(
            analyzer="word", ngram_range=params.word_ngrams, token_pattern=r"\S+", **common
        )
        self.x = sparse.hstack(
            [self.char.fit_transform(texts), self.word.fit_transform(texts)], format="csr"
        )

    def fit_intent(self, c: float) -> Any:
        from sklearn.linear_model import LogisticRegression

        # saga: a third of lbfgs' time on these sparse features for the same validation
        # accuracy; seeded, so training stays deterministic.
        model = LogisticRegression(C=c, solver="saga", tol=1e-3, max_iter=300, random_state=0)
        # Messages coaches reviewed come from the real traffic: they weigh more.
        weights = np.array([FIELD_WEIGHT if ex.source == "field" else 1.0 for ex in self.examples])
        with _quiet():
            return model.fit(
                self.x, np.array([ex.label for ex in self.examples]), sample_weight=weights
            )

    def fit_emergency(self, c: float, alarming_weight: float) -> Any | None:
        from sklearn.linear_model import LogisticRegression

        danger = np.array([ex.label == EMERGENCY for ex in self.examples])
        if not danger.any() or danger.all():
            return None
        weights = np.array(
            [alarming_weight if ex.source == "alarming" else 1.0 for ex in self.examples]
        )
        model = LogisticRegression(C=c, solver="saga", tol=1e-3, max_iter=300, random_state=0)
        with _quiet():
            return model.fit(self.x, danger, sample_weight=weights)

    def add_variant_model(self, model: Model) -> None:
        """Learn French / Darija in Latin letters / Darija in Arabic script from the files the
        examples come from (the corpus files are per variant)."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        if len({ex.variant for ex in self.examples}) < 2:
            return
        vectoriser = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(1, 3),
            min_df=2,
            sublinear_tf=True,
            preprocessor=variant_text,
            dtype=np.float64,
        )
        x = vectoriser.fit_transform([ex.text for ex in self.examples])
        fitted = LogisticRegression(C=10.0, solver="saga", tol=1e-3, max_iter=300, random_state=0)
        with _quiet():
            fitted.fit(x, [ex.variant for ex in self.examples])
        coef, intercept = fitted.coef_, fitted.intercept_
        if coef.shape[0] == 1:
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        model.variant_block = _Block(
            dict(vectoriser.vocabulary_), vectoriser.idf_.astype(np.float64), 0
        )
        model.variants = tuple(str(c) for c in fitted.classes_)
        model.variant_coef = coef.astype(np.float32)
        model.variant_intercept = intercept.astype(np.float64)

    def compile(self, params: ModelParams, intent: Any, emergency: Any | None) -> Model:
        coef, intercept = intent.coef_, intent.intercept_
        if coef.shape[0] == 1:
            # Two labels: scikit-learn keeps one row (a sigmoid); the softmax of (-z/2, z/2)
            # is that same sigmoid, so one code path serves both.
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        model = Model(
            params=params,
            char=_Block(dict(self.char.vocabulary_), self.char.idf_.astype(np.float64), 0),
            word=_Block(
                dict(self.word.vocabulary_),
                self.word.idf_.astype(np.float64),
                len(self.char.vocabulary_),
            ),
            labels=tuple(str(c) for c in intent.classes_),
            coef=coef.astype(np.float32),
            intercept=intercept.astype(np.float64),
        )
        if emergency is not None:
            model.danger_coef = emergency.coef_[0].astype(np.float32)
            model.danger_intercept = float(emergency.intercept_[0])
        return model


@contextmanager
def _quiet() -> Iterator[None]:
    """saga stops at max_iter before its strict tolerance on the largest model; the iterations
    are a budget chosen on validation accuracy, so the convergence warning is noise here."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _identity(text: str) -> str:
    return text


def load_or_train(
    examples: Sequence[Example],
    params: ModelParams,
    directory: Path | None = DEFAULT_CACHE_DIR,
    extra_key: str = "",
) -> Model:
    """The model for these examples: from the cache in `directory` when it has one, else
    trained and cached there (None: no cache). `extra_key` is whatever else shapes the
    features (the word lists' fingerprint)."""
    key = data_hash(examples, params.key(), extra_key)[:24]
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
            # Older models (of data since edited) go, but for a few: another process may
            # still be starting on one.
            stale = sorted(path.parent.glob("model-*.pickle"), key=lambda p: p.stat().st_mtime)
            for old in stale[:-KEEP_CACHED]:
                old.unlink(missing_ok=True)
        except OSError:
            log.warning("could not cache the model in %s", directory)
    return model
