"""Which variant a message is in: French, Darija in Arabic script, Darija in Latin script."""

from __future__ import annotations

import re

from bot.nlu.normalize import key_set, latin_key, strip_accents

_ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3]")
_LATIN_LETTER = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_WORD = re.compile(r"[a-z0-9]+")
# A digit glued to letters is an Arabizi letter ("3la", "m3a", "l7al", "9ra").
_DIGIT_LETTER = re.compile(r"[a-z][235789]|[235789][a-z]")

# Darija words written in Latin script: function words, frequent verbs and nouns.
_DARIJA_RAW = """
wach wash ouach ach achno ashno chno chnou chnu chnahuwa kifach kifash kifech kif kifen kifin fin
fayn fen mnin imta emta fo9ach fuqash ch7al chhal 3lach alach 3lache bghit bghina bghat bgha bghiti
bghitou n9der nqder ne9der kan kant kano kanu kayn kayna kaynin kaynine makaynch makaynach machi
mashi dyal dial diali dyali dyalna dialna dyalkom dialkom dyalek dialek dyalou dyalha m3a ma3a 3la
ala 3lih 3liha 3lina had hada hadi hadou hadu hadchi hadak hadik dak dik daba ila ilakan walakin
walakine walaken ana nta nti ntouma ntuma 7na hna howa huwa hiya khoya khouya khuya khti khtii
bzaf bezaf bezzaf mzyan mezyan mzian zwin chi chwiya chwia wakha wakhha safi 3afak afak 3afakom
bach hit 7it 7ta hta lli elli illi wla walo walou ga3 gaa3 kolchi koulchi kamlin khas khass khassna
khassni khasni l7a9 fhemt fhmt nfhem nfhm n3ref n3rf n3arf kifma mli melli sir sift seft nsift
imken ymken yemken yak yakma rah raha rani rahom ghadi ghad radi gha ndir ndiro dir diro kaydir
kandir kandiro nsewel nsowel nsawal s9si gol goul 9oul galt gal glt salam slm bslama beslama
bsslama hamdullah hamdoulah lhamdulilah labas lbas bikhir bikher chokran choukran shukran
baraka lah llah allah inchallah nchallah 3ndi 3andi 3ndna 3andna 3ndkom andi andna lijna lajna
jam3iya jam3ia jam3ya t3awniya t3awnia ta3awniya l3amal khdma khedma lkhdma nass drari mochkil
mouchkil mochkila lmochkil mashakil bghit nbghi kanbghi wlad mra rajel 3yalat tfel tfla derri
wlla ola ou9t w9t lwe9t lw9t sa3a nhar lyoum lyom ghedda ghda lbare7 simana chhar 3am rasi
rassi yallah yalah bsah wa3ra 3ajbni mabghitch ma3reftch man3rfch ma3rftch mafhemtch
fach fash chkoun chkun mnin f l b
"""
# French words frequent in the hotline's domain and in everyday writing.
_FRENCH_RAW = """
le la les un une des du de et est c ce cette ces je tu il elle nous vous ils elles on mon ma mes
ton ta notre votre leur pour par avec sans dans sur sous que qui quoi quel quelle quels comment
pourquoi quand combien pas ne plus tres bien bonjour bonsoir salut merci svp stp slt bjr koi pk
au aux aussi mais donc car si faire fait peut peux veux voudrais faut avoir ai avons etre suis sont
j n l d qu m s t est-ce y en ou aujourd hui demain hier semaine mois toujours jamais encore
deja souvent beaucoup peu rien tout tous toute toutes autre autres comme chez entre apres avant
votre vos nos cela ca cv moi toi lui eux leurs oui non peut-etre bonne journee soir madame monsieur
comite reunion plan action projet association cooperative commune territoire coach engagement
suivi evaluation atelier dialogue protocole regles confidentialite donnees besoin aide probleme
"""
# Darija verbs conjugated with a person prefix before a consonant cluster ("nwjdo", "tbloka",
# "nchouf", "ysayni"): French words hardly ever start that way.
_DARIJA_VERB = re.compile(r"^[ntyk][bcdfghjklmnpqrstvwxz]{2}")
# Elided French articles ("d'action" -> "d") also appear in Arabizi: no evidence either way.
_ELISION = frozenset({"d", "l"})
_DARIJA = key_set(_DARIJA_RAW.split())
_FRENCH = key_set(_FRENCH_RAW.split())
# Words both vocabularies share once normalised ("la", "ma", "f"...) decide nothing.
_AMBIGUOUS = _DARIJA & _FRENCH
_DOMAIN_RAW = """
comite reunion plan action projet association cooperative commune territoire coach engagement
suivi evaluation atelier dialogue protocole regles confidentialite donnees probleme
"""
_DOMAIN_FR = key_set(_DOMAIN_RAW.split())


def identify_language(text: str) -> str:
    """Return "fr", "ary" or "ary-Latn" for one message.

    Arabic script wins as soon as it makes up a fair share of the letters: a Darija message with a
    few French nouns is answered in Darija. Latin text is Arabizi when it has digit letters or
    Darija words; French nouns inside Arabizi (code-switching) do not make it French.
    """
    arabic = len(_ARABIC_LETTER.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    if arabic and arabic >= 0.3 * latin:
        return "ary"
    lowered = strip_accents(text.lower())
    words = _WORD.findall(lowered)
    if not words:
        return "ary" if arabic else "fr"
    darija = 0.0
    french = 0.0
    for word in words:
        if _DIGIT_LETTER.search(word):
            darija += 2.0
            continue
        key = latin_key(word)
        if key in _AMBIGUOUS or word in _ELISION:
            continue
        if key in _DARIJA:
            darija += 1.0
        elif key in _FRENCH:
            # Domain nouns are borrowed into Darija all the time: weak evidence of French.
            french += 0.4 if key in _DOMAIN_FR else 1.0
        elif _DARIJA_VERB.match(word):
            darija += 0.5
    if darija > 0 and darija >= 0.6 * french:
        return "ary-Latn"
    return "fr"
