"""The support rule: a label reached only through everyday words is scored down."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.nlu import Understander
from bot.nlu.matcher import GENERIC_TOKENS, Matcher, MatcherParams, content_tokens

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture(scope="module")
def without_rule() -> Understander:
    return Understander(KNOWLEDGE, params=MatcherParams(unsupported_factor=1.0))


def _matcher(understander: Understander) -> Matcher:
    return understander._base.matcher


def test_generic_words_are_no_anchor(understander: Understander) -> None:
    matcher = _matcher(understander)
    phone = content_tokens("téléphone")[0]
    assert phone in GENERIC_TOKENS
    assert not matcher.is_anchor(phone, phone)
    sociogram = content_tokens("sociogramme")[0]
    assert matcher.is_anchor(sociogram, sociogram)


@pytest.mark.parametrize(
    "text",
    [
        "je cherche un portable pas cher",
        "كاين شي خدمة هاد السيمانة",
        "chi khedma f lil",
        "je travaille la nuit",
    ],
)
def test_everyday_words_alone_are_out_of_scope(
    understander: Understander, without_rule: Understander, text: str
) -> None:
    # Without the rule these reach a label through the knowledge base's everyday words.
    assert without_rule.understand(text).intent != "none"
    assert understander.understand(text).intent == "none"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("faut-il éteindre le téléphone pendant la réunion", "group_rules"),
        ("3tini numero dyal coach", "talk_to_coach"),
        ("bonne nuit merci", "goodbye"),
    ],
)
def test_a_domain_word_keeps_the_match(understander: Understander, text: str, intent: str) -> None:
    assert understander.understand(text).intent == intent


def test_the_rule_lowers_only_unsupported_labels(
    understander: Understander, without_rule: Understander
) -> None:
    with_rule, plain = _matcher(understander), _matcher(without_rule)
    text = "faut-il éteindre le téléphone pendant la réunion"
    assert with_rule.scores(text)["group_rules"] == pytest.approx(plain.scores(text)["group_rules"])
    text = "je cherche un portable pas cher"
    factor = MatcherParams().unsupported_factor
    assert with_rule.scores(text)["group_rules"] == pytest.approx(
        factor * plain.scores(text)["group_rules"]
    )


def test_emergency_is_exempt(understander: Understander, without_rule: Understander) -> None:
    text = "une personne est tombée à la maison"
    assert understander.scores(text).get("emergency") == without_rule.scores(text).get("emergency")


def test_an_unseen_spelling_of_a_concept_is_not_an_unknown_word(
    understander: Understander,
) -> None:
    # "tilifon" and "ijtima3" appear in no example, but their concepts (@phone, @meeting) do.
    matcher = _matcher(understander)
    text = "wach khassna ntfiw tilifon f l ijtima3"
    assert not matcher._neighbours(content_tokens("ijtima3")[0])
    assert understander.understand(text).intent == "group_rules"


def test_a_short_fuzzy_match_is_no_anchor(understander: Understander) -> None:
    matcher = _matcher(understander)
    monitoring = content_tokens("suivi")[0]
    assert matcher.is_anchor(monitoring, monitoring, 1.0)
    assert not matcher.is_anchor("kaitibu", "kaitiba", 0.86)  # "they cook" vs "they follow"
    long_typo = content_tokens("sociograme")[0]
    assert matcher.is_anchor(long_typo, content_tokens("sociogramme")[0], 0.86)
