"""Due dates written in Darija, in Latin letters or Arabic script, read as their French words.

People of the Oriental write deadlines as they speak: "15 abril", "f 30 yunyu", "akhir chhar 6",
"l7ed jay", "قبل 30 يونيو", "الشهر الجاي". Rather than a second grammar, `to_french` rewrites the
Darija words into the French words that ``bot.plans.dates`` already resolves ("15 avril",
"a 30 juin", "fin juin", "dimanche prochain", "avant 30 juin", "mois prochain"), so both
languages share one set of conventions (periods end on their last day, a missing year is asked,
a bare weekday is a suggestion). Words it does not know pass through unchanged: a sentence that
is not a date ("machi daba", "lyoum ma3ndi walo") stays unreadable rather than becoming a date.

The vocabulary is data: word classes (every spelling of one word) and phrases made of classes.
Spellings are compared after `fold` ("ou"/"u", "sh"/"ch", "9"/"q", doubled letters), so
"younyou" and "yunyu", "ghedda" and "gheda", "ssebt" and "sebt" are one entry. Arabic script
arrives folded by ``dates.normalize`` (hamza seats to bare alef, ة to ه, ى to ي, no tatweel,
Arabic-Indic digits to ASCII), so the tables spell Arabic words that way: "ابريل" stands for
أبريل and إبريل, "الجايه" for الجاية.

Choices worth knowing:

* "lyoum" / "اليوم" is today, like the French "aujourd'hui" (a deadline of today is a real one).
* "jjem3a jaya" / "الجمعة الجاية" can mean "next week" as well as "next Friday" in Moroccan
  Darija, so it is read as a bare Friday: offered for confirmation, never taken as certain.
* The Eastern Arabic month names (كانون الثاني...) are not used in Morocco and are not known;
  the Standard Arabic ones sometimes written there (سبتمبر, نوفمبر, ديسمبر...) are.
"""

from __future__ import annotations

import re

__all__ = ["fold", "to_french"]

# French month names as ``dates`` spells them after normalisation, by month number.
_FRENCH_MONTHS = (
    "janvier",
    "fevrier",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "aout",
    "septembre",
    "octobre",
    "novembre",
    "decembre",
)
_FRENCH_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_WEEKDAY_NAMES = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")

# Every spelling of a month, by month number: Latin letters, then Arabic script (Moroccan names
# first, then the Standard Arabic ones sometimes written).
_MONTH_SPELLINGS: dict[int, tuple[str, ...]] = {
    1: ("yanayir", "yanayer", "yennayer", "yenayer", "ynayr", "ynayer", "يناير"),
    2: ("fbrayr", "fbrayer", "fbrayir", "febrayer", "febrayir", "fabrayer", "فبراير"),
    3: ("mars", "marss", "مارس"),
    4: ("abril", "april", "avril", "ibril", "ابريل", "افريل"),
    5: ("mayu", "mayo", "may", "mai", "ماي", "مايو"),
    6: ("yunyu", "yunyo", "younyou", "yonyo", "yuniu", "يونيو", "يونيه"),
    7: ("yulyuz", "youlyouz", "youliouz", "yuliuz", "yolyoz", "يوليوز", "يوليو"),
    8: ("ghusht", "ghucht", "ghocht", "ghosht", "ghust", "غشت", "اغسطس"),
    9: ("shutanbir", "chtanbir", "shtanbir", "chotanbir", "chtanber", "شتنبر", "سبتمبر"),
    10: ("oktobar", "oktober", "uktubar", "oktobr", "octobar", "اكتوبر"),
    11: ("nuwanbir", "nuwambir", "nonbir", "nunbir", "novanbir", "نونبر", "نوفمبر"),
    12: ("dujanbir", "dojanbir", "dujambir", "dejanbir", "dijanbir", "دجنبر", "ديسمبر"),
}

# Every spelling of a weekday, Monday first (Python's ``date.weekday()``).
_WEEKDAY_SPELLINGS: tuple[tuple[str, ...], ...] = (
    ("letnin", "ltnin", "tnin", "lethnin", "litnin", "lithnin", "الاثنين", "الاتنين", "التنين"),
    ("tlat", "tlata", "ltlat", "ltlata", "ttlat", "الثلاثاء", "الثلاثا", "التلات", "التلاتا"),
    ("larb3", "larb3a", "larba", "larbe3", "lerb3", "الاربعاء", "الاربعا", "لاربع", "الاربع"),
    ("lkhmis", "lekhmis", "khmis", "lkhamis", "الخميس", "لخميس"),
    ("jjem3a", "jjm3a", "ljem3a", "ljm3a", "jem3a", "jm3a", "jjemaa", "الجمعه", "لجمعه"),
    ("ssebt", "sebt", "ssbt", "sbt", "ssabt", "lsebt", "السبت", "لسبت"),
    ("l7ed", "l7ad", "lhad", "lhed", "lahad", "l2ahad", "الاحد", "الحد"),
)

# Word classes other than months and weekdays: class -> (French word or "" to drop, spellings).
_WORDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "NEXT": (
        "prochain",
        (
            "jay",
            "jaya",
            "jayin",
            "ljay",
            "ljaya",
            "الجاي",
            "الجايه",
            "جاي",
            "جايه",
            "القادم",
            "القادمه",
        ),
    ),
    "THAT": ("", ("lli", "li", "elli", "اللي", "لي")),
    "END": ("fin", ("akhir", "akher", "akhar", "lakher", "lakhir", "ekhir", "اخر", "لاخر")),
    "START": ("debut", ("bdya", "bdyat", "lbdya", "awel", "lwel", "بدايه", "بدايت", "اول", "لول")),
    "MID": ("mi", ("wst", "west", "wast", "nss", "noss", "ness", "وسط", "نص", "نوص")),
    "MONTH_WORD": ("mois", ("chhar", "chher", "chahr", "lchhar", "الشهر", "شهر")),
    "MONTHS": ("mois", ("chhur", "chhor", "chhora", "شهور", "اشهر", "اشهور")),
    "WEEK": (
        "semaine",
        (
            "simana",
            "smana",
            "ssimana",
            "semana",
            "osbu3",
            "losbu3",
            "l2osbu3",
            "السيمانه",
            "سيمانه",
            "السمانه",
            "سمانه",
            "الاسبوع",
            "اسبوع",
        ),
    ),
    "WEEKS": ("semaines", ("simanat", "smanat", "سيمانات", "سمانات", "اسابيع", "اسابع")),
    "YEAR_WORD": ("annee", ("l3am", "3am", "l3em", "lsana", "sana", "العام", "عام", "السنه")),
    "DAYS": ("jours", ("ayam", "iyam", "yam", "ايام", "يام", "يامات")),
    "THIS": ("ce", ("had", "hada", "hadi", "هاد", "هذا", "هذه", "هادي", "هاذ")),
    "TODAY": ("aujourd'hui", ("lyoum", "lyom", "elyoum", "اليوم", "ليوم")),
    "TOMORROW": ("demain", ("ghedda", "ghadda", "ghdda", "ghadwa", "ghedwa", "غدا", "غدوه")),
    "AFTER": ("apres", ("ba3d", "be3d", "بعد")),
    "FROM": ("", ("mn", "men", "من")),
    "ON": ("a", ("f", "fi", "في", "ف")),
    "DAY_OF": ("le", ("nhar", "نهار", "يوم")),
    "BEFORE": ("avant", ("qbel", "qbl", "qabl", "قبل")),
    "UNTIL": ("jusqu'a", ("hta", "7ta", "7tal", "حتي", "حتا", "لحد")),
    "AROUND": ("vers", ("m3a", "مع")),  # "m3a 10h": at about ten
    "OF": ("", ("d", "dyal", "dial", "ديال", "د", "l", "el")),
}

# Phrases of classes (the longest that fits wins). "#" is a number, "#MONTH" a month number
# (1-12), "DAY" any weekday; the French side names them {n}, {month} and {day}.
_PHRASES: dict[str, str] = {
    "END MONTH_WORD NEXT": "fin du mois prochain",
    "END THIS MONTH_WORD": "fin de ce mois",
    "END MONTH_WORD #MONTH": "fin {month}",
    "END MONTH_WORD": "fin du mois",
    "MONTH_WORD THAT NEXT": "mois prochain",
    "MONTH_WORD NEXT": "mois prochain",
    "MONTH_WORD #MONTH": "{month}",
    "THIS MONTH_WORD": "ce mois",
    "END WEEK NEXT": "fin de la semaine prochaine",
    "END THIS WEEK": "fin de la semaine",
    "END WEEK": "fin de semaine",
    "WEEK THAT NEXT": "semaine prochaine",
    "WEEK NEXT": "semaine prochaine",
    "THIS WEEK": "cette semaine",
    "END THIS YEAR_WORD": "fin de l'annee",
    "END YEAR_WORD": "fin de l'annee",
    "YEAR_WORD THAT NEXT": "annee prochaine",
    "YEAR_WORD NEXT": "annee prochaine",
    "AFTER TOMORROW": "apres demain",
    # "ba3d 10 ayam" (in ten days) and "f 10 ayam" (within ten days) count from the reference.
    "AFTER # DAYS": "dans {n} jours",
    "AFTER # WEEKS": "dans {n} semaines",
    "AFTER # WEEK": "dans {n} semaines",
    "AFTER # MONTHS": "dans {n} mois",
    "AFTER # MONTH_WORD": "dans {n} mois",
    "ON # DAYS": "dans {n} jours",
    "ON # WEEKS": "dans {n} semaines",
    "ON # MONTHS": "dans {n} mois",
    # "jjem3a jaya" may be next week: a bare Friday, offered for confirmation (see above).
    "FRIDAY NEXT": "vendredi",
    # "had ssebt" (this Saturday) names no week either: offered for confirmation.
    "THIS DAY": "{day}",
}

_FOLDS = (("ou", "u"), ("sh", "ch"), ("9", "q"))
_DOUBLED = re.compile(r"(\D)\1+")


def fold(token: str) -> str:
    """One key for the spellings of a Darija word (a token of ``dates.normalize``d text)."""
    if token.isdigit():
        return token
    for old, new in _FOLDS:
        token = token.replace(old, new)
    return _DOUBLED.sub(r"\1", token)


def _classes() -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    """Folded spellings of each word class, and the French word a class stands for alone."""
    spellings: dict[str, frozenset[str]] = {}
    french: dict[str, str] = {}
    for number, words in _MONTH_SPELLINGS.items():
        spellings[f"MONTH{number}"] = frozenset(map(fold, words))
        french[f"MONTH{number}"] = _FRENCH_MONTHS[number - 1]
    for name, words in zip(_WEEKDAY_NAMES, _WEEKDAY_SPELLINGS, strict=True):
        spellings[name] = frozenset(map(fold, words))
        french[name] = _FRENCH_WEEKDAYS[_WEEKDAY_NAMES.index(name)]
    for name, (word, words) in _WORDS.items():
        spellings[name] = frozenset(map(fold, words))
        french[name] = word
    return spellings, french


_SPELLINGS, _FRENCH = _classes()
_CLASS_OF = {spelling: name for name, words in _SPELLINGS.items() for spelling in words}
_RULES = sorted(
    ((tuple(pattern.split()), french) for pattern, french in _PHRASES.items()),
    key=lambda rule: -len(rule[0]),
)


def _match(token: str, element: str, found: dict[str, str]) -> bool:
    """Whether ``token`` fits one element of a phrase; numbers and days are kept in ``found``."""
    if element == "#":
        found["n"] = token
        return token.isdigit()
    if element == "#MONTH":
        if not (token.isdigit() and 1 <= int(token) <= 12):
            return False
        found["month"] = _FRENCH_MONTHS[int(token) - 1]
        return True
    if element == "DAY":
        name = _CLASS_OF.get(token)
        if name not in _WEEKDAY_NAMES:
            return False
        found["day"] = _FRENCH[name]
        return True
    return _CLASS_OF.get(token) == element


def _phrase_at(tokens: list[str], i: int) -> tuple[int, str] | None:
    """The longest phrase starting at ``tokens[i]``: how many tokens it takes, its French."""
    for pattern, french in _RULES:
        window = tokens[i : i + len(pattern)]
        found: dict[str, str] = {}
        if len(window) == len(pattern) and all(
            _match(token, element, found) for token, element in zip(window, pattern, strict=True)
        ):
            return len(pattern), french.format(**found)
    return None


def to_french(text: str) -> str:
    """Normalised text with its Darija date words replaced by French ones (others kept)."""
    words = text.split()
    tokens = [fold(word) for word in words]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if phrase := _phrase_at(tokens, i):
            used, french = phrase
            out.append(french)
            i += used
            continue
        name = _CLASS_OF.get(tokens[i])
        if name is None:
            out.append(words[i])  # not Darija date vocabulary: the French parser reads it
        elif _FRENCH[name]:
            out.append(_FRENCH[name])
        i += 1
    return " ".join(out)
