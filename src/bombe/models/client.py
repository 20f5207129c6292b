"""Model clients: any OpenAI-compatible server over HTTP, or a GGUF file in this process.

Both answer the same question: given a prompt, parameters and how many samples, return the
completions with their token counts and latency. Caching and the ledger sit above them.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bombe.models.prompts import COMPLETION_STOP, Prompt
from bombe.models.spec import ModelSpec


class ModelError(Exception):
    """The model cannot answer: server down, unknown model, bad request. One line for the user."""


@dataclass(frozen=True)
class GenerationParams:
    temperature: float = 0.0
    max_tokens: int = 512
    top_p: float = 1.0
    seed: int = 0

    def as_key(self) -> dict:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "top_p": self.top_p,
                "seed": self.seed}


@dataclass
class Reply:
    """One request's answer: its texts (one per sample) and what it cost."""

    texts: list[str]
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    finish_reasons: list[str] = field(default_factory=list)


class Model(Protocol):
    spec: ModelSpec
    concurrency: int

    async def check(self) -> None: ...

    async def generate(self, prompt: Prompt, params: GenerationParams, n: int, seed: int) -> Reply: ...

    async def close(self) -> None: ...


def _stop_for(prompt: Prompt) -> list[str] | None:
    return COMPLETION_STOP if prompt.mode == "completion" else None


class OpenAIModel:
    """An OpenAI-compatible server (vLLM, SGLang, llama.cpp, Ollama, hosted APIs) via the `openai` client.

    The client retries 429, 5xx and connection errors with exponential backoff; what still
    fails becomes one ModelError line. `n` samples go in one request when the server honours
    `n`; servers that return fewer choices get the rest asked for one by one, with their own seeds.
    """

    def __init__(self, spec: ModelSpec, concurrency: int = 4, timeout: float = 600.0, max_retries: int = 4,
                 api_key: str | None = None):
        import openai

        self.spec = spec
        self.concurrency = concurrency
        self.base_url = spec.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.client = openai.AsyncOpenAI(
            base_url=self.base_url, api_key=api_key or os.environ.get("OPENAI_API_KEY") or "not-needed",
            timeout=timeout, max_retries=max_retries)
        self.honours_n: bool | None = None

    def _translate(self, exc: Exception) -> ModelError:
        import openai

        where = f"model server {self.base_url}"
        if isinstance(exc, openai.APITimeoutError):
            return ModelError(f"{where} did not answer in time")
        if isinstance(exc, openai.APIConnectionError):
            return ModelError(f"{where} is not reachable ({exc.__cause__ or exc})")
        if isinstance(exc, openai.NotFoundError):
            return ModelError(f"{where} does not know the model {self.spec.name!r} (404)")
        if isinstance(exc, openai.AuthenticationError):
            return ModelError(f"{where} refused the API key (set OPENAI_API_KEY)")
        if isinstance(exc, openai.APIStatusError):
            return ModelError(f"{where} answered {exc.status_code}: {str(exc.message)[:200]}")
        return ModelError(f"{where}: {type(exc).__name__}: {exc}")

    async def check(self) -> None:
        """Fail early, in one line, when the server is down or does not serve this model."""
        import openai

        try:
            listed = [m.id async for m in self.client.models.list()]
        except openai.NotFoundError:
            return  # some servers have no model listing; the first request will tell
        except openai.OpenAIError as exc:
            raise self._translate(exc) from None
        if listed and self.spec.name not in listed:
            raise ModelError(f"model server {self.base_url} does not serve {self.spec.name!r}; "
                             f"it serves: {', '.join(listed[:10])}")

    async def _request(self, prompt: Prompt, params: GenerationParams, n: int, seed: int) -> Reply:
        import openai

        started = time.perf_counter()
        common = dict(model=self.spec.name, temperature=params.temperature, max_tokens=params.max_tokens,
                      top_p=params.top_p, n=n, seed=seed)
        try:
            if prompt.mode == "chat":
                response = await self.client.chat.completions.create(messages=prompt.openai_messages(), **common)
                texts = [choice.message.content or "" for choice in response.choices]
            else:
                response = await self.client.completions.create(prompt=prompt.text, stop=_stop_for(prompt),
                                                                **common)
                texts = [choice.text for choice in response.choices]
        except openai.OpenAIError as exc:
            raise self._translate(exc) from None
        usage = response.usage
        return Reply(texts, usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0,
                     (time.perf_counter() - started) * 1000,
                     [str(choice.finish_reason) for choice in response.choices])

    async def generate(self, prompt: Prompt, params: GenerationParams, n: int, seed: int) -> Reply:
        if n > 1 and self.honours_n is False:
            return await self._one_by_one(prompt, params, n, seed)
        reply = await self._request(prompt, params, n, seed)
        if n > 1:
            self.honours_n = len(reply.texts) >= n
            if not self.honours_n:
                rest = await self._one_by_one(prompt, params, n - len(reply.texts), seed + len(reply.texts))
                reply = _merge([reply, rest])
        return reply

    async def _one_by_one(self, prompt: Prompt, params: GenerationParams, n: int, seed: int) -> Reply:
        return _merge([await self._request(prompt, params, 1, seed + i) for i in range(n)])

    async def close(self) -> None:
        await self.client.close()


def _merge(replies: list[Reply]) -> Reply:
    return Reply([t for r in replies for t in r.texts], sum(r.prompt_tokens for r in replies),
                 sum(r.completion_tokens for r in replies), sum(r.latency_ms for r in replies),
                 [f for r in replies for f in r.finish_reasons])


class LlamaCppModel:
    """A GGUF file run in this process by llama-cpp-python. One request at a time (the model
    is not thread-safe); it runs in a worker thread so judging goes on meanwhile."""

    concurrency = 1

    def __init__(self, spec: ModelSpec, path: Path, n_ctx: int = 4096, threads: int | None = None):
        self.spec = spec
        self.path = path
        self.n_ctx = n_ctx
        self.threads = threads or os.cpu_count() or 1
        self._llama = None
        self._lock = threading.Lock()

    def _load(self):
        if self._llama is None:
            try:
                import llama_cpp
            except ImportError:
                raise ModelError("gguf and local models need llama-cpp-python: pip install 'bombe[local]'") from None
            try:
                self._llama = llama_cpp.Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.threads,
                                              verbose=False)
            except (ValueError, RuntimeError) as exc:
                raise ModelError(f"{self.path}: llama.cpp could not load it ({exc})") from None
        return self._llama

    async def check(self) -> None:
        await asyncio.to_thread(self._load)

    def _generate_sync(self, prompt: Prompt, params: GenerationParams, n: int, seed: int) -> Reply:
        with self._lock:
            llama = self._load()
            replies = []
            for i in range(n):
                started = time.perf_counter()
                common = dict(temperature=params.temperature, max_tokens=params.max_tokens, top_p=params.top_p,
                              seed=seed + i)
                if prompt.mode == "chat":
                    out = llama.create_chat_completion(messages=prompt.openai_messages(), **common)
                    text = out["choices"][0]["message"]["content"] or ""
                else:
                    out = llama.create_completion(prompt=prompt.text, stop=_stop_for(prompt), **common)
                    text = out["choices"][0]["text"]
                usage = out.get("usage") or {}
                replies.append(Reply([text], usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0),
                                     (time.perf_counter() - started) * 1000,
                                     [str(out["choices"][0].get("finish_reason"))]))
            return _merge(replies)

    async def generate(self, prompt: Prompt, params: GenerationParams, n: int, seed: int) -> Reply:
        return await asyncio.to_thread(self._generate_sync, prompt, params, n, seed)

    async def close(self) -> None:
        if self._llama is not None:
            self._llama.close()
            self._llama = None


def open_model(spec: ModelSpec, concurrency: int = 4, timeout: float = 600.0, max_retries: int = 4,
               n_ctx: int = 4096) -> Model:
    """The client for a --model spec; local models are fetched and checked first."""
    if spec.kind == "openai":
        return OpenAIModel(spec, concurrency=concurrency, timeout=timeout, max_retries=max_retries)
    if spec.kind == "gguf":
        return LlamaCppModel(spec, Path(spec.name), n_ctx=n_ctx)
    from bombe.models.local import ModelFetchError, local_model_path

    try:
        path = local_model_path(spec.name)
    except ModelFetchError as exc:
        raise ModelError(str(exc)) from None
    return LlamaCppModel(spec, path, n_ctx=n_ctx)


def default_mode(spec: ModelSpec) -> str:
    """Instruct models (all named local ones) get chat prompts; so do servers, which apply the template."""
    if spec.kind == "local":
        from bombe.models.local import LOCAL_MODELS

        return "chat" if LOCAL_MODELS[spec.name].chat else "completion"
    return "chat"
