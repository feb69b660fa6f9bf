"""The LLM judge: one chat model, one structured verdict per question, quotes checked.

Any langchain-core ``BaseChatModel`` can judge. :func:`judge_from_env` builds one from
``STEPTRACE_JUDGE`` (``provider:model``, e.g. ``openai:gpt-4o-mini``,
``anthropic:claude-3-5-haiku-latest``, ``ollama:llama3.1``) at temperature 0; provider
packages are optional extras (``pip install 'steptrace[openai]'``).

The judge must quote its evidence: a verdict whose quote is not found verbatim in the
inputs it was shown is an ``error``, never a ``pass``; so is a model that fails or
answers out of shape. Verdicts are cached by (rubric version, model, input hash), in
memory and, when given, in a dict-like persistent cache.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError

from rubrics.model import Outcome

ENV_VAR = "STEPTRACE_JUDGE"

PROVIDERS: dict[str, tuple[str, str, str]] = {
    "openai": ("langchain_openai", "ChatOpenAI", "langchain-openai"),
    "anthropic": ("langchain_anthropic", "ChatAnthropic", "langchain-anthropic"),
    "ollama": ("langchain_ollama", "ChatOllama", "langchain-ollama"),
}
"""Providers usable without the ``langchain`` package: module, class, and the package."""

SYSTEM_PROMPT = (
    "You review the output of a business-operations automation for quality. Answer the "
    "question about the inputs with outcome 'pass' or 'fail'. In 'quote', copy the exact "
    "words from the inputs that decide your answer, verbatim, without changing a "
    "character. In 'reason', say why in one sentence."
)


class Verdict(BaseModel):
    """What the model must answer."""

    outcome: Literal["pass", "fail"]
    quote: str = Field(description="exact words copied from the inputs that decide the outcome")
    reason: str = Field(description="one sentence")


class JudgeConfigError(ValueError):
    """``STEPTRACE_JUDGE`` names a judge that cannot be built; the message says how to fix it."""


@dataclass(frozen=True)
class JudgeAnswer:
    outcome: Outcome
    quote: str
    reason: str
    cached: bool = False


class Judge:
    """A chat model with a verdict cache. ``name`` identifies the model in cache keys."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        name: str,
        cache: MutableMapping[str, dict[str, Any]] | None = None,
    ) -> None:
        self.model = model
        self.name = name
        self.persistent = cache
        self.memory: dict[str, dict[str, Any]] = {}

    def ask(
        self, rubric_id: str, rubric_version: str, question: str, inputs: Mapping[str, str]
    ) -> JudgeAnswer:
        """The verdict on ``question`` over ``inputs``, from the cache when known."""
        key = cache_key(rubric_id, rubric_version, self.name, question, inputs)
        stored = self.memory.get(key)
        if stored is None and self.persistent is not None:
            stored = self.persistent.get(key)
        if stored is not None:
            self.memory[key] = stored
            return _answer(stored, cached=True)
        answer = self._ask_model(question, inputs)
        if answer.outcome != Outcome.ERROR:
            record = {
                "outcome": answer.outcome.value,
                "quote": answer.quote,
                "reason": answer.reason,
            }
            self.memory[key] = record
            if self.persistent is not None:
                self.persistent[key] = record
        return answer

    def _ask_model(self, question: str, inputs: Mapping[str, str]) -> JudgeAnswer:
        messages = [SystemMessage(SYSTEM_PROMPT), HumanMessage(_prompt(question, inputs))]
        try:
            raw = self.model.with_structured_output(Verdict).invoke(messages)
            verdict = raw if isinstance(raw, Verdict) else Verdict.model_validate(raw)
        except ValidationError as exc:
            return JudgeAnswer(
                Outcome.ERROR, "", f"the judge answered out of shape: {exc.errors()[0]['msg']}"
            )
        except Exception as exc:  # a provider's failure must not pass or crash the review
            return JudgeAnswer(Outcome.ERROR, "", f"the judge failed: {type(exc).__name__}: {exc}")
        if not quote_found(verdict.quote, inputs):
            return JudgeAnswer(
                Outcome.ERROR,
                verdict.quote,
                f"the judge's quote {verdict.quote!r} is not in its inputs "
                f"(it said: {verdict.reason})",
            )
        return JudgeAnswer(Outcome(verdict.outcome), verdict.quote, verdict.reason)


def quote_found(quote: str, inputs: Mapping[str, str]) -> bool:
    """True when ``quote`` (trimmed, not empty) occurs verbatim in one of the inputs."""
    needle = quote.strip()
    return bool(needle) and any(needle in text for text in inputs.values())


def cache_key(
    rubric_id: str, rubric_version: str, model: str, question: str, inputs: Mapping[str, str]
) -> str:
    payload = json.dumps({"q": question, "in": dict(inputs)}, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(payload.encode()).hexdigest()
    return f"{rubric_id}@{rubric_version}|{model}|{digest}"


def _answer(record: Mapping[str, Any], *, cached: bool) -> JudgeAnswer:
    return JudgeAnswer(Outcome(record["outcome"]), record["quote"], record["reason"], cached)


def _prompt(question: str, inputs: Mapping[str, str]) -> str:
    parts = [f"Question: {question}", ""]
    for name, text in inputs.items():
        parts += [f"<{name}>", text, f"</{name}>"]
    return "\n".join(parts)


def judge_from_env(
    env: Mapping[str, str] | None = None,
    *,
    cache: MutableMapping[str, dict[str, Any]] | None = None,
) -> Judge | None:
    """The judge ``STEPTRACE_JUDGE`` names, or ``None`` when it is not set."""
    spec = (env if env is not None else os.environ).get(ENV_VAR, "").strip()
    if not spec:
        return None
    provider, sep, model_name = spec.partition(":")
    if not sep or not provider or not model_name:
        raise JudgeConfigError(
            f"{ENV_VAR}={spec!r}: expected provider:model, e.g. openai:gpt-4o-mini "
            f"(providers: {', '.join(PROVIDERS)})"
        )
    return Judge(build_model(provider, model_name), name=spec, cache=cache)


def build_model(provider: str, model_name: str) -> BaseChatModel:
    """A chat model at temperature 0: through ``init_chat_model`` when ``langchain`` is
    installed, else through the provider package directly."""
    try:
        from langchain.chat_models import init_chat_model  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return _direct(provider, model_name)
    try:
        model: BaseChatModel = init_chat_model(model_name, model_provider=provider, temperature=0)
    except ImportError as exc:
        raise JudgeConfigError(_missing(provider, str(exc))) from exc
    return model


def _direct(provider: str, model_name: str) -> BaseChatModel:
    known = PROVIDERS.get(provider)
    if known is None:
        raise JudgeConfigError(
            f"{ENV_VAR}: unknown provider {provider!r} (known: {', '.join(PROVIDERS)}; "
            "install the `langchain` package for every provider init_chat_model knows)"
        )
    module_name, class_name, _ = known
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise JudgeConfigError(_missing(provider, str(exc))) from exc
    model: BaseChatModel = getattr(module, class_name)(model=model_name, temperature=0)
    return model


def _missing(provider: str, detail: str) -> str:
    package = PROVIDERS.get(provider, ("", "", f"langchain-{provider}"))[2]
    return (
        f"{ENV_VAR}: the judge provider {provider!r} needs the package {package!r}, which "
        f"is not installed ({detail}); install it, e.g. pip install 'steptrace[{provider}]'"
    )
