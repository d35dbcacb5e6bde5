from __future__ import annotations

import pytest

from bot.nlu import identify_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Bonjour, c'est quoi le rôle du coach ?", "fr"),
        ("slt svp c koi le role du coach", "fr"),
        ("quand est-ce que le comité se réunit", "fr"),
        ("merci beaucoup", "fr"),
        ("واش اللجنة غادي تجتمع هاد السيمانة؟", "ary"),
        ("السلام عليكم", "ary"),
        ("واش le plan d'action تصادق عليه؟", "ary"),  # code-switching, Arabic script dominant
        ("wach lijna ghadi tjtame3 had simana", "ary-Latn"),
        ("bghit n3ref kifach nsayb plan d'action m3a la commune", "ary-Latn"),
        ("chno howa le sociogramme", "ary-Latn"),  # French noun inside Arabizi
        ("salam khoya", "ary-Latn"),
        ("wa9e3 chi 7aja khatira", "ary-Latn"),
    ],
)
def test_identify_language(text: str, lang: str) -> None:
    assert identify_language(text) == lang


def test_arabizi_with_french_domain_nouns_and_elision() -> None:
    # "d'" is shared by French and Arabizi; "nwjdo" is a conjugated Darija verb.
    assert identify_language("kifach nwjdo plan d'action") == "ary-Latn"
