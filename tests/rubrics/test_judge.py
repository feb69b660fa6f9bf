"""The LLM judge and the LLM rubrics.

The chat model is faked (langchain-core's FakeMessagesListChatModel, with a small
subclass adding bind_tools / with_structured_output, which the fakes lack) because a
real model is the one edge these tests cannot reach; everything else is real.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, Field

from rubrics.judge import Judge, JudgeConfigError, judge_from_env
from rubrics.model import Outcome
from rubrics.registry import RUBRICS
from rubrics.review import review
from tests.rubrics.evidence_data import TITLE, clean_run, evidence, reference_params

LLM_RUBRICS = [r.id for r in RUBRICS if r.kind == "llm"]


class StructuredFake(FakeMessagesListChatModel):
    """A fake chat model that answers with structured output, counting its calls."""

    calls: int = 0
    prompts: list[str] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> StructuredFake:
        return self

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Runnable[Any, Any]:
        def parse(message: BaseMessage) -> BaseModel:
            self.calls += 1
            return schema.model_validate_json(str(message.content))

        def remember(messages: Any) -> Any:
            self.prompts.append(str(messages[-1].content))
            return messages

        return RunnableLambda(remember) | self | RunnableLambda(parse)


def fake(outcome: str, quote: str, reason: str = "because") -> StructuredFake:
    answer = json.dumps({"outcome": outcome, "quote": quote, "reason": reason})
    return StructuredFake(responses=[AIMessage(content=answer)])


def with_recent() -> dict[str, Any]:
    data = clean_run()
    data["recent"] = [{"id": "ENG-090", "title": "Checkout fails in Zürich", "description": "same"}]
    return data


@pytest.mark.parametrize("rubric_id", LLM_RUBRICS)
def test_llm_rubric_passes_with_a_quoted_pass(rubric_id: str) -> None:
    judge = Judge(fake("pass", "Checkout fails"), name="fake:model")
    [result] = review(evidence(with_recent()), reference_params(), judge=judge, select=[rubric_id])
    assert result.outcome == Outcome.PASS, result
    assert result.evidence and all("Checkout fails" in str(i.value) for i in result.evidence)


@pytest.mark.parametrize("rubric_id", LLM_RUBRICS)
def test_llm_rubric_fails_with_a_quoted_fail(rubric_id: str) -> None:
    judge = Judge(fake("fail", TITLE, "it says too little"), name="fake:model")
    [result] = review(evidence(with_recent()), reference_params(), judge=judge, select=[rubric_id])
    assert result.outcome == Outcome.FAIL
    assert "it says too little" in result.message


def test_a_quote_not_in_the_inputs_is_an_error_never_a_pass() -> None:
    judge = Judge(fake("pass", "words nobody wrote"), name="fake:model")
    [result] = review(
        evidence(clean_run()), reference_params(), judge=judge, select=["judgment.summary_faithful"]
    )
    assert result.outcome == Outcome.ERROR
    assert "not in its inputs" in result.message


def test_an_answer_out_of_shape_is_an_error() -> None:
    model = StructuredFake(responses=[AIMessage(content='{"outcome": "maybe"}')])
    [result] = review(
        evidence(clean_run()),
        reference_params(),
        judge=Judge(model, name="f"),
        select=["judgment.summary_professional"],
    )
    assert result.outcome == Outcome.ERROR


def test_verdicts_are_cached_by_rubric_version_model_and_inputs() -> None:
    model = fake("pass", "Checkout fails")
    persistent: dict[str, dict[str, Any]] = {}
    judge = Judge(model, name="fake:model", cache=persistent)
    first = review(
        evidence(clean_run()), reference_params(), judge=judge, select=["judgment.summary_faithful"]
    )
    again = review(
        evidence(clean_run()), reference_params(), judge=judge, select=["judgment.summary_faithful"]
    )
    assert model.calls == 1
    assert first == again
    assert len(persistent) == 1 and next(iter(persistent)).startswith(
        "judgment.summary_faithful@1|fake:model|"
    )
    # A new judge with the same persistent cache asks the model nothing.
    other = fake("fail", "Checkout fails")
    review(
        evidence(clean_run()),
        reference_params(),
        judge=Judge(other, name="fake:model", cache=persistent),
        select=["judgment.summary_faithful"],
    )
    assert other.calls == 0
    # Other inputs are another question.
    changed = clean_run()
    changed["planned"]["notify_slack"]["text"] = "*ENG-101* Checkout fails, please look"
    review(evidence(changed), reference_params(), judge=judge, select=["judgment.summary_faithful"])
    assert model.calls == 2


def test_the_prompt_carries_the_inputs() -> None:
    model = fake("pass", "Checkout fails")
    review(
        evidence(clean_run()),
        reference_params(),
        judge=Judge(model, name="f"),
        select=["judgment.summary_faithful"],
    )
    assert TITLE in model.prompts[0] and "Does the message say only" in model.prompts[0]


@pytest.mark.parametrize("rubric_id", LLM_RUBRICS)
def test_no_judge_is_not_judged_never_pass(rubric_id: str) -> None:
    [result] = review(evidence(with_recent()), reference_params(), select=[rubric_id])
    assert result.outcome == Outcome.NOT_JUDGED


def test_nothing_to_judge_is_not_applicable() -> None:
    [result] = review(evidence(clean_run()), reference_params(), select=["judgment.not_duplicate"])
    assert result.outcome == Outcome.NOT_APPLICABLE


def test_judge_from_env() -> None:
    assert judge_from_env({}) is None
    assert judge_from_env({"STEPTRACE_JUDGE": " "}) is None
    with pytest.raises(JudgeConfigError, match="provider:model"):
        judge_from_env({"STEPTRACE_JUDGE": "gpt-4o"})


def test_a_missing_provider_package_is_named() -> None:
    pytest.importorskip("langchain_core")
    try:
        import langchain_openai  # noqa: F401
    except ImportError:
        with pytest.raises(JudgeConfigError, match="langchain-openai"):
            judge_from_env({"STEPTRACE_JUDGE": "openai:gpt-4o-mini"})
    else:
        pytest.skip("langchain-openai is installed here")


def test_an_unknown_provider_is_named() -> None:
    with pytest.raises(JudgeConfigError, match="nosuch"):
        judge_from_env({"STEPTRACE_JUDGE": "nosuch:model"})
