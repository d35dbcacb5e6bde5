"""Words that leave a flow, and words that acknowledge the framework, in the three variants.

Matched on normalised tokens (bot.nlu.normalize), so spellings and accents vary freely. A
message counts when it is made only of such phrases and of politeness ("laisse tomber
merci", "non, ce n'est pas un problème", "safi baraka"): "le chantier est arrêté" is an
answer, not a way out.
"""

from __future__ import annotations

from bot.nlu.normalize import tokens

# Messages longer than this (in words) are never taken as leaving or acknowledging.
SHORT = 8

# Politeness and fillers that may surround the phrase.
_FILLERS = """
non merci svp stp alors bon bah ben finalement enfin please
la lla chokran choukran 3afak afak ya rah
لا شكرا عافاك يا راه
"""

_LEAVE = """
annuler
annule
annulez
laisse tomber
laissez tomber
on abandonner
j'abandonne
c'est bon
plus besoin
pas la peine
ce n'est pas un probleme
c'est pas un probleme
pas un probleme
pas de probleme
aucun probleme
non merci
oublie
oubliez
cancel
safi
baraka
barak
khlas
salina
khalli
khelli
sme7 liya
mat9ol walo
machi mochkil
ma kayn mochkil
makayn mochkil
ma kayn walo
la chokran
خلاص
صافي
باراكا
بركة
سالينا
خلي
خليها
ماشي مشكل
ما كاين مشكل
ماكاين مشكل
ما كاين والو
لا شكرا
الغي
إلغاء
"""

_ACK = """
ok
okay
oki
d'accord
dac
compris
j'ai compris
bien compris
entendu
c'est compris
c'est note
oui
oui d'accord
ok d'accord
ok merci
d'accord merci
wakha
waxa
fhemt
fhmt
mefhoum
mfhoum
safi fhemt
iyeh
ah
واخا
فهمت
مفهوم
صافي فهمت
اه
إيه
ايه
"""


def _phrases(raw: str) -> tuple[tuple[str, ...], ...]:
    found = [tuple(tokens(line)) for line in raw.strip().splitlines() if line.strip()]
    return tuple(sorted({p for p in found if p}, key=len, reverse=True))


LEAVE_PHRASES = _phrases(_LEAVE)
ACK_PHRASES = _phrases(_ACK)


FILLERS = frozenset(tokens(_FILLERS))


def _only(text: str, phrases: tuple[tuple[str, ...], ...], fillers: frozenset[str]) -> bool:
    """The message is made of these phrases (at least one) and fillers, nothing else."""
    words = tokens(text)
    if not words or len(words) > SHORT:
        return False
    rest, found = list(words), False
    for phrase in phrases:  # longest first
        n, i = len(phrase), 0
        while i + n <= len(rest):
            if tuple(rest[i : i + n]) == phrase:
                del rest[i : i + n]
                found = True
            else:
                i += 1
    return found and all(word in fillers for word in rest)


def leaves(text: str) -> bool:
    """A message that says "leave it" ("annuler", "laisse tomber", "خلاص", "safi")."""
    return _only(text, LEAVE_PHRASES, FILLERS)


def acknowledges(text: str) -> bool:
    """A message that only acknowledges ("ok d'accord", "wakha", "فهمت")."""
    return _only(text, ACK_PHRASES, FILLERS - {"non", "la", "لا"})
