"""The inbox flow: synthesise every new export dropped in ``data/raw/inbox/``.

Each scan lists the exports (.csv, .xlsx, .ods) in the folder and runs the ``synthese``
flow as a subflow on each file it has not seen, with the inbox's own parameters (question,
id column, model...). A file is known by the SHA-256 of its bytes, recorded in
``core.inbox_files`` of the consultation's database: renaming a file does not make it new,
and a corrected file (other bytes) is new. Since every stage reuses what the database
already holds, a new export that repeats the previous rows plus new ones only costs model
calls for the new answers.

Failures, so that a bad file is not retried forever:
- ``rejected``: the run failed with a user-facing error (unknown column, unreadable file...).
  The same bytes would fail the same way, so the file is never retried automatically; drop
  a corrected file (new bytes) or run the inbox once with ``retry_failed=true``.
- ``failed``: the model call failed (server down, timeout) or the run crashed: tried again
  at the next scans, at most ``max_attempts`` times in all, then ``rejected``.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.states import Completed, Failed, State

from flows.consultation import consultation
from synthese.config import DEFAULT_DB, DEFAULT_OUT
from synthese.errors import SyntheseError
from synthese.keys import file_sha256
from synthese.llm import LLMError
from synthese.storage import Store

INBOX_DIR = Path("data/raw/inbox")
EXPORT_SUFFIXES = (".csv", ".xlsx", ".ods")


def find_exports(folder: Path, min_age_seconds: float = 0.0, now: float | None = None) -> list[Path]:
    """The exports in ``folder``, oldest first.

    Hidden files, office lock files (``~$x.xlsx``, ``.~lock.x#``) and files modified less
    than ``min_age_seconds`` ago (probably still being copied) are left for a later scan.
    """
    if not folder.is_dir():
        raise SyntheseError(
            f"Dossier de dépôt introuvable : {folder} ; créez-le ou corrigez le paramètre inbox_dir."
        )
    now = time.time() if now is None else now
    found = [
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES
        and not p.name.startswith((".", "~"))
        and now - p.stat().st_mtime >= min_age_seconds
    ]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def known_files(db: str | Path) -> dict[str, dict[str, Any]]:
    """The latest inbox record of each file of a database, by file SHA-256."""
    with Store(db) as store:
        return store.inbox_files()


def record_file(db: str | Path, row: dict[str, Any]) -> None:
    """Append one attempt at a file (the latest attempt is the file's record)."""
    with Store(db) as store:
        store.record_inbox_file(row)


def should_process(record: dict[str, Any] | None, max_attempts: int, retry_failed: bool) -> bool:
    """Whether a file with this inbox record is run now."""
    if record is None:
        return True
    if record["status"] == "completed":
        return False
    if retry_failed:
        return True
    return record["status"] == "failed" and (record["attempts"] or 0) < max_attempts


def failure_status(error: BaseException | None, attempts: int, max_attempts: int) -> str:
    """``rejected`` for a user-facing error or once attempts are spent, else ``failed``."""
    if isinstance(error, SyntheseError) and not isinstance(error, LLMError):
        return "rejected"
    return "rejected" if attempts >= max_attempts else "failed"


def _subflow_error(state: State) -> BaseException | None:
    """The exception a failed subflow raised (kept in memory by Prefect), if any."""
    error = state.result(raise_on_failure=False)
    return error if isinstance(error, BaseException) else None


@flow(name="synthese-inbox", log_prints=False)
def inbox(
    question: list[str],
    inbox_dir: str = str(INBOX_DIR),
    id_column: str | None = None,
    question_text: list[str] | None = None,
    db: str = str(DEFAULT_DB),
    out: str = str(DEFAULT_OUT),
    llm: Literal["llamacpp", "ollama"] = "llamacpp",
    model: str | None = None,
    llm_host: str | None = None,
    allow_remote_llm: bool = False,
    embedder: str | None = None,
    seed: int = 42,
    pseudonymise: bool = True,
    k_anonymity: int = 10,
    min_age_seconds: int = 30,
    max_attempts: int = 3,
    retry_failed: bool = False,
) -> State:
    """Synthesise each new export dropped in the inbox folder, once per file content.

    Args:
        question: Colonnes des questions libres, communes à tous les exports déposés.
        inbox_dir: Dossier de dépôt des exports (.csv, .xlsx, .ods), relatif au projet.
        id_column: Colonne identifiant le répondant (facultative).
        question_text: Libellé de chaque question, dans l'ordre des colonnes (facultatif).
        db: Base DuckDB de la consultation.
        out: Dossier des rapports HTML.
        llm: Moteur de langage : llamacpp (embarqué) ou ollama.
        model: Modèle (nom ou fichier .gguf ; nom Ollama).
        llm_host: Adresse du serveur Ollama.
        allow_remote_llm: Autoriser un serveur de modèle hors de cette machine.
        embedder: Modèle de vectorisation.
        seed: Graine aléatoire.
        pseudonymise: Pseudonymiser avant tout modèle.
        k_anonymity: Taille minimale des groupes affichés.
        min_age_seconds: Ignorer jusqu'au passage suivant un fichier modifié depuis moins de
            ce nombre de secondes (copie en cours).
        max_attempts: Nombre d'essais d'un fichier dont le traitement a échoué faute de modèle.
        retry_failed: Réessayer aussi les fichiers rejetés ou en échec.
    """
    logger = get_run_logger()
    try:
        exports = find_exports(Path(inbox_dir), min_age_seconds)
        known = known_files(db)
    except SyntheseError as exc:
        logger.error("Erreur : %s", exc)
        return Failed(message=str(exc))
    done, problems, skipped = [], [], 0
    for path in exports:
        sha = file_sha256(path)
        record = known.get(sha)
        if not should_process(record, max_attempts, retry_failed):
            skipped += 1
            continue
        attempts = (record["attempts"] or 0) + 1 if record else 1
        logger.info(f"Dépôt : traitement de {path.name} (essai {attempts}).")
        state = consultation(
            export=str(path), question=list(question), id_column=id_column,
            question_text=list(question_text) if question_text else None, db=db, out=out,
            llm=llm, model=model, llm_host=llm_host, allow_remote_llm=allow_remote_llm,
            embedder=embedder, seed=seed, pseudonymise=pseudonymise, k_anonymity=k_anonymity,
            progress=False, return_state=True,
        )
        row = _file_record(path, sha, record, attempts, max_attempts, state)
        if row["status"] == "completed":
            done.append(path.name)
            logger.info(f"Dépôt : {path.name} traité, rapport {state.result()['report']}.")
        else:
            problems.append(f"{path.name} ({row['status']}) : {row['reason']}")
            logger.error(f"Dépôt : {path.name} en échec ({row['status']}) : {row['reason']}")
        record_file(db, row)
    message = (f"Dépôt {inbox_dir} : {len(exports)} exports, {len(done)} traités, "
               f"{skipped} déjà vus, {len(problems)} en échec.")
    logger.info(message)
    summary = {"processed": done, "problems": problems, "skipped": skipped}
    if problems:
        return Failed(message=message + " " + " ; ".join(problems), data=summary)
    return Completed(message=message, data=summary)


def _file_record(path: Path, sha: str, record: dict[str, Any] | None, attempts: int,
                 max_attempts: int, state: State) -> dict[str, Any]:
    """The inbox record of one attempt at a file, from the state of its subflow run."""
    row = {
        "file_sha256": sha, "file_name": path.name, "attempts": attempts,
        "flow_run_id": str(state.state_details.flow_run_id or ""),
        "first_seen_at": record["first_seen_at"] if record else _now(),
        "processed_at": _now(), "run_id": None, "reason": None,
    }
    if state.is_completed():
        return row | {"status": "completed", "run_id": state.result()["run_id"]}
    error = _subflow_error(state)
    reason = str(error) if isinstance(error, SyntheseError) else (state.message or "")
    return row | {"status": failure_status(error, attempts, max_attempts), "reason": reason}


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)
