"""The synthese method as a Prefect flow: one thin task per stage.

The tasks run the stages of synthese.runner.STAGES, which read what is pending in DuckDB and
write their results there: DuckDB, not Prefect's result cache, is the source of truth,
so the tasks cache nothing (Prefect cannot hash a connection). Only the tasks that call a
model are retried, and they carry the ``synthese-llm`` tag so that a Prefect concurrency
limit on that tag keeps two runs from overloading the model. Once the run is recorded, the
task ``exporter`` writes its report as DOCX and ODT and its data as XLSX beside the HTML
report (export.py), and each file gets a link artifact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from synthese.config import DEFAULT_DB, DEFAULT_OUT, Settings, check_settings
from synthese.errors import SyntheseError
from synthese.progress import run_log, summary_lines
from synthese.runner import (
    STAGES,
    Stage,
    close_run,
    end_status,
    execute,
    export_documents,
    open_run,
    record,
    run_stages,
)

LLM_TAG = "synthese-llm"


def _task(stage: Stage):
    """The Prefect task of a stage: retried and limited by tag only when it calls a model."""
    options: dict = {"name": stage.task_name, "cache_policy": NO_CACHE}
    if stage.calls_llm:
        options.update(retries=2, retry_delay_seconds=10, tags=[LLM_TAG])
    return task(**options)(execute)


TASKS = {stage.name: _task(stage) for stage in STAGES}
# After the run is recorded: the report as DOCX and ODT, the data as XLSX (export.py).
EXPORT_TASK = task(name="exporter", cache_policy=NO_CACHE)(export_documents)
LINKS = {"rapport": "Rapport HTML", "docx": "Rapport au format Word (DOCX)",
         "odt": "Rapport au format OpenDocument (ODT)",
         "xlsx": "Données au format tableur (XLSX)"}


def artifact_markdown(row: dict) -> str:
    c, t, tokens = row["counts"], row["trust"], row["tokens"]
    rows = [
        ("Réponses", c.get("answers", 0)), ("Répondants", c.get("respondents", 0)),
        ("Sans réponse", c.get("blank", 0)), ("Traitées", c.get("processed", 0)),
        ("En échec", c.get("failed", 0)), ("Arguments", c.get("arguments", 0)),
        ("Thèmes", c.get("themes", 0)),
        ("Autres / inclassables", f"{c.get('unassigned_share', 0):.1%}"),
        ("Nouvelles réponses importées", c.get("new_answers", 0)),
        ("Appels au modèle effectués / réutilisés", f"{tokens['made']} / {tokens['reused']}"),
        ("Jetons (entrée / sortie)", f"{tokens['prompt_tokens']} / {tokens['completion_tokens']}"),
        ("Citations vérifiées", f"{t.get('quotes_verified_share', 0):.1%}"),
        ("Couverture des répondants", f"{t.get('respondent_coverage', 0):.1%}"),
    ]
    lines = ["# Synthèse : bilan de l'exécution", "", "| Indicateur | Valeur |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += ["", "## Durées par étape", "", "| Étape | Secondes |", "|---|---|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in row["timings"].items()]
    lines += ["", "## Réutilisé", "", "```json", str(row["reused"]), "```", "",
              f"Rapport : `{row['report_path']}`"]
    lines += [f"Document {fmt.upper()} : `{path}`" for fmt, path in
              (row.get("documents") or {}).items()]
    return "\n".join(lines)


def create_file_links(row: dict) -> None:
    """One link artifact per file the run wrote (the HTML report, the documents), so that
    the Prefect UI leads to them (file:// links: they open on the machine that ran)."""
    files = {"rapport": row["report_path"], **(row.get("documents") or {})}
    for name, path in files.items():
        create_link_artifact(key=f"synthese-{name}", link=Path(path).resolve().as_uri(),
                             link_text=Path(path).name, description=LINKS[name])


def log_user_error(logger, exc: SyntheseError) -> None:
    """Log a user-facing error as one French line, so that it reads first in the run's logs
    (Prefect then fails the run and adds its own traceback below)."""
    logger.error("Erreur : %s", exc)


@flow(name="synthese", log_prints=False)
def consultation(
    export: str,
    question: list[str],
    id_column: str | None = None,
    question_text: list[str] | None = None,
    db: str = str(DEFAULT_DB),
    out: str = str(DEFAULT_OUT),
    limit: int | None = None,
    llm: Literal["llamacpp", "ollama", "baseline"] = "llamacpp",
    model: str | None = None,
    llm_host: str | None = None,
    allow_remote_llm: bool = False,
    embedder: str | None = None,
    threads: int | None = None,
    seed: int = 42,
    pseudonymise: bool = True,
    k_anonymity: int = 10,
    synthesis: Literal["citations", "composee", "libre"] = "citations",
    closed: list[str] | None = None,
    progress: bool = True,
) -> dict:
    """Synthesise the free-text answers of one consultation export (IGÉSR Annexe 5 method).

    Args:
        export: Fichier exporté de la consultation (CSV, XLSX ou ODS), chemin relatif au projet.
        question: Colonne(s) de question libre à analyser.
        id_column: Colonne identifiant le répondant (sinon le numéro de ligne).
        question_text: Intitulé(s) de la question posée, dans l'ordre des colonnes.
        db: Base DuckDB où tout est enregistré.
        out: Dossier du rapport HTML.
        limit: Ne traiter que les N premières lignes.
        llm: Moteur de langage : llamacpp (embarqué), ollama, ou baseline (sans modèle : les
            phrases des réponses, pour essayer un export).
        model: Modèle (nom embarqué, fichier .gguf, ou nom Ollama).
        llm_host: Adresse du serveur Ollama (boucle locale seulement, sauf autorisation).
        allow_remote_llm: Autoriser un serveur de modèle hors de cette machine.
        embedder: Modèle de vectorisation (par défaut celui de docs/embeddings.md).
        threads: Fils de calcul du modèle embarqué (par défaut : tous les cœurs).
        seed: Graine aléatoire.
        pseudonymise: Pseudonymiser avant tout modèle (ne désactiver que sur décision habilitée).
        k_anonymity: Taille minimale des groupes affichés dans les ventilations.
        synthesis: citations (par défaut : titre et citation d'un répondant par thème, sans
            modèle), composee (le code compose des phrases du modèle contrôlées, une par
            thème : modèle de 7B ou plus) ou libre (le modèle rédige toute la synthèse).
        closed: Colonnes de questions fermées (encadrés « Extrait » et thèmes par groupe) ;
            sans elles, les colonnes à peu de valeurs distinctes sont retenues.
        progress: Afficher les barres de progression.
    """
    logger = get_run_logger()
    settings = Settings(
        export=export, questions=tuple(question), id_column=id_column,
        question_texts=tuple(question_text or ()), db=db, out=out,
        limit=limit, llm=llm, model=model, llm_host=llm_host, allow_remote_llm=allow_remote_llm,
        embedder=embedder, threads=threads, seed=seed, pseudonymise=pseudonymise, k_anonymity=k_anonymity,
        synthesis=synthesis, closed=tuple(closed or ()),
    )
    try:
        check_settings(settings)
        run = open_run(settings, log=run_log(logger), progress=progress)
    except SyntheseError as exc:
        log_user_error(logger, exc)
        raise
    done: dict = {}
    try:
        try:
            run_stages(run, done, call=lambda stage, r, d: TASKS[stage.name](stage, r, d))
            row = record(run, done, "completed")
        except BaseException as exc:
            if isinstance(exc, SyntheseError):
                log_user_error(logger, exc)
            record(run, done, end_status(exc))
            raise
        try:  # the run stays completed: « synthese export » writes the documents again
            row = row | {"documents": EXPORT_TASK(run, row)}
        except SyntheseError as exc:
            log_user_error(logger, exc)
            raise
        lines = summary_lines(row)
        for line in lines:
            logger.info(line)
        create_markdown_artifact(markdown=artifact_markdown(row), key="synthese-bilan",
                                 description="Bilan de l'exécution synthese")
        create_file_links(row)
        return {"run_id": row["run_id"], "report": row["report_path"],
                "documents": row["documents"], "counts": row["counts"],
                "timings": row["timings"], "trust": row["trust"], "reused": row["reused"],
                "llm_calls": row["tokens"], "summary": lines}
    finally:
        close_run(run)
