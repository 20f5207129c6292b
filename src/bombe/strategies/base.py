"""The strategy interface: a strategy turns a visible task, a model, the sandbox and a budget
into one submission (or k).

A strategy receives a `Context`, never a `Task`: the context's `task` is a `VisibleTask`
(prompt, entry point, visible checks), its `model` and `executor` spend the budget through
the tracker, and nothing in it holds the judge's checks. `bombe.strategies.solve` builds the
context, runs the strategy and judges its submissions on the hidden checks afterwards.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bombe.models.extract import program_from_reply
from bombe.models.prompts import Mode, Prompt, Templates, build_prompt, fill
from bombe.strategies.budget import BudgetExceeded, BudgetTracker
from bombe.strategies.mutate import mutate_inputs
from bombe.strategies.runtime import Completion, Executor, Inputs, ModelAccess
from bombe.strategies.visible import VisibleTask

__all__ = ["BudgetExceeded", "Context", "Solution", "Strategy", "StrategyOptionError"]


class StrategyOptionError(ValueError):
    """An unknown strategy, or an option it does not have or cannot parse."""


@dataclass
class Solution:
    """What a strategy submits (best first) and what it wants recorded about how it got there."""

    submissions: list[str]
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    task: VisibleTask
    model: ModelAccess
    executor: Executor
    budget: BudgetTracker
    mode: Mode
    templates: Templates
    k: int = 1
    seed: int = 0
    max_tokens: int = 512
    temperature: float = 0.8

    # prompts -----------------------------------------------------------------------------

    def code_prompt(self) -> Prompt:
        """The plain prompt: the task, asking for the function (bombe run's prompt)."""
        return build_prompt(self.task, self.mode, self.templates)

    def chat(self, *turns: tuple[str, str]) -> Prompt:
        """A conversation (role, text) after the system message; for base models, one text."""
        if self.mode == "completion":
            return Prompt("completion", text="\n\n".join(text for _, text in turns) + "\n")
        system = (("system", fill(self.templates.chat_system, self.task)),) if self.templates.chat_system else ()
        return Prompt("chat", messages=system + tuple(turns))

    def program(self, completion: Completion | str, prompt: Prompt) -> str:
        text = completion.text if isinstance(completion, Completion) else completion
        mode = "completion" if prompt.mode == "completion" and prompt.text and prompt.text.endswith(
            self.task.prompt) else "chat"
        return program_from_reply(text, self.task.prompt, self.task.entry_point, mode)

    # generation helpers --------------------------------------------------------------------

    async def sample_programs(self, prompt: Prompt, n: int, temperature: float | None = None,
                              max_tokens: int | None = None) -> list[str]:
        completions = await self.model.sample(prompt, n, self.temperature if temperature is None else temperature,
                                              max_tokens or self.max_tokens)
        return [self.program(c, prompt) for c in completions]

    def visible_inputs(self) -> list[Inputs]:
        return [c.inputs for c in self.task.calls]

    def generated_inputs(self, count: int) -> list[Inputs]:
        return mutate_inputs(self.visible_inputs(), count, seed=self.seed)


class Strategy(ABC):
    """Subclasses are dataclasses of their options, with a `name` and `solve`."""

    name: ClassVar[str]

    @abstractmethod
    async def solve(self, ctx: Context) -> Solution: ...

    def options(self) -> dict:
        return dataclasses.asdict(self) if dataclasses.is_dataclass(self) else {}

    @classmethod
    def from_options(cls, options: dict[str, str]) -> Strategy:
        """The strategy with `options` (text values, from the command line) parsed by field type."""
        fields = {f.name: f for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}
        values: dict[str, Any] = {}
        for key, text in options.items():
            name = key.replace("-", "_")
            if name not in fields:
                known = ", ".join(sorted(fields)) or "none"
                raise StrategyOptionError(f"strategy {cls.name!r} has no option {key!r} (options: {known})")
            kind = fields[name].type if isinstance(fields[name].type, type) else str(fields[name].type)
            try:
                if kind in (bool, "bool"):
                    if text.lower() not in ("1", "0", "true", "false", "yes", "no"):
                        raise ValueError(text)
                    values[name] = text.lower() in ("1", "true", "yes")
                elif kind in (int, "int"):
                    values[name] = int(text)
                elif kind in (float, "float"):
                    values[name] = float(text)
                else:
                    values[name] = text
            except ValueError:
                raise StrategyOptionError(f"strategy {cls.name!r}: option {key!r} cannot be {text!r}") from None
        return cls(**values)
