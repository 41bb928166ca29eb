"""``ask``: a front-line question for the caller, answered at the terminal or in advance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from agent.line.secrets import MASK, Secret
from agent.playbook.answers import Asker, normalise_answer, prompt_for
from agent.playbook.compiling import StepSite
from agent.playbook.expressions import Template
from agent.playbook.kinds import StepKind
from agent.playbook.model import AnswerType, Step
from agent.playbook.runtime import Outcome, StepRun, error
from agent.result import StepStatus

_ASK_TRIES = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class AskStep(Step):
    """A front-line question for the caller, answered at the terminal or in advance."""

    action: ClassVar[str] = "ask"

    key: str
    question: Template
    type: AnswerType
    choices: tuple[str, ...] = ()
    #: The answer when nobody is asked (no terminal and none given in advance); None: the
    #: question must be answered.
    default: Any = None

    @property
    def answer_key(self) -> str | None:
        return self.key


SCHEMA = {
    "properties": {
        "ask": {"$ref": "#/$defs/ask", "description": "Action: a front-line question."},
    },
    "$defs": {
        "ask": {
            "type": "object",
            "additionalProperties": False,
            "required": ["key", "question", "type"],
            "properties": {
                "key": {"$ref": "#/$defs/identifier",
                        "description": "Answer name: answers.<key>, --answer <key>=..."},
                "question": {"$ref": "#/$defs/template"},
                "type": {"enum": [answer.value for answer in AnswerType]},
                "default": {
                    "type": ["string", "boolean", "number"],
                    "description": "The answer used when nobody is at a terminal and none "
                                   "was given in advance (one of the choices, yes/no...).",
                },
                "choices": {
                    "type": "array",
                    "minItems": 2,
                    "uniqueItems": True,
                    "items": {"$ref": "#/$defs/text"},
                },
            },
            "if": {"properties": {"type": {"const": "choice"}}, "required": ["type"]},
            "then": {"required": ["choices"]},
        },
    },
}


def build(raw: Mapping[str, Any], common: dict[str, Any], site: StepSite) -> AskStep | None:
    spec = raw["ask"]
    kind = AnswerType(spec["type"])
    if "choices" in spec and kind is not AnswerType.CHOICE:
        site.problem(f'"choices" only go with type "choice" (this question is "{kind}")',
                     "ask", "choices", key=True)
        return None
    question = site.template(spec["question"], "ask", "question")
    if question is None:
        return None
    step = AskStep(key=spec["key"], question=question, type=kind,
                   choices=tuple(spec.get("choices", ())), default=spec.get("default"), **common)
    if step.default is not None:
        if kind is AnswerType.SECRET:
            site.problem("a secret question cannot have a default", "ask", "default")
            return None
        _, problem = normalise_answer(step, step.default)
        if problem:
            site.problem(f"default: {problem}", "ask", "default")
            return None
    return step


def run(step: AskStep, ctx: StepRun, context: dict[str, Any]) -> Outcome:
    """An answer given in advance wins; else the terminal; else the playbook's default (used
    for ``when`` only: nobody said it, so it is not evidence); else the step is an error."""
    question = step.question.render(context)
    given = step.key in ctx.options.answers
    how = "given in advance" if given else "answered at the terminal"
    if given:
        value, problem = normalise_answer(step, ctx.options.answers[step.key])
        if problem:
            return error(f"--answer {step.key}: {problem}")
    elif ctx.options.asker is None and step.default is not None:
        value, _ = normalise_answer(step, step.default)
        how = "the playbook's default: nobody to ask"
    else:
        asked = _ask_person(ctx.options.asker, step, question)
        if isinstance(asked, Outcome):
            return asked
        value = asked
    shown = MASK if step.type is AnswerType.SECRET else value
    if step.key in ctx.options.answers or ctx.options.asker is not None:
        # What the caller said is evidence (it goes on the ticket); a default is not.
        ctx.run.answers[step.key] = shown
    ctx.answers[step.key] = value.reveal() if isinstance(value, Secret) else value
    return Outcome(StepStatus.OK, f"{step.key} = {shown!r} ({how})", ctx.answers[step.key])


def _ask_person(asker: Asker | None, step: AskStep, question: str) -> Any:
    if asker is None:
        return error(f"no answer for {step.key!r}: give --answer {step.key}=... or "
                     "--answers FILE (nobody to ask: input is not a terminal)")
    prompt = prompt_for(step, question)
    for _ in range(_ASK_TRIES):
        raw = asker.ask(prompt, secret=step.type is AnswerType.SECRET)
        if raw is None:
            return error(f"no answer for {step.key!r} (input ended)")
        value, problem = normalise_answer(step, raw)
        if problem is None:
            return value
        asker.say(problem)
    return error(f"no valid answer for {step.key!r} after {_ASK_TRIES} tries")


KIND = StepKind(name="ask", model=AskStep, schema=SCHEMA, build=build, run=run,
                diagnostic=False, rank=50,
                not_with=frozenset({"retries", "delay", "until", "loop", "loop_var"}))
