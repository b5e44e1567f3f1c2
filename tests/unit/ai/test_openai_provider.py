"""The OpenAI provider through the real `openai` client against a loopback fake server."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from halo_supabase.ai.fallback_provider import FallbackProvider
from halo_supabase.ai.openai_provider import OpenAIProvider
from halo_supabase.ai.provider import EmailForSpam, TranscriptMessage, provider_from_settings
from halo_supabase.errors import AIProviderError, ConfigError
from halo_supabase.logs import quiet_body_logging
from halo_supabase.settings import load_settings

from .fake_openai import API_KEY, FakeOpenAI, Step, fake_openai


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with fake_openai() as running:
        yield running


@pytest.fixture
async def provider(server: FakeOpenAI) -> AsyncIterator[OpenAIProvider]:
    instance = OpenAIProvider(API_KEY, "test-model", base_url=server.url, timeout=2, max_retries=2)
    yield instance
    await instance.close()


async def test_sentiment_is_parsed_from_structured_output(
    server: FakeOpenAI, provider: OpenAIProvider
) -> None:
    server.then(Step(content=json.dumps({"polarity": -0.8, "mood": "Frustrated"})))
    score = await provider.score_sentiment("Great, another outage.")
    assert (score.polarity, score.label, score.mood) == (-0.8, "negative", "Frustrated")
    request = server.requests[0]
    assert request["model"] == "test-model"
    assert request["messages"][-1] == {"role": "user", "content": "Great, another outage."}
    schema = request["response_format"]["json_schema"]
    assert request["response_format"]["type"] == "json_schema" and schema["strict"] is True
    assert schema["schema"]["required"] == ["polarity", "mood"]
    assert schema["schema"]["additionalProperties"] is False
    assert "minimum" not in json.dumps(schema)  # bounds are checked locally, not by the API
    assert schema["schema"]["properties"]["mood"]["enum"] == [
        "Happy",
        "Neutral",
        "Confused",
        "Frustrated",
        "Angry",
    ]


async def test_every_feature_round_trips(server: FakeOpenAI, provider: OpenAIProvider) -> None:
    server.then(
        Step(content=json.dumps({"is_spam": True, "score": 0.9, "reasons": ["seo_pitch"]})),
        Step(content=json.dumps({"text": "Hola, ya lo reviso.", "confidence": 72})),
        Step(content=json.dumps({"topic": "Refund", "summary": "Wants a refund."})),
        Step(content=json.dumps({"hands_off": True, "customer_wants_human": False})),
    )
    spam = await provider.classify_spam(EmailForSpam(sender="a@b.test", subject="SEO", body="x"))
    transcript = [TranscriptMessage(role="user", text="Quiero un reembolso")]
    draft = await provider.draft_reply(transcript, instructions="be brief")
    summary = await provider.summarize(transcript)
    intent = await provider.detect_escalation_intent("Te paso con un agente.")
    assert spam.is_spam and spam.reasons == ["seo_pitch"]
    assert draft.confidence == 72 and draft.text.startswith("Hola")
    assert summary.topic == "Refund"
    assert intent.hands_off and not intent.customer_wants_human
    assert "be brief" in server.requests[1]["messages"][-1]["content"]


async def test_rate_limit_is_retried_then_succeeds(
    server: FakeOpenAI, provider: OpenAIProvider
) -> None:
    server.then(
        Step(status=429),
        Step(status=429),
        Step(content=json.dumps({"polarity": 0.5, "mood": "Happy"})),
    )
    score = await provider.score_sentiment("thanks!")
    assert score.mood == "Happy"
    assert len(server.requests) == 3


async def test_rate_limit_beyond_the_retries_says_what_to_do(
    server: FakeOpenAI, provider: OpenAIProvider
) -> None:
    server.then(Step(status=429), Step(status=429), Step(status=429))
    with pytest.raises(AIProviderError, match=r"rate limiting \(429\).*HALO_AI_MAX_RETRIES"):
        await provider.score_sentiment("hello")
    assert len(server.requests) == 3  # first try + 2 retries


async def test_timeout_names_the_setting(server: FakeOpenAI) -> None:
    impatient = OpenAIProvider(API_KEY, "m", base_url=server.url, timeout=0.2, max_retries=0)
    server.then(Step(content="{}", delay=1.0))
    began = time.monotonic()
    with pytest.raises(AIProviderError, match="HALO_AI_TIMEOUT_SECONDS"):
        await impatient.score_sentiment("hello")
    assert time.monotonic() - began < 0.9
    await impatient.close()


async def test_bad_key_is_a_clear_error_and_not_retried(server: FakeOpenAI) -> None:
    wrong = OpenAIProvider("sk-wrong", "m", base_url=server.url, timeout=2, max_retries=2)
    with pytest.raises(AIProviderError, match=r"rejected the API key \(401\).*OPENAI_API_KEY"):
        await wrong.score_sentiment("hello")
    assert server.requests == []
    await wrong.close()


async def test_output_outside_the_schema_is_refused(
    server: FakeOpenAI, provider: OpenAIProvider
) -> None:
    server.then(Step(content=json.dumps({"polarity": 3, "mood": "Ecstatic"})))
    with pytest.raises(AIProviderError, match="does not match its JSON schema"):
        await provider.score_sentiment("hello")
    server.then(Step(content="not json"))
    with pytest.raises(AIProviderError, match="structured outputs"):
        await provider.score_sentiment("hello")


async def test_unreachable_server_names_the_base_url() -> None:
    with fake_openai() as gone:
        url = gone.url
    nowhere = OpenAIProvider(API_KEY, "m", base_url=url, timeout=1, max_retries=0)
    with pytest.raises(AIProviderError, match="OPENAI_BASE_URL"):
        await nowhere.score_sentiment("hello")
    await nowhere.close()


def test_provider_is_chosen_by_settings(server: FakeOpenAI) -> None:
    assert provider_from_settings(load_settings(HALO_AI_PROVIDER="offline")).name == "offline"
    settings = load_settings(
        HALO_AI_PROVIDER="openai", OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=server.url
    )
    chosen = provider_from_settings(settings, offline_fallback=False)
    assert isinstance(chosen, OpenAIProvider) and chosen.base_url == server.url
    assert provider_from_settings(settings).name == "openai+offline"


def test_openai_without_a_key_fails_at_startup_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        load_settings(HALO_AI_PROVIDER="openai", OPENAI_API_KEY="")


async def test_logs_never_contain_message_text(
    server: FakeOpenAI, provider: OpenAIProvider, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "my card 4111-1111 was charged twice"
    server.then(
        Step(content=json.dumps({"polarity": -0.5, "mood": "Angry"})),
        Step(status=500),
        Step(status=500),
        Step(status=500),
    )
    # As `halo` configures it at HALO_LOG_LEVEL=DEBUG: everything at DEBUG except the client
    # libraries, whose DEBUG records carry request bodies.
    quiet_body_logging()
    with caplog.at_level(logging.DEBUG):
        await provider.score_sentiment(secret)
        with pytest.raises(AIProviderError):
            await provider.score_sentiment(secret)
    assert any(getattr(r, "action", None) == "ai.request" for r in caplog.records)
    assert any(getattr(r, "action", None) == "ai.request_failed" for r in caplog.records)
    for record in caplog.records:
        assert "4111" not in record.getMessage()
        assert all("4111" not in str(value) for value in vars(record).values())


async def test_fallback_answers_offline_when_the_api_fails_except_drafts(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    remote = OpenAIProvider("sk-wrong", "m", base_url=server.url, timeout=2, max_retries=0)
    resilient = FallbackProvider(remote)
    with caplog.at_level(logging.WARNING):
        score = await resilient.score_sentiment("Ich verstehe nicht, was das bedeutet")
    assert score.mood == "Confused"
    fallbacks = [r for r in caplog.records if getattr(r, "action", None) == "ai.fallback"]
    assert len(fallbacks) == 1 and "OPENAI_API_KEY" in fallbacks[0].getMessage()
    intent = await resilient.detect_escalation_intent("Te paso con un agente.")
    assert intent.hands_off
    with pytest.raises(AIProviderError, match="OPENAI_API_KEY"):
        await resilient.draft_reply([TranscriptMessage(role="user", text="hi")])
    await remote.close()
