"""AI features through an OpenAI-compatible chat-completions API (the ``openai`` package).

Each feature is one chat completion with a JSON-schema'd response format (structured output), so
the answer is parsed and validated into the same result types the offline provider returns. The
client retries 429s, 5xx and timeouts itself (``HALO_AI_MAX_RETRIES``, honouring Retry-After);
what still fails becomes an :class:`~halo_supabase.errors.AIProviderError` that names the fix.
Logs carry the task, model and timing under stable ``action`` keys, never message text.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError

from halo_supabase.ai.provider import (
    ConversationSummary,
    DraftReply,
    EmailForSpam,
    EscalationIntent,
    SentimentJudgement,
    SpamVerdict,
    TranscriptMessage,
)
from halo_supabase.ai.sentiment import SentimentScore
from halo_supabase.errors import AIProviderError
from halo_supabase.settings import Settings

__all__ = ["OpenAIProvider"]

log = logging.getLogger(__name__)
ResultT = TypeVar("ResultT", bound=BaseModel)

_SYSTEM = {
    "sentiment": (
        "You rate one customer support message. polarity: -1 (very negative) to 1 (very "
        "positive); sarcasm ('great, another outage') is negative. mood: Happy, Neutral, Confused "
        "(the customer does not understand something), Frustrated or Angry."
    ),
    "spam": (
        "You classify one email sent to a company's support address. Spam means unsolicited "
        "sales, SEO, scams or bulk marketing, never a customer with a problem, however rude. "
        "reasons: short snake_case codes."
    ),
    "draft": (
        "You draft a reply for a support agent to edit and send, in the customer's language, "
        "friendly and concise. confidence: 0-100, how sure you are the answer is right; use a low "
        "value when the transcript lacks the facts needed."
    ),
    "summary": (
        "You summarize a support conversation. topic: at most six words. summary: two sentences."
    ),
    "escalation": (
        "hands_off: the AI assistant's reply hands the customer over to a human (connects, "
        "transfers, escalates, opens a ticket for the team). customer_wants_human: the customer "
        "asks to talk to a human. Declining to hand off is not a hand-off."
    ),
}


# Keywords outside the subset every schema-enforcing API accepts in strict mode. The bounds are
# still enforced: pydantic validates the answer against the full model.
_UNPORTABLE = frozenset(
    {
        "title",
        "default",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
    }
)


def _portable(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _portable(v) for k, v in node.items() if k not in _UNPORTABLE}
    if isinstance(node, list):
        return [_portable(item) for item in node]
    return node


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """A result type's JSON schema in the strict subset: all fields required, no extras, no bounds."""
    schema: dict[str, Any] = _portable(model.model_json_schema())
    schema["additionalProperties"] = False
    schema["required"] = list(schema.get("properties", {}))
    return schema


def _transcript(messages: Sequence[TranscriptMessage]) -> str:
    return "\n".join(f"{m.role}: {m.text}" for m in messages)


class OpenAIProvider:
    """AI features through chat completions; one shared async client per provider."""

    name = "openai"

    def __init__(
        self,
        api_key: str,
        model: str,
        *,
        base_url: str | None = None,
        timeout: float = 20.0,
        max_retries: int = 2,
    ) -> None:
        self.model = model
        self.timeout = timeout
        self.max_retries = max_retries
        self.base_url = base_url
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIProvider:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
        return cls(
            key,
            settings.ai_model,
            base_url=settings.openai_base_url,
            timeout=settings.ai_timeout_seconds,
            max_retries=settings.ai_max_retries,
        )

    async def close(self) -> None:
        await self._client.close()

    async def _complete(self, task: str, user: str, result: type[ResultT]) -> ResultT:
        began = time.perf_counter()
        try:
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": _SYSTEM[task]},
                    {"role": "user", "content": user},
                ],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": task, "strict": True, "schema": _schema(result)},
                },
            )
        except openai.APIError as exc:
            log.warning(
                "ai request failed",
                extra={"action": "ai.request_failed", "task": task, "error": type(exc).__name__},
            )
            raise self._explain(exc) from exc
        content = response.choices[0].message.content if response.choices else None
        try:
            parsed = result.model_validate(json.loads(content or ""))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise AIProviderError(
                f"{self._where()} answered the {task} request with output that does not match "
                f"its JSON schema ({type(exc).__name__}). Use a model that supports structured "
                "outputs (response_format json_schema) in HALO_AI_MODEL, or HALO_AI_PROVIDER=offline."
            ) from exc
        log.debug(
            "ai request",
            extra={
                "action": "ai.request",
                "task": task,
                "model": self.model,
                "ms": round((time.perf_counter() - began) * 1000),
            },
        )
        return parsed

    def _where(self) -> str:
        return f"the AI provider at {self.base_url}" if self.base_url else "OpenAI"

    def _explain(self, exc: openai.APIError) -> AIProviderError:
        where = self._where()
        if isinstance(exc, openai.AuthenticationError):
            return AIProviderError(
                f"{where} rejected the API key (401). Check OPENAI_API_KEY (and OPENAI_BASE_URL if "
                "the key belongs to another OpenAI-compatible server), or set "
                "HALO_AI_PROVIDER=offline."
            )
        if isinstance(exc, openai.PermissionDeniedError):
            return AIProviderError(
                f"{where} refused the request (403): the key has no access to model "
                f"{self.model!r}. Pick another HALO_AI_MODEL or fix the key's permissions."
            )
        if isinstance(exc, openai.NotFoundError):
            return AIProviderError(
                f"{where} does not know model {self.model!r} (404). Set HALO_AI_MODEL to a model "
                "it serves, and check that OPENAI_BASE_URL ends with /v1."
            )
        if isinstance(exc, openai.RateLimitError):
            return AIProviderError(
                f"{where} is rate limiting (429) and still was after {self.max_retries} "
                "retries. Raise HALO_AI_MAX_RETRIES, lower the request rate, or check the "
                "account's quota."
            )
        if isinstance(exc, openai.APITimeoutError):
            return AIProviderError(
                f"{where} did not answer within {self.timeout:g}s ({self.max_retries} retries). "
                "Raise HALO_AI_TIMEOUT_SECONDS or choose a faster HALO_AI_MODEL."
            )
        if isinstance(exc, openai.APIConnectionError):
            return AIProviderError(
                f"cannot reach {where}: {exc}. Check OPENAI_BASE_URL and the network, or set "
                "HALO_AI_PROVIDER=offline."
            )
        if isinstance(exc, openai.APIStatusError):
            return AIProviderError(
                f"{where} answered HTTP {exc.status_code}: {exc.message}. If it persists, check "
                "the provider's status page or set HALO_AI_PROVIDER=offline."
            )
        return AIProviderError(f"{where} request failed: {exc}")

    async def score_sentiment(self, text: str) -> SentimentScore:
        judged = await self._complete("sentiment", text, SentimentJudgement)
        label = (
            "positive"
            if judged.polarity > 0.25
            else "negative"
            if judged.polarity < -0.25
            else "neutral"
        )
        return SentimentScore(round(judged.polarity, 4), label, judged.mood, 1.0)

    async def classify_spam(self, email: EmailForSpam) -> SpamVerdict:
        user = f"From: {email.sender}\nSubject: {email.subject}\n\n{email.body}"
        return await self._complete("spam", user, SpamVerdict)

    async def draft_reply(
        self, transcript: Sequence[TranscriptMessage], instructions: str | None = None
    ) -> DraftReply:
        user = _transcript(transcript)
        if instructions:
            user = f"Agent's instructions: {instructions}\n\n{user}"
        return await self._complete("draft", user, DraftReply)

    async def summarize(self, transcript: Sequence[TranscriptMessage]) -> ConversationSummary:
        return await self._complete("summary", _transcript(transcript), ConversationSummary)

    async def detect_escalation_intent(
        self, ai_reply: str, customer_message: str | None = None
    ) -> EscalationIntent:
        user = f"AI reply: {ai_reply}"
        if customer_message is not None:
            user = f"Customer: {customer_message}\n{user}"
        return await self._complete("escalation", user, EscalationIntent)
