"""Every bad export the tests know, once: test_ingest checks the message of each when read,
test_cli checks that ``synthese run`` on each prints that one line, exits with 2 and leaves
the database as it was (and benchmarks/bad_input.py times each as a real process)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl


@dataclass(frozen=True)
class BadExport:
    id: str
    file: str  # the export's name
    content: bytes | Callable[[Path], None] | None  # None: the file does not exist
    message: str  # the start of the French line; {path} is the export's path
    question: str = "avis"
    id_column: str | None = None

    def write(self, folder: Path) -> Path:
        path = folder / self.file
        if callable(self.content):
            self.content(path)
        elif self.content is not None:
            path.write_bytes(self.content)
        return path

    def expected(self, path: Path) -> str:
        return self.message.format(path=path)


def _xlsx_header_only(path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["id", "avis"])
    book.save(path)


_EMPTY = "Fichier vide : {path} ne contient aucune réponse."

BAD_EXPORTS: list[BadExport] = [
    BadExport("missing-file", "absent.csv", None,
              "Fichier introuvable : {path} ; vérifiez le chemin de l'export."),
    BadExport("unknown-format", "export.json", b"{}", "Format non pris en charge : {path} ;"),
    BadExport("empty-csv", "x.csv", b"", _EMPTY),
    BadExport("empty-xlsx", "x.xlsx", b"", _EMPTY),
    BadExport("bom-only", "x.csv", b"\xef\xbb\xbf", _EMPTY),
    BadExport("header-only", "x.csv", b"id;avis\n", _EMPTY),
    BadExport("header-and-blank-rows", "x.csv", b"id;avis\r\n\r\n;\r\n", _EMPTY),
    BadExport("xlsx-header-only", "vide.xlsx", _xlsx_header_only, _EMPTY),
    BadExport("corrupt-xlsx", "faux.xlsx", b"id;avis\n1;a\n",
              "Lecture impossible de {path} comme classeur XLSX"),
    # 0x81 is one of the five bytes Windows-1252 leaves undefined.
    BadExport("undecodable-byte", "export.csv",
              "id;avis\n1;déjà\n".encode("cp1252") + b"2;mal\x81form\xe9\n",
              "Octet 0x81 illisible dans {path} (ligne 3"),
    BadExport("nul-byte", "export.csv", b"id;avis\n1;a\x00b\n",
              "Octet nul dans {path} (ligne 2, octet 11)"),
    BadExport("utf16", "export.txt", "id\tavis\n1\tbien\n".encode("utf-16"),
              "{path} est encodé en UTF-16"),
    BadExport("utf16-no-bom", "export.csv", "id;avis\n1;très bien\n".encode("utf-16-le"),
              "{path} est encodé en UTF-16"),
    BadExport("too-many-fields", "export.csv", b'id;avis\n1;"a\nb"\n2;trop;de;champs\n',
              "Ligne 3 de {path} : 4 champs au lieu de 2 (séparateur « ; »)"),
    BadExport("unclosed-quote", "export.csv", b'id;avis\n1;a\n2;"jamais ferm\xc3\xa9\n3;c\n',
              "Guillemet jamais refermé dans {path} à partir de la ligne 3"),
    BadExport("missing-question", "export.csv", b"id;body\n1;a\n",
              "Colonne « q1 » absente de {path}. Colonnes disponibles : id, body", question="q1"),
    BadExport("question-close-name", "export.csv", b"id;body\n1;a\n",
              "Colonne « Body » absente de {path} (vouliez-vous dire « body » ?)",
              question="Body"),
    BadExport("missing-id-column", "export.csv", b"id;body\n1;a\n",
              "Colonne « numero » absente de {path}", question="body", id_column="numero"),
    BadExport("duplicate-ids", "export.csv", b"id;body\n7;a\n8;b\n 7 ;c\n",
              "Identifiant « 7 » en double dans la colonne « id » de {path} (lignes 2 et 4)",
              question="body", id_column="id"),
    BadExport("blank-id", "export.csv", b"id;body\n7;a\n  ;b\n",
              "Identifiant vide ligne 3 de {path}", question="body", id_column="id"),
    BadExport("id-is-the-question", "export.csv", b"id;body\n7;a\n",
              "La colonne « id » de {path} ne peut pas être à la fois l'identifiant et une "
              "question", question="id", id_column="id"),
]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Options of ``synthese run`` refused before anything starts: (id, options, start of the line).
BAD_OPTIONS: list[tuple[str, list[str], str]] = [
    ("remote-model-host", ["--llm", "ollama", "--llm-host", "http://10.1.2.3:11434"],
     "Serveur de modèle http://10.1.2.3:11434 refusé"),
    ("remote-model-host-by-name", ["--llm", "ollama", "--llm-host", "ollama.example.org"],
     "Serveur de modèle http://ollama.example.org:11434 refusé"),
    ("model-server-down", ["--llm", "ollama", "--llm-host", f"127.0.0.1:{_closed_port()}"],
     "Serveur Ollama injoignable sur http://127.0.0.1:"),
    ("unknown-backend", ["--llm", "gpt"], "Moteur de langage inconnu : gpt"),
    ("unknown-model", ["--model", "mistral-7b"], "Modèle inconnu « mistral-7b »"),
    ("missing-model-file", ["--model", "/nulle/part/m.gguf"],
     "Fichier modèle introuvable : /nulle/part/m.gguf"),
    ("unknown-embedder", ["--embedder", "pas-un-modele"],
     "Modèle d'embeddings « pas-un-modele » introuvable hors ligne"),
    ("zero-limit", ["--limit", "0"], "--limit doit être un entier positif (reçu : 0)"),
    ("too-many-question-texts", ["--question-text", "A ?", "--question-text", "B ?"],
     "Plus de --question-text que de --question"),
    ("unknown-synthesis-mode", ["--synthese", "poeme"], "Mode de synthèse inconnu : poeme"),
    ("missing-closed-column", ["--closed", "niveau"], "--closed : Colonne « niveau » absente de"),
]
