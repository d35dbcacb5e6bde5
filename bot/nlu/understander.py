"""The Understander: knowledge and model loaded once, messages mapped to labels, answers served."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.nlu import langid, lexicon
from bot.nlu.corpus import NONE, Example, load_corpus
from bot.nlu.knowledge import VARIANTS, KnowledgeEntry, load_knowledge
from bot.nlu.langid import identify_language
from bot.nlu.model import (
    DEFAULT_CACHE_DIR,
    EMERGENCY,
    Model,
    ModelParams,
    load_or_train,
    load_params,
)

log = logging.getLogger(__name__)

PARAMS_FILE = "corpus/model.toml"
# From this probability the variant of a message is taken as known.
LANG_SURE = 0.8
DEFAULT_THRESHOLD = ModelParams().threshold


@dataclass(frozen=True)
class Understanding:
    intent: str  # a knowledge topic id, an action id, or "none"
    score: float  # calibrated confidence in 0..1; for "emergency", the probability of danger
    lang: str  # one of VARIANTS
    # For an emergency: True when sure enough to act at once, False when the person is asked.
    urgent: bool = False
    # How sure the variant is: "ok" or "plan" could be French or Darija. A short unsure message
    # should not switch a person's language (see LANG_SURE).
    lang_confidence: float = 1.0

    @property
    def lang_sure(self) -> bool:
        return self.lang_confidence >= LANG_SURE


@dataclass(frozen=True)
class _Base:
    entries: dict[str, KnowledgeEntry]
    params: ModelParams
    model: Model


class Understander:
    """Maps a message to an intent and serves knowledge answers.

    `extra` gives training examples kept outside the files (messages coaches reviewed, from the
    database); `reload()` takes a new list, so a review joins the model at the next /reload.
    """

    def __init__(
        self,
        knowledge_dir: Path,
        threshold: float | None = None,
        *,
        extra: Iterable[Example] = (),
        cache_dir: Path | None = DEFAULT_CACHE_DIR,
    ) -> None:
        self.knowledge_dir = Path(knowledge_dir)
        self._threshold = threshold
        self._cache_dir = cache_dir
        self._extra: tuple[Example, ...] = tuple(extra)
        self._lock = threading.Lock()
        self._base = self._load()

    @classmethod
    def with_model(cls, knowledge_dir: Path, model: Model) -> Understander:
        """An understander answering with a given model (the benchmark's, trained on the train
        split only), through exactly the path the bot uses."""
        self = cls.__new__(cls)
        self.knowledge_dir = Path(knowledge_dir)
        self._threshold = None
        self._cache_dir = None
        self._extra = ()
        self._lock = threading.Lock()
        self._base = _Base(load_knowledge(knowledge_dir), model.params, model)
        return self

    def _load(self) -> _Base:
        entries = load_knowledge(self.knowledge_dir)
        params = load_params(self.knowledge_dir / PARAMS_FILE)
        examples = load_corpus(self.knowledge_dir, entries) + list(self._extra)
        langid.reload()  # the word lists feed the features: an edit retrains
        model = load_or_train(examples, params, self._cache_dir, lexicon.fingerprint())
        return _Base(entries, params, model)

    def reload(self, extra: Sequence[Example] | None = None) -> None:
        """Re-read the knowledge files and retrain if the data changed; on failure keep serving
        the previous base and re-raise."""
        with self._lock:
            previous = self._extra
            if extra is not None:
                self._extra = tuple(extra)
            try:
                base = self._load()
            except Exception:
                self._extra = previous
                log.exception("knowledge reload failed; keeping the previous knowledge base")
                raise
            self._base = base  # one reference swap: readers see either the old or the new base
        log.info("knowledge reloaded: %d labels", len(base.entries))

    @property
    def threshold(self) -> float:
        return self._base.params.threshold if self._threshold is None else self._threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        self._threshold = value

    @property
    def emergency_act(self) -> float:
        return self._base.params.emergency_act

    @property
    def emergency_ask(self) -> float:
        return self._base.params.emergency_ask

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(sorted(self._base.entries))

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(sorted(e.id for e in self._base.entries.values() if e.kind == "topic"))

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(sorted(e.id for e in self._base.entries.values() if e.kind == "action"))

    def entry(self, label: str) -> KnowledgeEntry | None:
        return self._base.entries.get(label)

    def next_step(self, topic: str) -> str | None:
        entry = self._base.entries.get(topic)
        return entry.next if entry else None

    def scores(self, text: str) -> dict[str, float]:
        """The probability of every label (and of "none") for a message."""
        return self._base.model.predict(text)[0]

    def language(self, text: str) -> tuple[str, float]:
        """(variant, confidence): Arabic script is Darija; in Latin letters the learned variant
        model tells French from Arabizi, the word lists standing in without one."""
        lang = identify_language(text)
        if lang == "ary":
            return lang, 1.0
        learned = self._base.model.variant(text)
        if learned is None or learned[0] == "ary":
            return lang, 0.5
        return learned

    def understand(self, text: str, *, danger: bool = True) -> Understanding:
        """The intent of a message; `danger=False` when the person said nobody is in danger."""
        lang, lang_confidence = self.language(text)
        if not text.strip():
            return Understanding(NONE, 0.0, lang, lang_confidence=lang_confidence)
        base = self._base
        params = base.params
        if self._threshold is not None:
            params = replace(params, threshold=self._threshold)
        scores, level = base.model.predict(text)
        if EMERGENCY not in base.entries:
            danger = False
        intent, score, urgent = decide(scores, level, params, danger=danger)
        return Understanding(intent, score, lang, urgent=urgent, lang_confidence=lang_confidence)

    def answer(self, topic: str, lang: str) -> str | None:
        """The knowledge answer of a topic in a variant (French if the variant is unknown)."""
        entry = self._base.entries.get(topic)
        if entry is None or not entry.answer:
            return None
        if lang not in VARIANTS:
            lang = "fr"
        return entry.answer.get(lang) or entry.answer.get("fr")


def decide(
    scores: dict[str, float], level: float, params: ModelParams, *, danger: bool = True
) -> tuple[str, float, bool]:
    """(intent, score, urgent) from the two models' outputs (label probabilities, probability
    of danger from the dedicated emergency model): the one decision rule, shared with the
    benchmark so what is measured is what runs. `danger=False` leaves emergency out (the person
    said nobody is in danger)."""
    if danger and level >= params.emergency_ask:
        return EMERGENCY, round(level, 3), level >= params.emergency_act
    ranked = sorted(
        ((label, p) for label, p in scores.items() if label != EMERGENCY),
        key=lambda kv: kv[1],
        reverse=True,
    )
    intent, score = ranked[0] if ranked else (NONE, 0.0)
    if intent == NONE:
        # How close the best in-scope label came: for the review queue and the benchmark.
        score = next((p for label, p in ranked if label != NONE), 0.0)
    elif score < params.threshold:
        intent = NONE
    return intent, round(min(1.0, score), 3), False
