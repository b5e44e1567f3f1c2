"""Multilingual cue lexicon of support-chat language, written for this project.

VADER (the English lexicon the sentiment model also reads) knows nothing of Spanish, French,
German, Portuguese, Italian or Dutch, and no lexicon knows the cues that tell a *confused* or
*frustrated* customer from a merely negative one. These lists fill both gaps. Entries are written
accent-free and lower-case because :func:`normalize` folds the text the same way; an entry ending
in ``*`` matches any word starting with it; an entry with spaces matches that word sequence.

The lists are deliberately general (words any support agent would recognise), not tuned to the
labelled test set, so the held-out evaluation stays meaningful.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CUES", "CueSet", "normalize", "tokens"]

_WORD = re.compile(r"[\w']+", re.UNICODE)


def normalize(text: str) -> str:
    """Lower-case, fold accents and curly apostrophes: one entry serves "não" and "nao"."""
    folded = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("ß", "ss"))
    return "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()


def tokens(text: str) -> list[str]:
    """Words of already-normalized text; French elisions ("l'app") become two words."""
    words: list[str] = []
    for word in _WORD.findall(text):
        words.extend(part for part in word.split("'") if part)
    return words


@dataclass(frozen=True)
class CueSet:
    """One category of cues, matched against normalized tokens."""

    words: frozenset[str]
    prefixes: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, entries: Iterable[str]) -> CueSet:
        words: set[str] = set()
        prefixes: list[str] = []
        phrases: list[tuple[str, ...]] = []
        for entry in entries:
            parts = tuple(tokens(normalize(entry.rstrip("*"))))
            if len(parts) > 1:
                phrases.append(parts)
            elif entry.endswith("*"):
                prefixes.append(parts[0])
            else:
                words.add(parts[0])
        return cls(frozenset(words), tuple(prefixes), tuple(phrases))

    def positions(self, words: list[str]) -> list[int]:
        """Indexes of the words where a cue of this set starts."""
        found = [
            i
            for i, word in enumerate(words)
            if word in self.words or (self.prefixes and word.startswith(self.prefixes))
        ]
        for phrase in self.phrases:
            size = len(phrase)
            found.extend(
                i for i in range(len(words) - size + 1) if tuple(words[i : i + size]) == phrase
            )
        return found


# fmt: off
_RAW: dict[str, tuple[str, ...]] = {
    "positive": (
        # en
        "thanks", "thank", "thx", "great", "awesome", "perfect", "love", "loved", "excellent",
        "amazing", "happy", "glad", "appreciate*", "fantastic", "brilliant", "wonderful",
        "helpful", "works", "worked", "working", "fixed", "solved", "resolved", "sorted", "nice",
        "good", "relief", "impressed", "cheers", "rock", "best", "smooth", "yay", "enjoy*",
        "saved", "quick", "fast", "cleaner", "easier", "game changer",
        # es
        "gracias", "genial", "perfecto", "excelente", "encanta", "funciona", "funciono",
        "resuelto", "contento", "contenta", "agradecid*", "increible", "buenisim*", "cracks",
        "salvado", "rapido", "facil",
        # fr
        "merci", "super", "parfait", "parfaitement", "ravi", "ravie", "bravo", "adore",
        "marche", "fonctionne", "regle", "top", "content", "contente", "sauve", "rapide",
        # de
        "danke", "dank", "perfekt", "toll", "klasse", "prima", "zufrieden", "liebe",
        "funktioniert", "geklappt", "klappt", "erledigt", "hilfreich", "gerettet", "schnell",
        "einwandfrei", "herzlichen",
        # pt
        "obrigad*", "valeu", "perfeito", "otimo", "adorei", "maravilha", "show", "feliz",
        "funcionou", "deu certo", "resolvido", "resolveram", "demais", "rapidez", "nota dez",
        # it
        "grazie", "perfetto", "ottimo", "funziona", "gentil*", "fantastico", "velocissim*",
        # nl
        "bedankt", "werkt", "geweldig", "fijn",
        # everyday praise, all languages
        "thankful", "grateful", "superb", "outstanding", "lifesaver", "kudos", "delighted",
        "pleased", "satisfied", "impeccable", "bien", "buen", "buena", "muchisimas", "estupendo",
        "impecable", "formidable", "reactivite", "ausgezeichnet", "hervorragend", "wunderbar",
        "spitze", "muito bom", "excelente", "incrivel", "bravissim*", "eccellente", "perfect",
        "uitstekend", "prima", "dankjewel",
    ),
    "negative": (
        # en
        "broken", "broke", "fail*", "error", "wrong", "bad", "terrible", "awful", "useless",
        "worst", "problem", "issue", "bug", "crash*", "outage", "down", "slow*", "disappoint*",
        "annoy*", "unacceptable", "ridiculous", "hate", "garbage", "scam", "horrible", "can't",
        "cannot", "lost", "losing", "deleted", "nothing", "nobody", "never", "pathetic", "joke",
        "excuses", "unbelievable", "tired", "sick", "sigh", "didn't", "doesn't", "won't",
        "not happy", "no one",
        # es
        "fallo", "falla", "roto", "peor", "inutil*", "basura", "inaceptable", "decepcion*",
        "problema", "caida", "estafa", "verguenza", "nada", "nadie", "cansado", "cansada",
        "no puedo", "furios*",
        # fr
        "erreur", "panne", "echoue", "nul", "pire", "inutile*", "inadmissible", "decevant*",
        "probleme", "arnaque", "honte", "rien", "personne", "marre", "n'arrive pas",
        # de
        "fehler", "ausfall", "kaputt", "schlecht*", "nutzlos*", "mull", "inakzeptabel",
        "enttausch*", "betrug", "frechheit", "nichts", "niemand", "satt", "schlagt fehl",
        "nicht anmelden",
        # pt
        "erro", "falha", "queda", "pior", "horrivel", "inaceitavel", "decepcao", "golpe",
        "vergonha", "ninguem", "nao consigo", "errado",
        # it
        "errore", "pessimo", "inaccettabile", "vergogna", "disservizio",
        # nl
        "storing", "waardeloos", "waardeloze", "onacceptabel", "schandalig", "fout",
        # more complaints, all languages
        "outrageous", "shameful", "disgrace*", "absurd*", "insane", "incompetent", "awful",
        "nightmare", "mess", "unusable", "lies", "lied", "refund", "overcharged", "billed",
        "charged twice", "indignante", "ridiculo", "pesimo", "horrible", "desastre", "timo",
        "cobrado", "inacceptable", "scandaleux", "lamentable", "catastrophique", "penible",
        "debite", "aucune", "unverschamt", "lacherlich", "schrecklich", "furchtbar", "katastrophe",
        "keine", "horrivel", "absurdo", "pessimo", "ridiculo", "cobraram", "vergognoso",
        "ridicolo", "terribile", "niente", "belachelijk", "slecht", "verschrikkelijk",
    ),
    "negation": (
        "not", "no", "never", "don't", "dont", "doesn't", "didn't", "isn't", "wasn't", "won't",
        "can't", "nothing", "nor", "neither", "sin", "nunca", "ni", "tampoco", "ne", "pas",
        "jamais", "plus", "nicht", "kein*", "nie", "nao", "nem", "non", "niet", "geen",
    ),
    "anger": (
        # en
        "furious", "lawyer", "scam", "dispute", "demand", "manager", "unacceptable",
        "ridiculous", "pathetic", "joke", "hell", "damn", "stupid", "hate", "worst", "garbage",
        "immediately", "right now", "refund me", "done with you", "real person", "avoid you",
        "absolutely", "unbelievable", "useless", "sick and tired",
        # es
        "furios*", "denuncio", "denuncia", "estafa", "verguenza", "basura", "inaceptable",
        "inutil*", "dejad de",
        # fr
        "furieux", "furieuse", "plainte", "arnaque", "honte", "nul", "inadmissible",
        "immediatement", "arretez", "moquez",
        # de
        "stinksauer", "wutend", "betrug", "frechheit", "mull", "sofort", "anwalt",
        "inakzeptabel", "horen sie auf", "nutzlos*",
        # pt
        "procon", "golpe", "vergonha", "horrivel", "inaceitavel", "parem", "inutil",
        # it
        "vergogna", "basta", "inaccettabile", "subito", "pessimo",
        # nl
        "schandalig", "waardeloos", "waardeloze", "onacceptabel",
        # more outrage, all languages
        "outrageous", "shameful", "disgrace*", "absurd*", "insane", "incompetent",
        "indignante", "ridiculo", "pesimo", "ahora mismo", "inacceptable", "scandaleux",
        "tout de suite", "responsable", "unverschamt", "lacherlich", "sofort", "kundige",
        "absurdo", "agora mesmo", "vergognoso", "ridicolo", "belachelijk", "nu meteen",
    ),
    "frustration": (
        # en
        "again", "still", "third time", "second time", "waiting", "keep", "keeps", "every time",
        "every single", "tired of", "another", "once more", "for a week", "since monday",
        "nope", "either", "so much for", "yeah sure", "promised", "every day", "every week",
        "every morning", "every hour", "on hold", "tiresome", "same",
        # es
        "otra vez", "de nuevo", "sigue", "sigo", "todavia", "tercera vez", "esperando",
        "cansado", "una y otra vez", "otra", "tampoco", "llevo",
        # fr
        "encore", "toujours", "troisieme fois", "j'attends", "attends", "marre", "non plus",
        "depuis",
        # de
        "schon wieder", "wieder", "immer noch", "dritte mal", "warte", "satt", "auch nicht",
        "seit",
        # pt
        "de novo", "continua", "ainda", "terceira vez", "esperando", "toda hora", "tambem nao",
        "mais uma", "ha dois dias",
        # it
        "ancora", "terza volta", "continua a",
        # nl
        "alweer", "nog steeds", "weer",
        # more weariness, all languages
        "no answer", "no reply", "still no", "nothing yet", "yet again", "over and over",
        "several", "for days", "sin respuesta", "ninguna respuesta", "cada vez",
        "aucune nouvelle", "aucune reponse", "pas de reponse", "devient", "keine antwort",
        "langsam reicht", "reicht", "hangt", "nada de resposta", "varios", "sem resposta",
        "nessuna risposta", "geen antwoord", "hetzelfde", "derde keer",
    ),
    "confusion": (
        # en
        "don't understand", "do not understand", "don't get it", "confused", "confusing",
        "i'm lost", "lost here", "what does", "what do you mean", "not sure", "no idea",
        "unclear", "not clear", "clarify", "explain", "huh", "puzzled", "makes no sense",
        "doesn't make sense", "i thought", "supposed to", "wait so", "not sure i follow",
        "difference between", "which one", "how does", "hmm", "what's the difference",
        # es
        "no entiendo", "no lo entiendo", "no me queda claro", "confundid*", "perdido",
        "perdida", "que significa", "que quiere decir", "como funciona", "no se", "entonces",
        "que diferencia", "no encuentro",
        # fr
        "je ne comprends pas", "comprends pas", "confus", "confuse", "perdu", "perdue",
        "veut dire", "pas clair", "c'est quoi", "quelle est la difference", "euh", "donc",
        # de
        "verstehe nicht", "verstehe ich nicht", "verwirrt", "unklar", "was bedeutet",
        "was heisst", "blicke", "ha", "ich dachte", "unterschied zwischen", "finde",
        # pt
        "nao entendi", "nao entendo", "confuso", "confusa", "perdido", "o que significa",
        "quer dizer", "nao sei", "nao ficou claro", "qual a diferenca", "entao", "afinal",
        # it
        "non capisco", "cosa significa", "non ci capisco", "quindi", "confus*",
        # nl
        "snap niet", "begrijp niet", "begrijp het niet", "wat betekent",
        # more puzzlement, all languages
        "not following", "can't understand", "cannot understand", "can not understand",
        "can't figure out", "can't find", "can't see", "don't see", "anywhere", "how come",
        "what is", "mean by", "exactly", "no entiendo por que", "explicar", "explicame",
        "me explicas", "je ne vois pas", "expliquer", "m'expliquer", "ou est", "ou sont",
        "erklaren", "wo finde", "was meinen sie", "pode explicar", "nao encontro", "como faco",
        "non ho capito", "spiegare", "dove si", "wat bedoelen", "uitleggen", "waar vind",
    ),
    "question_word": (
        "how", "what", "where", "which", "why", "como", "que", "donde", "cual", "por que",
        "comment", "ou", "pourquoi", "quel", "quelle", "wie", "was", "wo", "warum", "welche*",
        "onde", "qual", "por que", "come", "cosa", "dove", "perche", "hoe", "wat", "waar",
    ),
    "sarcasm_opener": (
        "great", "oh great", "oh wonderful", "wonderful", "perfect", "lovely", "fantastic",
        "brilliant", "genial", "que maravilla", "maravilloso", "merveilleux", "toll",
        "wunderbar", "na super", "otimo", "que beleza", "fantastico", "super",
    ),
    "sarcasm_phrase": (
        "just what i needed", "just perfect", "thanks for nothing", "thanks a lot for nothing",
        "so much for", "yeah sure", "i love how", "justo lo que me faltaba",
        "ce qu'il me manquait", "genau das was ich", "era tudo o que eu precisava",
        "proprio quello che mi serviva", "precies wat ik nodig had",
    ),
    "request": (
        "please", "can you", "could you", "i'd like", "i want", "i need", "por favor",
        "quiero", "quisiera", "necesito", "podeis", "merci de", "je voudrais", "pouvez",
        "j'ai besoin", "je souhaite", "bitte", "ich mochte", "konnen sie", "ich muss",
        "gostaria", "podem", "preciso", "quero", "favor", "vorrei", "potete", "graag",
        "kunnen jullie", "ik wil",
    ),
}
# fmt: on

CUES: dict[str, CueSet] = {name: CueSet.of(entries) for name, entries in _RAW.items()}
"""Each cue category, ready to match normalized tokens."""
