"""Canonical JSON and content hashes: the keys of every table.

Every stored row is keyed by a hash of what produced it, so that re-importing the same
export, or re-running a stage with the same model, prompt and parameters, writes nothing
new, and a changed input gives a new key instead of overwriting an old row.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def to_json(value: Any) -> str:
    """JSON as stored in the JSON columns: readable (keys in their order, accents kept)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def content_hash(*parts: Any, length: int = 20) -> str:
    """Hex SHA-256 of the canonical JSON of ``parts``, cut to ``length`` characters.

    20 hex characters (80 bits) keep keys readable in SQL while making a collision
    vanishingly unlikely at the scale of a consultation (millions of rows).
    """
    digest = hashlib.sha256(canonical_json(list(parts)).encode("utf-8")).hexdigest()
    return digest[:length]


def file_sha256(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Full hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            h.update(chunk)
    return h.hexdigest()
