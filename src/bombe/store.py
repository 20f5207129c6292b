"""The store: one SQLite file (WAL) with runs, their tasks, samples and outcomes.

Every outcome is committed the moment it is known, so a killed run loses nothing, and a
rerun under the same name judges only what is missing. Writes come from one thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from bombe import __version__
from bombe.task import Result, Sample, Task

DEFAULT_PATH = Path("bombe.db")
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    finished TEXT,
    command TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    data_hash TEXT NOT NULL,
    samples_hash TEXT NOT NULL,
    settings TEXT NOT NULL,
    bombe_version TEXT NOT NULL,
    python_version TEXT NOT NULL,
    machine TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    task_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (run_id, task_id)
);
CREATE TABLE IF NOT EXISTS samples (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    position INTEGER NOT NULL,
    task_id TEXT NOT NULL,
    sample_index INTEGER NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE TABLE IF NOT EXISTS outcomes (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    position INTEGER NOT NULL,
    task_id TEXT NOT NULL,
    sample_index INTEGER NOT NULL,
    status TEXT NOT NULL,
    passed INTEGER NOT NULL,
    checks_run INTEGER NOT NULL,
    checks_passed INTEGER NOT NULL,
    error TEXT,
    wall_ms REAL NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
-- Every completion a model gave, keyed by model, parameters, prompt and sample index: a rerun,
-- a resumed run or another run asking the same thing reads it here instead of asking again.
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    finish_reason TEXT,
    created TEXT NOT NULL
);
-- What each run spent: one row per sample a model produced for it, fresh or from the cache.
CREATE TABLE IF NOT EXISTS ledger (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    position INTEGER NOT NULL,
    task_id TEXT NOT NULL,
    model TEXT NOT NULL,
    cached INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    cost REAL,
    created TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
-- What the synthesizer said of each task of a `bombe synth` run (status, time, hidden examples),
-- which its outcome cannot say: the outcome judges the program found on every example.
CREATE TABLE IF NOT EXISTS syntheses (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    position INTEGER NOT NULL,
    task_id TEXT NOT NULL,
    status TEXT NOT NULL,
    seconds REAL NOT NULL,
    hidden_passed INTEGER,
    body TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
"""


class StoreError(Exception):
    """The store file is unusable or a run request conflicts with what it holds."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def content_hash(texts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _tasks_hash(tasks: list[Task]) -> str:
    return content_hash(t.model_dump_json() for t in tasks)


def machine_description() -> str:
    return f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus {platform.platform()}"


class Run:
    """A run in the store: its id, name and recorded settings."""

    def __init__(self, store: Store, row: sqlite3.Row):
        self.store = store
        self.id: int = row["id"]
        self.name: str = row["name"]
        self.row = row

    @property
    def settings(self) -> dict:
        return json.loads(self.row["settings"])


class Store:
    def __init__(self, path: str | Path = DEFAULT_PATH):
        self.path = Path(path)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # with WAL: a crash of bombe loses nothing
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path}: made by a newer bombe (schema {version}); upgrade bombe")
            self.db.executescript(_SCHEMA)
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable bombe store ({exc})") from None

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # runs -----------------------------------------------------------------------------

    def find_run(self, name: str) -> Run | None:
        row = self.db.execute("SELECT * FROM runs WHERE name = ?", (name,)).fetchone()
        return Run(self, row) if row else None

    def get_run(self, name: str) -> Run:
        run = self.find_run(name)
        if run is None:
            known = ", ".join(r["name"] for r in self.list_runs()[-5:]) or "none yet"
            raise StoreError(f"{self.path}: no run named {name!r} (latest: {known})")
        return run

    def list_runs(self) -> list[sqlite3.Row]:
        return self.db.execute(
            """SELECT runs.*, COUNT(outcomes.position) AS judged, COALESCE(SUM(outcomes.passed), 0) AS passed,
                      (SELECT COUNT(*) FROM samples WHERE samples.run_id = runs.id) AS total
               FROM runs LEFT JOIN outcomes ON outcomes.run_id = runs.id
               GROUP BY runs.id ORDER BY runs.id"""
        ).fetchall()

    def _existing_run(self, name: str, tasks: list[Task], inputs_hash: str, what: str) -> Run | None:
        """The run of this name, if any, after checking it was made from the same tasks and inputs."""
        existing = self.find_run(name)
        if existing is not None and (existing.row["samples_hash"] != inputs_hash
                                     or existing.row["data_hash"] != _tasks_hash(tasks)):
            raise StoreError(f"run {name!r} in {self.path} was made with other tasks or {what}; "
                             f"resume it with the same ones, or choose another --run name")
        return existing

    def _insert_run(self, name: str, command: str, benchmark: str, tasks: list[Task], inputs_hash: str,
                    settings: dict) -> int:
        cursor = self.db.execute(
            """INSERT INTO runs (name, created, command, benchmark, data_hash, samples_hash, settings,
                                 bombe_version, python_version, machine)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (name, _now(), command, benchmark, _tasks_hash(tasks), inputs_hash, json.dumps(settings, sort_keys=True),
             __version__, sys.version.split()[0], machine_description()),
        )
        run_id = cursor.lastrowid
        self.db.executemany(
            "INSERT INTO tasks (run_id, task_id, position, body) VALUES (?, ?, ?, ?)",
            [(run_id, t.task_id, i, t.model_dump_json()) for i, t in enumerate(tasks)],
        )
        return run_id

    def open_run(
        self, name: str, command: str, benchmark: str, tasks: list[Task], samples: list[Sample],
        programs: list[str], settings: dict,
    ) -> tuple[Run, dict[int, Result]]:
        """Create the run, or resume it: return it with the results it already holds."""
        samples_hash = content_hash(f"{s.task_id}\0{code}" for s, code in zip(samples, programs))
        existing = self._existing_run(name, tasks, samples_hash, "samples")
        if existing is not None:
            return existing, self.results(existing)
        with self._transaction():
            run_id = self._insert_run(name, command, benchmark, tasks, samples_hash, settings)
            per_task: dict[str, int] = {}
            rows = []
            for position, (sample, code) in enumerate(zip(samples, programs)):
                index = per_task.get(sample.task_id, 0)
                per_task[sample.task_id] = index + 1
                rows.append((run_id, position, sample.task_id, index, code))
            self.db.executemany(
                "INSERT INTO samples (run_id, position, task_id, sample_index, code) VALUES (?, ?, ?, ?, ?)", rows)
        return self.get_run(name), {}

    def open_generation_run(
        self, name: str, command: str, benchmark: str, tasks: list[Task], settings: dict,
    ) -> tuple[Run, dict[int, Result], dict[int, str]]:
        """A run whose samples are made as it goes (by a model or a synthesizer): create it, or
        resume it with the results and the sample programs it already holds. `settings` must
        say everything that decides the samples (model, parameters, prompts): resuming with
        other settings is refused."""
        settings_hash = content_hash([json.dumps(settings, sort_keys=True)])
        existing = self._existing_run(name, tasks, settings_hash, "settings")
        if existing is not None:
            return existing, self.results(existing), self.sample_programs(existing)
        with self._transaction():
            self._insert_run(name, command, benchmark, tasks, settings_hash, settings)
        return self.get_run(name), {}, {}

    def add_sample(self, run: Run, position: int, task_id: str, sample_index: int, code: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO samples (run_id, position, task_id, sample_index, code) VALUES (?, ?, ?, ?, ?)",
            (run.id, position, task_id, sample_index, code))

    def sample_programs(self, run: Run) -> dict[int, str]:
        rows = self.db.execute("SELECT position, code FROM samples WHERE run_id = ?", (run.id,))
        return {row["position"]: row["code"] for row in rows}

    def record_synthesis(self, run: Run, position: int, record: dict) -> None:
        """Commit what synthesis said of one task (a JSON object with task_id, status, seconds,
        hidden_passed); a task recorded here is done when the run resumes."""
        hidden = record.get("hidden_passed")
        self.db.execute(
            """INSERT OR REPLACE INTO syntheses (run_id, position, task_id, status, seconds, hidden_passed, body,
                                                 created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (run.id, position, record["task_id"], record["status"], record["seconds"],
             None if hidden is None else int(hidden), json.dumps(record, sort_keys=True), _now()))

    def syntheses(self, run: Run) -> dict[int, dict]:
        rows = self.db.execute("SELECT position, body FROM syntheses WHERE run_id = ? ORDER BY position", (run.id,))
        return {row["position"]: json.loads(row["body"]) for row in rows}

    def record(self, run: Run, position: int, result: Result) -> None:
        """Commit one outcome now; judging the same sample again replaces, never duplicates."""
        self.db.execute(
            """INSERT OR REPLACE INTO outcomes (run_id, position, task_id, sample_index, status, passed, checks_run,
                                                checks_passed, error, wall_ms, created)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (run.id, position, result.task_id, result.sample_index, result.status, int(result.passed),
             result.checks_run, result.checks_passed, result.error, result.wall_ms, _now()),
        )

    def finish(self, run: Run) -> None:
        self.db.execute("UPDATE runs SET finished = ? WHERE id = ?", (_now(), run.id))

    def results(self, run: Run) -> dict[int, Result]:
        rows = self.db.execute("SELECT * FROM outcomes WHERE run_id = ? ORDER BY position", (run.id,))
        return {
            row["position"]: Result(
                task_id=row["task_id"], sample_index=row["sample_index"], status=row["status"],
                passed=bool(row["passed"]), checks_run=row["checks_run"], checks_passed=row["checks_passed"],
                error=row["error"], wall_ms=row["wall_ms"],
            )
            for row in rows
        }

    def sample_count(self, run: Run) -> int:
        return self.db.execute("SELECT COUNT(*) FROM samples WHERE run_id = ?", (run.id,)).fetchone()[0]
