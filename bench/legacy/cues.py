"""Generic cues that the example matcher cannot learn from a few phrasings.

- Problem reports use an open vocabulary (a treasurer who vanished with the cash box, a president
  who refuses to sign): verbs of conflict, refusal, blockage, theft or silence are cues of
  `report_problem` whatever the nouns around them.
- A greeting followed by a question is about the question: greeting words are set aside.
- "My action" (check_action_plan) versus "the committee's commitments" (commitment_status) is
  carried by possessives and collective words, which the matcher drops as stop words.
- "Urgence" alone in a question about the service is not a person in danger.

Every cue works on normalised tokens (`bot.nlu.normalize.tokens`), so the three variants and
spelling variation are handled once.

A baseline for bench/nlu.py, no longer used by the bot.
"""

from __future__ import annotations

import re

from bot.nlu.normalize import key_set, strip_accents

# --- Problem reports ---------------------------------------------------------------------------

_PROBLEM_RAW = """
probleme problemes souci soucis conflit conflits dispute disputes disputent disputer bagarre
bagarrent querelle litige tension tensions bloque bloquee bloques bloquent bloquer blocage
refuse refusent refusait refuser refus disparu disparue disparus vole volee volent voler vol
detourne detournement escroc escroquerie arnaque arnaqueur corruption corrompu plainte
reclamation reclamer injuste injustice abandonne abandonnent dysfonctionnement insulte insultent
menti ment mensonge fraude triche magouille pression pressions exclu exclus exclue ignore ignorent
paralyse arret arrete arretes arretee suspendu suspendue empeche empechent
mochkil mouchkil mochkila machakil mochkilat tbloka tblokat mbloki mblokya bloka blokaw rfed
rafed rafda rafdin rfdu rfdo sda3 sda3at niza3 nza3 khilaf khlaf sira3 mtkhasmin tkhasmu tkhasmo
hreb hrab hrbat hrbu chfer ser9 sra9 sre9 ser9a chfar wa9ef wa9fa wa9fin chikaya chkaya dolm dlem
ghach ghech rachwa 7abes 7absa 7absin 7bes tfer9o
مشكل مشكله مشاكل رفض رفضو رفضات رافض رافضه رافضين تبلوكا تبلوكات مبلوكي مبلوكيه بلوكاو حابس
حابسه حابسين حبس صداع نزاع خلاف صراع متخاصمين تخاصمو هرب هربات هربو سرق سرقو سرقات سرقه شفار
واقف واقفه واقفين شكايه ظلم غش رشوه نصب تفرقو
"""
PROBLEM_TOKENS: frozenset[str] = key_set(_PROBLEM_RAW.split())

# Negated Darija verbs of refusal or silence: "ma bghach", "mabghawch", "ما بغاش", "ما كيجاوبش",
# "ma sayninch". Only a few verbs: a negated "there is" ("makaynch") is a question, not a report.
_NEGATED_VERB = re.compile(
    r"^(ma|ما)?(bgh[aiu]|bgha|jawb|jaweb|sayn|siyn|khal?s|3tau?|ataw?|hdr|7dr"
    r"|بغا|بغي|جاوب|كيجاوب|يجاوب|سين|وقع|خلص|عطا|حضر)\w*(ch|ش)$"
)
# French negated verbs of something that stopped ("ne répond plus", "n'avance plus").
_FR_STOPPED = re.compile(
    r"\bn(e|')\s*(repond|avance|vient|veut|marche|paie|paye|bouge|donne|travaille)\w*\s+"
    r"(plus|jamais|rien)\b"
)
# "How do we ...?" questions are about a topic even when they name a problem ("comment gérer un
# conflit"): for them the cue only lifts report_problem a little.
_HOW_TOKENS = key_set(["comment", "kifach", "kifech", "kif", "كيفاش", "كيف"])


# One-letter Arabic proclitics glued to a noun ("بمشكل", "فصراع", "والخلاف" after the article).
_AR_CLITICS = tuple("وبفلك")


def _is_problem_token(tok: str) -> bool:
    if tok in PROBLEM_TOKENS or _NEGATED_VERB.match(tok):
        return True
    return len(tok) > 3 and tok.startswith(_AR_CLITICS) and tok[1:] in PROBLEM_TOKENS


def problem_cue(toks: list[str], text: str) -> bool:
    if any(_is_problem_token(t) for t in toks):
        return True
    return bool(_FR_STOPPED.search(strip_accents(text.lower())))


def is_how_question(toks: list[str]) -> bool:
    return any(t in _HOW_TOKENS for t in toks)


# "What is / what does / why" asks for an explanation (a topic), whereas a request ("je veux",
# "bghit", "svp" which the SMS table spells out as "s il vous plait") asks the bot to do something
# (an action). Question words are stop words for the matcher, so "le coach fait quoi" and "passez
# moi le coach" otherwise look alike. ("quoi" and "qui" share a phonetic key: both count.)
_WHAT_RAW = """
quoi pourquoi chno chnou chnu achno ach 3lach 3lech lach
شنو اشنو شنوا علاش لاش
"""
_WHAT_TOKENS = key_set(_WHAT_RAW.split())
_REQUEST_RAW = """
veux voudrais voulais aimerais souhaite besoin plait passez passe donnez donne mettez
bghit bghina nbghi 3afak 3fak afak 3tini 3tina
بغيت بغينا نبغي عافاك عطيني عطينا
"""
_REQUEST_TOKENS = key_set(_REQUEST_RAW.split())


def explanation_question(toks: list[str]) -> bool:
    """A question asking what something is or does, without a request word."""
    return any(t in _WHAT_TOKENS for t in toks) and not any(t in _REQUEST_TOKENS for t in toks)


# --- Greetings set aside -----------------------------------------------------------------------

# Words that only greet, thank or address someone: a message made of these and stop words is a
# greeting (or goodbye); with other words the other words decide.
_GREETING_FILLER_RAW = """
bonjour bonsoir salut slt bjr bsr coucou hello hi re salam slm salamu salamo assalam alaykom
alaykoum alikom alikoum 3alaykom 3likom 3likoum ahlan marhba marhaba sba7 sbah msa lkhir lkher
khir labas cv va ca madame monsieur mr mme khoya khouya khti tout monde question questions so2al
sou2al soal kidayr kidayra kidayrin cher chere chers ami amis rahmatu lah llah
السلام سلام عليكم عليكوم ورحمه الله وبركاته مرحبا اهلا وسهلا صباح مسا مساء الخير لاباس كيداير
كيدايره خويا ختي سؤال سوال بيكم بكم عليك
bikom bikoum 3lik alik
"""
GREETING_FILLER: frozenset[str] = key_set(_GREETING_FILLER_RAW.split())


def without_greeting(content: list[str]) -> list[str] | None:
    """The content tokens minus greeting words, or None when nothing but greetings was said."""
    rest = [t for t in content if t not in GREETING_FILLER and t.lstrip("@") not in ("hello",)]
    if len(rest) == len(content) or not rest:
        return None
    return rest


# --- My actions versus the committee's ---------------------------------------------------------

_PERSONAL_RAW = """
mon mes moi je j me m dyali diali dyalii dialii ديالي ديالى ليا انا ana kmmelt kmelt kemmelt
salit sallit drt dert bghit كملت ساليت درت بغيت
"""
_PERSONAL = key_set(_PERSONAL_RAW.split())
_PERSONAL_FR_ONLY = key_set(["ma"])  # "ma tâche"; in Darija "ma" is a negation
_COLLECTIVE_RAW = """
comite comites commission lijna lajna ljna membres membre tous toutes ensemble general generale
global bilan ga3 kamlin kamla kamel les3da a3da2 لجنه اعضاء الاعضاء كاملين كامله كاع جميع الحصيله
"""
_COLLECTIVE = key_set(_COLLECTIVE_RAW.split())


def ownership(toks: list[str], lang: str) -> str | None:
    """ "personal", "collective" or None (neither or both) for a message's tokens."""
    personal = any(t in _PERSONAL for t in toks) or (
        lang == "fr" and any(t in _PERSONAL_FR_ONLY for t in toks)
    )
    collective = any(t in _COLLECTIVE for t in toks)
    if personal == collective:
        return None
    return "personal" if personal else "collective"


# --- Emergency words that can also be about the service ----------------------------------------

_WEAK_EMERGENCY_RAW = "urgence urgences urgent urgente 3ajel عاجل مستعجل مستعجله"
WEAK_EMERGENCY: frozenset[str] = key_set(_WEAK_EMERGENCY_RAW.split())
