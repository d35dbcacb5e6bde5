from __future__ import annotations

import pytest

from bot.review.mask import mask


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("je m'appelle Fatima Zahra, mon numéro 0612345678", "je m'appelle NAME, mon numéro PHONE"),
        ("appelez-moi au +212 6 61 22 33 44 svp", "appelez-moi au PHONE svp"),
        ("السلام عليكم، أنا فاطمة رئيسة جمعية النور", "السلام عليكم، أنا NAME رئيسة جمعية النور"),
        ("salam ana Karim mn Figuig", "salam ana NAME mn Figuig"),
        ("écrivez à karim.b@example.org ou @karimb", "écrivez à EMAIL ou NAME"),
        # Roles and states after "je suis / ana" are not names.
        ("Bonjour, je suis trésorier de l'association Al Amal", None),
        ("je suis perdu avec ce plan", None),
        ("salam ana ra2is jam3iya", None),
        ("أنا رئيس الجمعية", None),
        ("le plan de 2027 prévoit 3 ateliers", None),
    ],
)
def test_mask(text: str, masked: str | None) -> None:
    assert mask(text) == (text if masked is None else masked)


def test_known_names_are_masked_wherever_they_appear() -> None:
    assert mask("Benali a dit que karim viendrait", ["Karim Benali", "Karim", "Benali"]) == (
        "NAME a dit que NAME viendrait"
    )
