"""Run settings: built once at the edge (CLI or flow parameters) and passed down."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from synthese.errors import SyntheseError

DEFAULT_DB = Path("data/processed/synthese.duckdb")
DEFAULT_OUT = Path("reports")
LLM_BACKENDS = ("llamacpp", "ollama", "openai", "baseline")


@dataclass(frozen=True)
class Settings:
    export: Path
    questions: tuple[str, ...]
    id_column: str | None = None
    question_texts: tuple[str, ...] = ()  # the questions as asked, aligned with `questions`
    db: Path = DEFAULT_DB
    out: Path = DEFAULT_OUT
    limit: int | None = None
    llm: str = "llamacpp"
    model: str | None = None
    llm_host: str | None = None
    allow_remote_llm: bool = False
    # several model servers of one model (distribute.py); ``llm_host`` alone is one server
    llm_hosts: tuple[str, ...] = ()
    llm_concurrency: int = 1  # batches in flight on each server (mapped extraction)
    batch_size: int = 8  # answers per mapped extraction task
    embedder: str | None = None
    seed: int = 42
    pseudonymise: bool = True
    pseudonymisation_config: Path | None = None
    k_anonymity: int = 10
    min_cluster_size: int | None = None
    themes: int | None = None  # about this many themes (cluster._steer)
    granularity: str = "medium"  # coarse, medium or fine themes
    threads: int | None = field(default=None)
    report_name: str | None = None
    # "citations" (code composes from each theme's title and a respondent's quote, no model
    # call: the default, measured best with the embedded 0.5B, docs/quality.md), "composee"
    # (code composes checked model sentences) or "libre" (strong models write it all)
    synthesis: str = "citations"
    # closed questions named by the user (--closed); others are detected (closed.py)
    closed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "export", Path(self.export))
        object.__setattr__(self, "db", Path(self.db))
        object.__setattr__(self, "out", Path(self.out))
        qs = (self.questions,) if isinstance(self.questions, str) else tuple(self.questions)
        object.__setattr__(self, "questions", qs)
        texts = self.question_texts
        object.__setattr__(self, "question_texts",
                           (texts,) if isinstance(texts, str) else tuple(texts or ()))
        hosts = self.llm_hosts
        object.__setattr__(self, "llm_hosts",
                           (hosts,) if isinstance(hosts, str) else tuple(hosts or ()))
        closed = self.closed
        object.__setattr__(self, "closed", tuple(dict.fromkeys(
            c.strip() for c in ((closed,) if isinstance(closed, str) else closed or ()))))

    def question_text(self, column: str) -> str:
        """The question as asked (for the model and the report); the column name by default."""
        if column in self.questions and self.questions.index(column) < len(self.question_texts):
            return self.question_texts[self.questions.index(column)]
        return column

    def hosts(self) -> tuple[str, ...]:
        """Every model server named: ``llm_hosts``, then ``llm_host``, each once."""
        return tuple(dict.fromkeys(self.llm_hosts + ((self.llm_host,) if self.llm_host else ())))

    def public(self) -> dict:
        """The settings as stored in the runs table and shown in the report."""
        data = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in data.items()}


def threads_default() -> int:
    return max(1, os.cpu_count() or 1)


def check_settings(settings: Settings) -> None:
    """Fail early, in French, on parameters that cannot work."""
    if not settings.export.exists():
        raise SyntheseError(
            f"Fichier introuvable : {settings.export} ; vérifiez le chemin de l'export.")
    if not settings.questions:
        raise SyntheseError("Aucune colonne de question : donnez au moins --question COLONNE.")
    if settings.limit is not None and settings.limit < 1:
        raise SyntheseError(f"--limit doit être un entier positif (reçu : {settings.limit}).")
    if len(settings.question_texts) > len(settings.questions):
        raise SyntheseError("Plus de --question-text que de --question : donnez-en un par colonne.")
    if settings.synthesis not in ("composee", "libre", "citations"):
        raise SyntheseError(f"Mode de synthèse inconnu : {settings.synthesis} "
                            "(composee, citations ou libre).")
    if settings.llm not in LLM_BACKENDS:
        raise SyntheseError(
            f"Moteur de langage inconnu : {settings.llm} ({', '.join(LLM_BACKENDS)}).")
    if len(settings.hosts()) > 1 and settings.llm not in ("ollama", "openai"):
        raise SyntheseError(
            f"Plusieurs --llm-host avec --llm {settings.llm} : seuls les serveurs de modèle "
            "(--llm ollama ou openai) se répartissent entre plusieurs adresses.")
    if settings.themes is not None and settings.themes < 1:
        raise SyntheseError(f"--themes doit être un entier positif (reçu : {settings.themes}).")
    if settings.granularity not in ("coarse", "medium", "fine"):
        raise SyntheseError(f"Granularité inconnue : {settings.granularity} "
                            "(coarse, medium ou fine).")
    if settings.llm_concurrency < 1 or settings.batch_size < 1:
        raise SyntheseError("--llm-concurrency et --batch-size doivent être au moins 1 (reçu : "
                            f"{settings.llm_concurrency} et {settings.batch_size}).")



def check_out(out: Path) -> None:
    """Refuse an ``--out`` where the report cannot be written: a file, or under one."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SyntheseError(
            f"--out {out} est un fichier : indiquez le dossier où écrire le rapport.")
    parent = next((p for p in (out.absolute(), *out.absolute().parents) if p.exists()), Path("/"))
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise SyntheseError(
            f"Dossier du rapport {out} impossible à créer : {parent} n'est pas un dossier "
            "modifiable ; choisissez un autre --out.")


def check_closed(export, settings: Settings) -> None:
    """Each ``--closed`` column must be a column of the export, and not a question or the id."""
    from synthese.ingest import _missing_column_error

    for column in settings.closed:
        if column not in export.frame.columns:
            error = _missing_column_error(column, export.path, list(export.frame.columns))
            raise SyntheseError(f"--closed : {error}")
        if column in settings.questions or column == (settings.id_column or "").strip():
            raise SyntheseError(
                f"--closed : la colonne « {column} » de {export.path} est déjà la question ou "
                "l'identifiant ; une question fermée est une autre colonne.")


def preflight(settings: Settings) -> None:
    """Every check that needs no model run, before anything starts (seconds, nothing written).

    In the order a user fixes them: the parameters, the export (file, columns, ids), the
    language model (the file of an embedded one; the host of a server, refused unless
    loopback or allowed, and reachable), the embedder, the report folder and the database.
    """
    check_settings(settings)
    from synthese.ingest import build_answers, read_export

    export = read_export(settings.export)
    build_answers(export, list(settings.questions), settings.id_column, settings.limit)
    check_closed(export, settings)
    from synthese.llm import probe_llm

    for host in settings.hosts() or (None,):  # every server: refused or unreachable fails here
        probe_llm(settings.llm, settings.model, host=host,
                  allow_remote=settings.allow_remote_llm)
    from synthese.embed import make_embedder

    make_embedder(settings.embedder, lazy=True)
    check_out(settings.out)
    from synthese.storage import check_database

    check_database(settings.db)
