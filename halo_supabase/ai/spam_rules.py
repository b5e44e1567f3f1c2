"""Offline spam scoring of an inbound email: a few weighted, explainable rules.

Support inboxes mostly receive legitimate mail; the costly mistake is hiding a customer in Spam.
So each rule adds a modest weight and an email is spam only when several agree (score >= 0.6).
The email worker applies workspace rules and trusted senders before this, per the product spec.
List and bulk mail (Precedence, List-Unsubscribe) is not a rule here: `email/classify.py` decides
what mail is automatic, and automatic mail is never marked spam.
"""

from __future__ import annotations

import re

from halo_supabase.ai.lexicon import normalize

__all__ = ["SPAM_THRESHOLD", "spam_score"]

SPAM_THRESHOLD = 0.6

_LINK = re.compile(r"https?://", re.IGNORECASE)
_MONEY = re.compile(r"[$€£]\s?\d[\d,.]*\s?(?:k|m|million|millions)?\b|\b\d+\s?(?:usd|btc|eth)\b")
# Phrases that legitimate support mail almost never contains (normalized spelling, several languages).
_PITCH = (
    "you have won",
    "you've won",
    "claim your prize",
    "lottery",
    "casino",
    "viagra",
    "crypto",
    "bitcoin",
    "investment opportunity",
    "guaranteed",
    "risk free",
    "act now",
    "limited time",
    "click here",
    "seo services",
    "backlinks",
    "guest post",
    "rank your website",
    "first page of google",
    "increase your sales",
    "dear friend",
    "beneficiary",
    "wire transfer",
    "inheritance",
    "has ganado",
    "haz clic aqui",
    "vous avez gagne",
    "cliquez ici",
    "sie haben gewonnen",
    "klicken sie hier",
    "voce ganhou",
    "clique aqui",
    "hai vinto",
    "je hebt gewonnen",
)


def spam_score(sender: str, subject: str, body: str) -> tuple[float, list[str]]:
    """Score in 0..1 and the stable codes of the rules that fired."""
    text = normalize(f"{subject}\n{body}")
    reasons: list[tuple[str, float]] = []
    pitches = sum(1 for phrase in _PITCH if phrase in text)
    if pitches:
        reasons.append(("sales_or_scam_phrases", min(0.35 * pitches, 0.7)))
    links = len(_LINK.findall(body))
    if links >= 3:
        reasons.append(("many_links", 0.25))
    if _MONEY.search(text):
        reasons.append(("money_amounts", 0.15))
    letters = [ch for ch in subject if ch.isalpha()]
    if len(letters) >= 8 and sum(ch.isupper() for ch in letters) / len(letters) > 0.7:
        reasons.append(("shouting_subject", 0.2))
    if subject.count("!") >= 2 or "$$$" in subject:
        reasons.append(("excited_subject", 0.15))
    if "@" not in sender or sender.rsplit("@", 1)[-1].count(".") == 0:
        reasons.append(("odd_sender", 0.15))
    score = min(1.0, sum(weight for _, weight in reasons))
    return round(score, 3), [code for code, _ in reasons]
