"""Matching a message against the example questions of every label.

Each message and example is reduced to content tokens (normalised, stop words removed, plus
cross-script concept tokens). Tokens are compared fuzzily with rapidfuzz (spelling variation and
typos), weighted by how specific they are to one label (an IDF over labels), and a message scores
against an example by how much of the message the example explains and how much of the example
the message covers. A label's score is its best example's score. Words the knowledge base has
never seen weigh like rare words, which is what makes out-of-scope messages score low.

A baseline for bench/nlu.py, no longer used by the bot.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bench.legacy.cues import WEAK_EMERGENCY
from bot.nlu import lexicon
from bot.nlu.knowledge import KnowledgeEntry
from bot.nlu.normalize import key_set, strip_accents, tokens

# Words that carry no topic, shared with the cases feature (knowledge/lexicon/).
STOPWORDS: frozenset[str] = key_set(lexicon.words("function_words.txt"))


# Cross-script equivalences of domain words: the same concept written in French, Arabizi or Arabic
# script gets one shared extra token, so a Darija question can match a French example and back.
_CONCEPTS_RAW: dict[str, str] = {
    "committee": "comite comites committee commission lijna lajna lejna ljna لجنه لجن لجان",
    "plan": "plan plans blan planning مخطط مخططات بلان لبلان",
    "action": "action actions activite activites tache taches nachat anchita نشاط انشطه اكسيون",
    "coach": "coach coachs coatch kotch koch coache كوتش الكوتش مؤطر موطر accompagnateur",
    "commitment": "engagement engagements engage iltizam iltizamat lwa3d wa3d w3od promesse "
    "promesses التزام التزامات وعد وعود",
    "sociogram": "sociogramme sociogram sociogrami sosyogram sociograme سوسيوغرام سوسيوكرام "
    "سوسيوغرامي cartographie",
    "evaluation": "evaluation evaluer evaluations evalue taqyim ta9yim t9yim tqyim taqim تقييم "
    "تقيم نقيمو",
    "monitoring": "suivi suivre suit suivent tatabo3 tatabu3 ttabo3 tteba3 mutaba3a motaba3a "
    "تتبع متابعه",
    "workshop": "atelier ateliers warcha warsha warchat warshat ورشه ورشات",
    "synergy": "synergie synergies synergy sinerji سينيرجي تكامل التقائيه",
    "dialogue": "dialogue dialoguer hiwar 7iwar hwar حوار",
    "memorandum": "protocole entente convention protocol brotokol ittifaqiya itifaqiya ittifa9iya "
    "tafahom بروتوكول اتفاقيه تفاهم",
    "rules": "regle regles reglement qawa3id 9awa3id qawaid 9wanin قواعد قوانين ضوابط",
    "confidential": "confidentialite confidentiel confidentielle secret sir sirr sirriya sriya "
    "سر سريه",
    "data": "donnees data donnee ma3lomat ma3lumat m3lomat ma3tayat معلومات معطيات",
    "delete": "supprimer effacer suppression mse7 ms7 mseh nmse7 tmse7 امسح مسح تمسح نمسح",
    "association": "association associations jam3iya jam3ia jam3ya jami3a جمعيه جمعيات",
    "cooperative": "cooperative cooperatives t3awniya t3awnia ta3awniya تعاونيه تعاونيات",
    "territory": "territoire territoires territorial territoriale turab tourab trab تراب ترابي "
    "ترابيه",
    "training": "formation formations former takwin tkwin tekwin تكوين تكوينات",
    "centre": "centre center markaz merkez مركز",
    "excellence": "excellence tamayoz tamayuz تميز",
    "resources": "ressources ressource moyens moyen financement financer tamwil flous imkaniyat "
    "imkanyat partenaire partenaires chorakaa chourakaa تمويل فلوس امكانيات امكانات موارد شركاء",
    "diagnostic": "diagnostic diagnostique tachkhis tach5is tashkhis تشخيص",
    "meeting": "reunion reunions ijtima3 jtima3 ijtima3at اجتماع اجتماعات",
    "problem": "probleme problemes souci soucis mochkil mochkila mouchkil machakil مشكل مشكله "
    "مشاكل",
    "evaluation_q": "criteres critere pertinence efficience coherence معايير",
    "hello": "bonjour bonsoir salut coucou hello salam slm ahlan marhaba سلام اهلا مرحبا",
    "bye": "bslama beslama bsslama revoir ciao bye tchao thalla تهلا بسلامه",
    "thanks": "merci chokran choukran shukran شكرا",
    "phone": "telephone telephones portable portables tilifun tilifon telephonat تيليفون تليفون "
    "تيليفونات بورطابل",
    "call": "appeler appelle joindre joignable contacter n3ayet n3eyet 3ayet y3ayet ntassel "
    "ytassel نعيط يعيط عيط نتاصل يتاصل",
    "sign": "signer signent signature sayni nsayni ysayni tsyni tsayni nsayniw "
    "وقع يوقع نوقعو توقيع تسني يسني نسنيو",
    "document": "document documents papier wathi9a watha9a lwatha9a وثيقه وثايق",
    "results": "resultat resultats objectif objectifs but natija nata2ij ahdaf hadaf "
    "نتيجه نتايج اهداف هدف",
    "access": "acces accede lire lit consulter y9ra yqra يقرا",
    "talk": "parler parle discuter hder nhder nehder nhdr tkellem ntkellem tkalem hdert نهضر هضر "
    "يهضر نتكلم يتكلم تكلم",
    "connect": "relier rbtni rbtouni wsselni wasalni ربطني ربطوني وصلني وصلوني",
    "legal": "juridique statut statuts qanouni qanuni قانوني قانون",
}


def _build_concepts() -> dict[str, str]:
    out: dict[str, str] = {}
    for concept, words in _CONCEPTS_RAW.items():
        for key in key_set(words.split()):
            out.setdefault(key, "@" + concept)
    return out


CONCEPTS: dict[str, str] = _build_concepts()

# Everyday words that the knowledge base happens to use ("téléphones en silencieux", "la nuit",
# "cette semaine") but that say nothing about the domain: a message whose only link to a label is
# one of these ("mon téléphone ne charge plus", "les résultats du bac") is about something else.
# They still count in a score; they just cannot be a label's only support (see `anchors`).
_GENERIC_RAW = """
telephone telephones portable portables demande demandes demander papier papiers
aide aider question questions semaine semaines jour jours nuit nuits soir matin heure heures temps
resultat resultats maison dit dire personne personnes travail chose choses gens signe prix
simana lil lila nhar lyoum dar khedma khdma wa9t waqt sa3a
تيليفون تليفون بورطابل سيمانه ليل ليله نهار دار خدمه وقت ساعه
"""
GENERIC_TOKENS: frozenset[str] = key_set(_GENERIC_RAW.split()) | {"@phone", "@results"}
# Exempt from the support rule: an emergency must never be turned away for lack of a domain word
# ("une personne est tombée à la maison").
_NO_SUPPORT_RULE = frozenset({"emergency"})
# Labels whose one-word examples ("bonjour", "merci") stay usable inside longer messages.
_KEEP_KEYWORDS = frozenset({"greeting", "goodbye"})


def content_tokens(text: str) -> list[str]:
    """Normalised tokens that carry meaning, each followed by its concept token if it has one."""
    out: list[str] = []
    seen: set[str] = set()
    for tok in tokens(text):
        if tok in STOPWORDS or tok in seen:
            continue
        seen.add(tok)
        out.append(tok)
        concept = CONCEPTS.get(tok)
        if concept is not None and concept not in seen:
            seen.add(concept)
            out.append(concept)
    return out


@dataclass(frozen=True)
class MatcherParams:
    token_cutoff: float = 85.0  # rapidfuzz ratio under which two tokens are different words
    min_fuzzy_len: int = 5  # shorter tokens must match exactly (too many near neighbours)
    query_weight: float = 0.9  # share of "message explained" vs "example covered" in a score
    unknown_weight: float = 1.0  # multiplier of the top IDF for words the base never saw
    label_mix: float = 0.5  # share of the label-level coverage (all examples of a label pooled)
    concept_weight: float = 1.0  # query weight of a concept token (0.5 measured worse on dev)
    # Score multiplier of a label matched through generic words only (no anchor); 1.0 disables.
    # 0.0-0.6 measure the same on dev+check; 0.4 lets only a near-perfect generic match through.
    unsupported_factor: float = 0.4
    anchor_min_idf: float = 0.0  # an anchor must also be this specific (IDF over labels)
    anchor_fuzzy_sim: float = 0.9  # a fuzzy match of a word under 8 letters anchors from here


@dataclass(frozen=True)
class _Example:
    label: str
    weights: dict[str, float]  # token -> weight
    norm: float
    # A bare keyword example ("plan", "coach", "مشكل") stands for the message made of that word
    # alone; inside a longer message the word says little about the intent ("le coach fait quoi").
    keyword: bool = False


class Matcher:
    def __init__(
        self, entries: Mapping[str, KnowledgeEntry], params: MatcherParams | None = None
    ) -> None:
        self.params = params or MatcherParams()
        labelled: list[tuple[str, list[str], bool]] = []
        for entry in entries.values():
            for items in entry.examples.values():
                for text in items:
                    toks = content_tokens(text)
                    if toks:
                        keyword = len(tokens(text)) == 1 and entry.id not in _KEEP_KEYWORDS
                        labelled.append((entry.id, toks, keyword))
        labels_of: dict[str, set[str]] = defaultdict(set)
        for label, toks, _ in labelled:
            for tok in toks:
                labels_of[tok].add(label)
        n_labels = max(1, len(entries))
        self.idf: dict[str, float] = {
            tok: math.log(1.0 + n_labels / len(labels)) for tok, labels in labels_of.items()
        }
        self._max_idf = math.log(1.0 + n_labels)
        self.examples: list[_Example] = []
        self._index: dict[str, list[int]] = defaultdict(list)
        for label, toks, keyword in labelled:
            weights = {tok: self.idf[tok] for tok in toks}
            idx = len(self.examples)
            self.examples.append(_Example(label, weights, sum(weights.values()), keyword))
            for tok in weights:
                self._index[tok].append(idx)
        self._vocab = list(self._index)
        self._long_vocab = [t for t in self._vocab if len(t) >= self.params.min_fuzzy_len]
        self._cache: dict[str, list[tuple[str, float]]] = {}

    def _neighbours(self, tok: str) -> list[tuple[str, float]]:
        """Vocabulary tokens close to `tok`, with a similarity in 0..1."""
        cached = self._cache.get(tok)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        if tok in self._index:
            found[tok] = 1.0
        if len(tok) >= self.params.min_fuzzy_len and not tok.startswith("@"):
            for cand, score, _ in process.extract(
                tok,
                self._long_vocab,
                scorer=fuzz.ratio,
                score_cutoff=self.params.token_cutoff,
                limit=6,
            ):
                if cand != tok:
                    found[cand] = max(found.get(cand, 0.0), score / 100.0)
        result = sorted(found.items(), key=lambda kv: -kv[1])
        if len(self._cache) < 50_000:
            self._cache[tok] = result
        return result

    def scores(self, text: str) -> dict[str, float]:
        """Best score of every label that shares at least one token with the message."""
        return self.scores_tokens(content_tokens(text))

    def scores_tokens(self, toks: Iterable[str], keywords: bool | None = None) -> dict[str, float]:
        """Scores of a message's content tokens.

        `keywords` says whether bare keyword examples may match; by default only when the message
        is a single word (the caller says False for what is left once a greeting is set aside).
        """
        qbest: dict[int, dict[str, float]] = defaultdict(dict)
        ebest: dict[int, dict[str, float]] = defaultdict(dict)
        qweights: dict[str, float] = {}
        anchored: set[str] = set()  # labels matched through at least one domain-specific token
        toks = list(toks)
        # Inside a message of several words, bare keyword examples are left out.
        several = sum(not q.startswith("@") for q in toks) > 1 if keywords is None else not keywords
        for q in toks:
            neigh = self._neighbours(q)
            if not neigh and CONCEPTS.get(q) in self._index:
                # A spelling the examples never use ("ijtima3") of a known concept (@meeting):
                # the concept token stands for it, so it does not count as an unknown word.
                continue
            if neigh:
                qweights[q] = max(self.idf[v] for v, _ in neigh[:1])
            else:
                qweights[q] = self._max_idf * self.params.unknown_weight
            if q.startswith("@"):
                # A concept repeats a word already counted: it helps across scripts without
                # doubling the weight of every domain word against the unknown ones.
                qweights[q] *= self.params.concept_weight
            for v, sim in neigh:
                anchor = self.is_anchor(q, v, sim)
                for ex in self._index[v]:
                    if several and self.examples[ex].keyword:
                        continue
                    if anchor:
                        anchored.add(self.examples[ex].label)
                    if qbest[ex].get(q, 0.0) < sim:
                        qbest[ex][q] = sim
                    if ebest[ex].get(v, 0.0) < sim:
                        ebest[ex][v] = sim
        total_q = sum(qweights.values())
        if not total_q:
            return {}
        a = self.params.query_weight
        best: dict[str, float] = {}
        # Label-level coverage: each message word's best match among all examples of a label, so a
        # question whose words are spread over several phrasings of one label still scores.
        pooled: dict[str, dict[str, float]] = defaultdict(dict)
        for ex_idx, matched in qbest.items():
            label_best = pooled[self.examples[ex_idx].label]
            for q, s in matched.items():
                if label_best.get(q, 0.0) < s:
                    label_best[q] = s
        for ex_idx, matched in qbest.items():
            example = self.examples[ex_idx]
            qcov = sum(qweights[q] * s for q, s in matched.items()) / total_q
            ecov = sum(example.weights[v] * s for v, s in ebest[ex_idx].items()) / example.norm
            score = a * qcov + (1.0 - a) * min(1.0, ecov)
            if score > best.get(example.label, 0.0):
                best[example.label] = score
        mix = self.params.label_mix
        if mix:
            for label, matched in pooled.items():
                cover = sum(qweights[q] * s for q, s in matched.items()) / total_q
                best[label] = (1.0 - mix) * best[label] + mix * cover
        factor = self.params.unsupported_factor
        if factor < 1.0:
            for label in best:
                if label not in anchored and label not in _NO_SUPPORT_RULE:
                    best[label] *= factor
        return best

    def is_anchor(self, query_token: str, vocab_token: str, similarity: float = 1.0) -> bool:
        """Whether a message token matched to a vocabulary token is evidence of the domain."""
        if query_token in GENERIC_TOKENS or vocab_token in GENERIC_TOKENS:
            return False
        if similarity < self.params.anchor_fuzzy_sim and len(query_token) < 8:
            # A short word one letter away from a domain word is often another word
            # ("kaytybo", they cook, vs "kaytab3o", they follow): a typo must be longer to count.
            return False
        return self.idf[vocab_token] >= self.params.anchor_min_idf


# A person in danger must not be missed: these words route to the emergency label whatever
# the matcher says. Ambiguous words ("feu" as in "feu vert", "menace" as in SWOT) are left out.
_EMERGENCY_RAW = """
urgence urgences urgent danger dangereux violence violences violent violente frappe frapper frappee
battu battue agresse agressee agression suicide suicider tuer incendie brule brulee flammes
accident blesse blessee blesses sang viol violee noye noyade inconscient evanoui evanouie
kidnappe enleve enlevee secours ambulance pompiers mourir meurt mourant saigne saignent saigner
saignement etouffe empoisonne empoisonnee empoisonnement overdose respire
khatar khtar khatir khatira khatr 3onf 3onff kaydreb kidreb kaydrebha kaydrboh drebha drebni
darbuh drbo intihar yntahr ntahr tntahr ynta7er nta7er qtel 9tel nqtel yqtel y9tel 7ari9 7ri9a
7ari9a 7r9 tsha3lat tcha3lat ksida aksida aksidan mjrou7 mjro7 mjrouha mjro7a dem ghre9
ghr9 gher9 ghar9a ghar9 katdreb tdreb tcha3let 3ajel nar kaymout kaymot tmout ymout 3te9ni
3t9oni 3tqoni ightisab i3tida2
خطر خطير خطيره عنف كيضرب كيضربها كيضربني ضربها ضربني ضربوه انتحار ينتحر تنتحر نتحر نقتل يقتل
قتل حريق حريقه شعلات تشعلات كسيده اكسيدون مجروح مجروحه دم غرق غرقات غريق كيموت تموت يموت
عاجل كتضرب تضرب النار عتقوني عتقني اعتداء اغتصاب الاسعاف اسعاف مهدد مهدده مستعجل
"""
EMERGENCY_TOKENS: frozenset[str] = key_set(_EMERGENCY_RAW.split())


# Fire in French needs context: "feu" alone is also "feu vert" (go-ahead).
_FIRE_FR = re.compile(r"\b(en|au) feu\b|\b(pris|prend|prendre) feu\b|\ble feu a pris\b")


# Someone fallen into a well needs both words: a well alone is a water project.
_FALL = re.compile(r"\bta[iy]?7(a|at|t|o|ou|ti)?\b|\bt7(at|ti)\b|طاح")
_WELL = re.compile(r"\b(f ?)?l?bir\b|بير|بئر")


# Conjugated "hit" / "suicide" verbs (كيضربو, تيضربها, kaydrbo, yntahro): Darija verbs take
# aspect/person prefixes and object suffixes, so a word list alone misses forms.
_VERB_STEMS = re.compile(
    r"^(كي|كت|كن|تي|ت|ي|ن)?(ضرب|نتحر)|^(k[ai]{1,2}t?|ki|i|t|n)?(drb|drib|ntahr|nthr)"
)


def emergency_level(text: str) -> str | None:
    """ "strong" (a person in danger), "weak" (only a word like "urgence") or None.

    "Urgence" alone also appears in questions about the service ("vous traitez les urgences ?"),
    so the caller lets the matcher overrule a weak signal.
    """
    toks = tokens(text)
    weak = False
    for tok in toks:
        if tok in WEAK_EMERGENCY:
            weak = True
        elif tok in EMERGENCY_TOKENS or _VERB_STEMS.match(tok):
            return "strong"
    lowered = strip_accents(text.lower())
    if _FIRE_FR.search(lowered) or (_FALL.search(lowered) and _WELL.search(lowered)):
        return "strong"
    return "weak" if weak else None


def is_emergency(text: str) -> bool:
    return emergency_level(text) is not None
