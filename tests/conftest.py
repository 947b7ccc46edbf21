"""Shared fixtures: the deterministic fakes, paths to the real shared data, temp stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
GRAND_DEBAT = SHARED_DATA / "grand-debat-mel" / "raw" / "commentaires_debats.csv"
DEMO = REPO / "data" / "raw" / "demo_enseignants_ia.csv"


@pytest.fixture
def fake_llm():
    from fakes import FakeLLM

    return FakeLLM()


@pytest.fixture
def fake_embedder():
    from fakes import FakeEmbedder

    return FakeEmbedder()


@pytest.fixture
def small_export(tmp_path: Path) -> Path:
    """A small `;`-separated export with blank answers, an email and a phone number."""
    rows = [
        "id;academie;degre;nom;q",
        "R1;Lyon;2nd degré;Jean Martin;L'IA aide à préparer les cours. Elle fait gagner du temps aux enseignants.",
        "R2;Lyon;1er degré;Paul Durand;Les élèves trichent avec ChatGPT. Il faut interdire son usage en classe.",
        "R3;Lille;2nd degré;Marie Curie;",
        "R4;Lille;2nd degré;Ana Lopez;Il faut former les enseignants avant tout. Sans formation, pas de bon usage.",
        "R5;Créteil;1er degré;Luc Petit;   ",
        "R6;Créteil;2nd degré;Eva Roux;L'IA fait gagner du temps pour préparer les cours. Contactez-moi : eva.roux@ac-creteil.fr",
        "R7;Nantes;2nd degré;Tom Blanc;Les élèves risquent de perdre leur esprit critique. L'IA pense à leur place.",
        "R8;Nantes;1er degré;Zoé Noir;Former les enseignants est indispensable. La formation doit être concrète.",
        "R9;Lyon;2nd degré;Max Vert;La triche avec ChatGPT est massive. Les devoirs maison n'ont plus de sens.",
        "R10;Lyon;2nd degré;Léa Gris;Appelez-moi au 06 12 34 56 78. L'esprit critique des élèves est menacé par l'IA.",
    ]
    path = tmp_path / "export.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    return path
