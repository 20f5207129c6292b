"""Budgets, and the tracker every model call and sandbox execution of a strategy goes through.

A `Budget` bounds tokens (prompt and completion together, as the server reports them), samples
(completions), executions (sandbox jobs), wall seconds and dollars. The tracker refuses what
would exceed a bound: before a request it caps `n` and `max_tokens` so that even the longest
possible reply fits, counting each prompt at an upper bound of its length in tokens (its UTF-8
bytes plus the chat template's markup, or what the same prompt cost before). Wall seconds and
dollars without prices cannot be bounded before a call: past the seconds, no new call starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from bombe.models.cache import Prices
from bombe.models.prompts import Prompt

# Markup a chat template may add around each message, and around the whole prompt, in tokens.
TEMPLATE_TOKENS_PER_MESSAGE = 16
TEMPLATE_TOKENS = 64


class BudgetExceeded(Exception):
    """The budget cannot afford what was asked."""


@dataclass(frozen=True)
class Budget:
    """What one task may spend; None is unbounded."""

    tokens: int | None = None
    samples: int | None = None
    executions: int | None = None
    seconds: float | None = None
    dollars: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Spent:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    samples: int = 0
    executions: int = 0
    dollars: float = 0.0
    requests: int = 0
    refused: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def prompt_token_bound(prompt: Prompt) -> int:
    """An upper bound on a prompt's length in tokens: a byte-level tokenizer never makes more
    tokens than bytes, and templates add a bounded amount of markup."""
    if prompt.mode == "completion":
        return len((prompt.text or "").encode()) + TEMPLATE_TOKENS
    messages = prompt.messages or ()
    return (sum(len(content.encode()) + len(role.encode()) for role, content in messages)
            + TEMPLATE_TOKENS_PER_MESSAGE * len(messages) + TEMPLATE_TOKENS)


@dataclass
class Grant:
    """What the tracker allows one request: this many samples of at most this many tokens."""

    n: int
    max_tokens: int
    reserved_tokens: int = 0  # the most the request can cost, held until it is charged
    reserved_dollars: float = 0.0


@dataclass
class BudgetTracker:
    budget: Budget
    prices: Prices = field(default_factory=Prices)
    min_completion_tokens: int = 16  # a request that could not write this much is not worth making
    clock: Callable[[], float] = time.monotonic
    spent: Spent = field(default_factory=Spent)

    def __post_init__(self) -> None:
        self.started = self.clock()
        # prompt key -> (largest per-sample prompt share seen, samples in that request): the
        # cost of a prompt already sent, known exactly (and the same on replay from the cache).
        self._known: dict[str, tuple[int, int]] = {}
        self._known_chats: dict[tuple, tuple[int, int]] = {}
        # What requests in flight may still cost: concurrent requests cannot overrun together.
        self.reserved_tokens = 0
        self.reserved_samples = 0
        self.reserved_dollars = 0.0

    # -- reading -------------------------------------------------------------------------

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    def tokens_left(self) -> int | None:
        return None if self.budget.tokens is None else self.budget.tokens - self.spent.tokens - self.reserved_tokens

    def samples_left(self) -> int | None:
        return None if self.budget.samples is None else self.budget.samples - self.spent.samples - self.reserved_samples

    def executions_left(self) -> int | None:
        return None if self.budget.executions is None else self.budget.executions - self.spent.executions

    def out_of_time(self) -> bool:
        return self.budget.seconds is not None and self.elapsed >= self.budget.seconds

    def fraction_left(self) -> float:
        """The smallest share left of any bounded resource (1.0 when nothing is bounded)."""
        shares = [1.0]
        if self.budget.tokens:
            shares.append(max(0, self.tokens_left()) / self.budget.tokens)
        if self.budget.samples:
            shares.append(max(0, self.samples_left()) / self.budget.samples)
        if self.budget.seconds:
            shares.append(max(0.0, 1 - self.elapsed / self.budget.seconds))
        if self.budget.dollars:
            shares.append(max(0.0, 1 - self.spent.dollars / self.budget.dollars))
        return min(shares)

    # -- model requests --------------------------------------------------------------------

    def _prompt_cost(self, key: str, prompt: Prompt, n: int) -> int:
        """An upper bound on the prompt tokens a request of n samples is charged."""
        known = self._known.get(key)
        if known is None:
            return n * self._new_prompt_bound(prompt)
        share, count = known
        # A server answering one by one charges `share` per sample; one honouring n charged
        # share*count for the whole request, whatever n is.
        return max(n * share, count * share)

    def _new_prompt_bound(self, prompt: Prompt) -> int:
        """A prompt not sent before: its byte bound, or, when it continues a chat already sent
        (a repair turn), what that chat cost plus the byte bound of the new messages. Chat
        templates close every message with a special token, so messages tokenize apart."""
        bound = prompt_token_bound(prompt)
        if prompt.mode != "chat" or not prompt.messages:
            return bound
        for messages, (share, count) in self._known_chats.items():
            if len(messages) < len(prompt.messages) and prompt.messages[: len(messages)] == messages:
                rest = prompt.messages[len(messages):]
                bound = min(bound, share * count + sum(len(c.encode()) + len(r.encode()) for r, c in rest)
                            + TEMPLATE_TOKENS_PER_MESSAGE * len(rest) + TEMPLATE_TOKENS)
        return bound

    def grant(self, key: str, prompt: Prompt, n: int, max_tokens: int) -> Grant:
        """Cap a request to what is left and reserve its most possible cost, or raise BudgetExceeded."""
        if self.out_of_time():
            self._refuse("the time budget is spent")
        left = self.samples_left()
        if left is not None:
            n = min(n, left)
        priced = self.budget.dollars is not None and (self.prices.prompt or self.prices.completion)
        while n > 0:
            prompt_cost = self._prompt_cost(key, prompt, n)
            cap = max_tokens
            tokens = self.tokens_left()
            if tokens is not None:
                cap = min(cap, (tokens - prompt_cost) // n)
            if priced:
                dollars_left = self.budget.dollars - self.spent.dollars - self.reserved_dollars
                room = dollars_left - (self.prices.cost(prompt_cost, 0) or 0.0)
                per_token = (self.prices.completion or 0.0) / 1e6
                if room < 0:
                    cap = -1
                elif per_token > 0:
                    cap = min(cap, int(room / per_token) // n)
            if cap >= min(self.min_completion_tokens, max_tokens):
                grant = Grant(n, cap, prompt_cost + n * cap,
                              (self.prices.cost(prompt_cost, n * cap) or 0.0) if priced else 0.0)
                self.reserved_tokens += grant.reserved_tokens
                self.reserved_samples += n
                self.reserved_dollars += grant.reserved_dollars
                return grant
            n -= 1
        self._refuse("the budget cannot afford another sample")

    def _refuse(self, why: str) -> None:
        self.spent.refused += 1
        raise BudgetExceeded(why)

    def charge_request(self, key: str, grant: Grant | None, shares: list[tuple[int, int]],
                       prompt: Prompt | None = None) -> None:
        """Release a grant's reservation and charge its samples, each (prompt tokens, completion tokens)."""
        if grant is not None:
            self.reserved_tokens -= grant.reserved_tokens
            self.reserved_samples -= grant.n
            self.reserved_dollars -= grant.reserved_dollars
        if not shares:
            return
        self.spent.requests += 1
        for prompt_tokens, completion_tokens in shares:
            self.spent.prompt_tokens += prompt_tokens
            self.spent.completion_tokens += completion_tokens
            self.spent.samples += 1
            self.spent.dollars += self.prices.cost(prompt_tokens, completion_tokens) or 0.0
        share, count = self._known.get(key, (0, 0))
        self._known[key] = (max(share, max(p for p, _ in shares)), max(count, len(shares)))
        if prompt is not None and prompt.mode == "chat" and prompt.messages:
            self._known_chats[prompt.messages] = self._known[key]

    # -- executions ------------------------------------------------------------------------

    def grant_executions(self, count: int) -> int:
        """How many of `count` executions may run now; raises BudgetExceeded when none."""
        if self.out_of_time():
            self._refuse("the time budget is spent")
        left = self.executions_left()
        allowed = count if left is None else min(count, left)
        if allowed <= 0 and count > 0:
            self._refuse("the execution budget is spent")
        return allowed

    def charge_executions(self, count: int) -> None:
        self.spent.executions += count

    def summary(self) -> dict:
        return {"prompt_tokens": self.spent.prompt_tokens, "completion_tokens": self.spent.completion_tokens,
                "tokens": self.spent.tokens, "samples": self.spent.samples, "executions": self.spent.executions,
                "requests": self.spent.requests, "refused": self.spent.refused,
                "dollars": round(self.spent.dollars, 6), "seconds": round(self.elapsed, 3)}
