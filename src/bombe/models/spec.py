"""The one `--model` syntax: which model, and where it runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SPEC_HELP = ("openai:MODEL@URL (any OpenAI-compatible server; URL defaults to $OPENAI_BASE_URL or OpenAI), "
             "gguf:PATH (a GGUF file, in-process through llama-cpp-python), "
             "local:NAME (a named model bombe fetches and checks: smollm2-135m, qwen2.5-coder-0.5b)")


class ModelSpecError(ValueError):
    """A --model value that does not name a model."""


@dataclass(frozen=True)
class ModelSpec:
    kind: Literal["openai", "gguf", "local"]
    name: str  # the model name sent to the server, the GGUF path, or the local model's name
    base_url: str | None = None

    @property
    def identity(self) -> str:
        """What the completion cache keys on: the same text means the same model."""
        if self.kind == "openai":
            return f"openai:{self.name}@{self.base_url or ''}"
        return f"{self.kind}:{self.name}"

    def __str__(self) -> str:
        return self.identity


def parse_model_spec(text: str) -> ModelSpec:
    kind, sep, rest = text.partition(":")
    if not sep or not rest:
        raise ModelSpecError(f"--model {text!r}: expected one of {SPEC_HELP}")
    if kind == "openai":
        name, at, url = rest.partition("@")
        if not name or (at and not url.startswith(("http://", "https://"))):
            raise ModelSpecError(f"--model {text!r}: expected openai:MODEL or openai:MODEL@http://host:port/v1")
        return ModelSpec("openai", name, url.rstrip("/") if at else None)
    if kind == "gguf":
        path = Path(rest).expanduser()
        if not path.is_file():
            raise ModelSpecError(f"--model {text!r}: no such file {path}")
        return ModelSpec("gguf", str(path.resolve()))
    if kind == "local":
        from bombe.models.local import LOCAL_MODELS

        if rest not in LOCAL_MODELS:
            raise ModelSpecError(f"--model {text!r}: unknown local model; known: {', '.join(sorted(LOCAL_MODELS))}")
        return ModelSpec("local", rest)
    raise ModelSpecError(f"--model {text!r}: unknown kind {kind!r}; expected one of {SPEC_HELP}")
