"""The default provider: every AI feature without a key or a network."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from halo_supabase.ai.offline_provider import OfflineProvider
from halo_supabase.ai.provider import EmailForSpam, TranscriptMessage


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the offline provider opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield


async def test_sentiment_uses_the_shipped_model() -> None:
    score = await OfflineProvider().score_sentiment(
        "Je ne comprends pas ce que veut dire ce message"
    )
    assert score.mood == "Confused"


@pytest.mark.parametrize(
    ("email", "spam"),
    [
        (
            EmailForSpam(
                sender="growth@seo-agency.test",
                subject="RANK YOUR WEBSITE ON THE FIRST PAGE OF GOOGLE!!",
                body="Dear friend, our SEO services and backlinks guaranteed. Click here: "
                "http://a.test http://b.test http://c.test",
                headers={"List-Unsubscribe": "<mailto:x@seo-agency.test>"},
            ),
            True,
        ),
        (
            EmailForSpam(
                sender="marta@customer.test",
                subject="Invoice 2231 charged twice!!",
                body="Hi, you charged us $49 twice this month. Please refund one. This is "
                "unacceptable, fix it now.",
            ),
            False,
        ),
        (
            EmailForSpam(
                sender="lucas@cliente.test",
                subject="Não consigo entrar",
                body="Olá, desde ontem não consigo fazer login. Podem ajudar?",
            ),
            False,
        ),
    ],
)
async def test_spam_rules_catch_pitches_not_angry_customers(
    email: EmailForSpam, spam: bool
) -> None:
    verdict = await OfflineProvider().classify_spam(email)
    assert verdict.is_spam is spam
    assert 0 <= verdict.score <= 1
    if spam:
        assert "sales_or_scam_phrases" in verdict.reasons


async def test_summary_takes_the_topic_from_the_first_customer_message() -> None:
    transcript = [
        TranscriptMessage(role="ai", text="Hi! How can I help?"),
        TranscriptMessage(
            role="user", text="My invoice shows the wrong VAT number. Can you fix it?"
        ),
        TranscriptMessage(role="ai", text="Sure, which number should it be?"),
        TranscriptMessage(role="user", text="DE123456789, thanks."),
    ]
    summary = await OfflineProvider().summarize(transcript)
    assert summary.topic == "My invoice shows the wrong VAT number."
    assert "DE123456789" in summary.summary and "4 messages" in summary.summary


async def test_summary_of_an_empty_conversation() -> None:
    assert (await OfflineProvider().summarize([])).topic == ""


async def test_offline_draft_is_a_low_confidence_holding_reply_matching_the_mood() -> None:
    transcript = [TranscriptMessage(role="user", text="This is unacceptable, refund me NOW!")]
    draft = await OfflineProvider().draft_reply(transcript)
    assert draft.confidence == 20
    assert "sorry" in draft.text.lower()


async def test_escalation_intent_from_phrases() -> None:
    intent = await OfflineProvider().detect_escalation_intent(
        "Ich verbinde Sie mit einem Mitarbeiter.", "Ich möchte mit einem Menschen sprechen"
    )
    assert intent.hands_off and intent.customer_wants_human
