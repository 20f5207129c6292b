"""Candidates grouped by what they do, not by how they are written.

A `Pool` runs each new program once on a fixed input set (the visible inputs, then generated
ones) and keeps one entry per execution fingerprint: a program that behaves like one already
seen only adds a vote to it, and an identical text is not even run again. So the budget is
never spent twice on the same behaviour, and the votes are AlphaCode's cluster sizes.
`clusters` regroups the survivors for selection, ignoring inputs on which most candidates
fail (mutated inputs can leave a function's domain, where correct programs legitimately differ).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bombe.strategies.runtime import ERROR, MISSING, Behaviour, Executor, Inputs


@dataclass
class Entry:
    """One behaviour and the programs that showed it."""

    behaviour: Behaviour
    programs: list[str] = field(default_factory=list)
    votes: int = 0
    origins: list[str] = field(default_factory=list)
    first: int = 0  # the number of the sample that first showed this behaviour (0: the first)

    @property
    def greedy(self) -> bool:
        return "greedy" in self.origins

    @property
    def program(self) -> str:
        """The representative: the greedy program if it behaves so, else the first one sampled.

        Not the shortest: among programs the checks cannot tell apart, the shortest is often the
        one that skips an edge case or takes a slower route (trial division to n, not to its
        square root), and a reply cut off at max_tokens is short too. The greedy program is the
        model's most likely one; any other is a fair draw."""
        if self.greedy:
            return self.programs[self.origins.index("greedy")]
        return self.programs[0]


def preference(entry: Entry) -> tuple:
    """The tie-break between behaviours no check or vote tells apart: greedy's first, then the
    earliest sampled."""
    return (not entry.greedy, entry.first)


@dataclass
class Cluster:
    entries: list[Entry]
    score: float = 0.0

    @property
    def votes(self) -> int:
        return sum(e.votes for e in self.entries)

    @property
    def behaviour(self) -> Behaviour:
        return self.entries[0].behaviour

    @property
    def greedy(self) -> bool:
        return any(e.greedy for e in self.entries)

    @property
    def first(self) -> int:
        return min(e.first for e in self.entries)

    @property
    def program(self) -> str:
        best = min(self.entries, key=lambda e: (not e.greedy, -e.votes, e.first))
        return best.program


class Pool:
    def __init__(self, executor: Executor, inputs: Sequence[Inputs] = ()):
        self.executor = executor
        self.inputs = list(inputs)
        self.entries: dict[tuple, Entry] = {}
        self._by_text: dict[str, tuple] = {}
        self.samples = 0
        self.executed = 0

    async def add(self, programs: Sequence[str], origin: str = "") -> list[Entry]:
        """Add programs; return the entries of behaviours not seen before, in order. Programs the
        execution budget cannot run are dropped (BudgetExceeded when none could run)."""
        new: list[Entry] = []
        to_run: list[str] = []
        index: dict[str, int] = {}  # each program's sample number, the first time it is in the batch
        for program in programs:
            index.setdefault(program, self.samples)
            self.samples += 1
            if program in self._by_text:
                self.entries[self._by_text[program]].votes += 1
            else:
                to_run.append(program)  # a twin in the same batch counts as a vote below
        unique = list(dict.fromkeys(to_run))
        behaviours = await self.executor.run(unique, self.inputs) if unique else []
        self.executed += len(behaviours)
        for program, behaviour in zip(unique, behaviours):
            key = behaviour.fingerprint
            entry = self.entries.get(key)
            if entry is None:
                entry = self.entries[key] = Entry(behaviour, first=index[program])
                new.append(entry)
            entry.programs.append(program)
            entry.origins.append(origin)
            entry.votes += to_run.count(program)
            self._by_text[program] = key
        return new

    def entry_of(self, program: str) -> Entry | None:
        key = self._by_text.get(program)
        return None if key is None else self.entries[key]

    def best_visible(self) -> int:
        return max((e.behaviour.visible_passed for e in self.entries.values() if e.behaviour.loaded), default=0)

    def survivors(self) -> list[Entry]:
        """Entries that pass every visible check; else those passing the most of them (loaded ones)."""
        loaded = [e for e in self.entries.values() if e.behaviour.loaded]
        if not loaded:
            return []
        best = max(e.behaviour.visible_passed for e in loaded)
        return [e for e in loaded if e.behaviour.visible_passed == best]


def informative_inputs(entries: Sequence[Entry], visible: int) -> list[int]:
    """Indices of generated inputs on which at least half the votes returned a value."""
    if not entries:
        return []
    width = len(entries[0].behaviour.outputs)
    total = sum(e.votes for e in entries) or 1
    keep = []
    for i in range(visible, width):
        ok = sum(e.votes for e in entries if e.behaviour.outputs[i] not in (ERROR, MISSING))
        if ok * 2 >= total:
            keep.append(i)
    return keep


def clusters(entries: Sequence[Entry], visible: int) -> list[Cluster]:
    """Entries grouped by identical outputs on the informative generated inputs, largest first
    (ties: more inputs answered, then the cluster greedy's program is in, then the earliest sampled)."""
    keep = informative_inputs(entries, visible)
    groups: dict[tuple, list[Entry]] = {}
    for entry in entries:
        outputs = entry.behaviour.outputs
        key = tuple(ERROR if outputs[i] == MISSING else outputs[i] for i in keep)
        groups.setdefault(key, []).append(entry)
    found = [Cluster(members, float(sum(e.votes for e in members))) for members in groups.values()]
    return rank(found)


def rank(found: list[Cluster]) -> list[Cluster]:
    return sorted(found, key=lambda c: (-c.score, -c.behaviour.ok_fraction, not c.greedy, c.first))


def select(pool: Pool, k: int = 1) -> list[str]:
    """AlphaCode's selection: survivors of the visible checks, clustered by behaviour, one
    program from each of the k largest clusters."""
    visible = len(pool.executor.task.calls)
    return [c.program for c in clusters(pool.survivors(), visible)[:k]]
