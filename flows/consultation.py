"""The synthese method as a Prefect flow: one thin task per stage.

The tasks run the stages of synthese.runner.STAGES, which read what is pending in DuckDB and
write their results there: DuckDB, not Prefect's result cache, is the source of truth,
so the tasks cache nothing (Prefect cannot hash a connection). Only the tasks that call a
model are retried, and they carry the ``synthese-llm`` tag so that a Prefect concurrency
limit on that tag keeps two runs from overloading the model. Once the run is recorded, the
task ``exporter`` writes its report as DOCX and ODT and its data as XLSX beside the HTML
report (export.py), and each file gets a link artifact.

With several model servers (``llm_hosts``) or the Dask task runner (``task_runner="dask"``),
the extraction is mapped: the flow submits one task ``extraire-lot`` per batch of pending
answers to its task runner (threads, or a Dask cluster: local workers or ``dask_address``),
each runs distribute.extract_batch on one server and returns rows, and the flow's process
alone writes them to DuckDB as they come back (distribute.map_extraction). The summaries'
model calls are mapped the same way, one task ``resumer-lot`` per theme; the themes are
then titled and summarised in order in the flow, from the cache.
The task runner is chosen by a parameter: the flow then runs its stages in a subflow
``synthese-dask`` that carries the DaskTaskRunner. The default stays local.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from synthese.config import DEFAULT_DB, DEFAULT_OUT, Settings, check_settings
from synthese.distribute import BATCH_SIZE, extract_batch, summarise_batch
from synthese.errors import SyntheseError
from synthese.llm import SERVER_BACKENDS
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
# One batch of the mapped extraction (distribute.extract_batch): no database, rows back. Not
# tagged synthese-llm: the servers' own limit is llm_concurrency, per server.
BATCH_TASK = task(name="extraire-lot", cache_policy=NO_CACHE)(extract_batch)
# One theme's summary calls, made on a worker (distribute.summarise_batch).
SUMMARY_TASK = task(name="resumer-lot", cache_policy=NO_CACHE)(summarise_batch)
BATCH_TASKS = {extract_batch: BATCH_TASK, summarise_batch: SUMMARY_TASK}
TASK_RUNNERS = ("local", "dask")


class PrefectMapper:
    """distribute.Mapper on the flow's task runner: one task per batch (« extraire-lot »,
    « resumer-lot »)."""

    def submit(self, fn: Any, *args: Any) -> Any:
        return BATCH_TASKS[fn].submit(*args)

    def first_done(self, futures: list) -> Any:
        return next(as_completed(futures))


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
    llm: Literal["llamacpp", "ollama", "openai", "baseline"] = "llamacpp",
    model: str | None = None,
    llm_host: str | None = None,
    llm_hosts: list[str] | None = None,
    allow_remote_llm: bool = False,
    llm_concurrency: int = 1,
    batch_size: int = BATCH_SIZE,
    task_runner: Literal["local", "dask"] = "local",
    dask_address: str | None = None,
    dask_workers: int = 2,
    embedder: str | None = None,
    threads: int | None = None,
    seed: int = 42,
    themes: int | None = None,
    granularity: Literal["coarse", "medium", "fine"] = "medium",
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
        llm: Moteur de langage : llamacpp (embarqué), ollama, openai (serveur compatible
            OpenAI : llama.cpp server, vLLM), ou baseline (sans modèle : les phrases des
            réponses, pour essayer un export).
        model: Modèle (nom embarqué, fichier .gguf, ou nom servi par le serveur).
        llm_host: Adresse du serveur de modèle (boucle locale seulement, sauf autorisation).
        llm_hosts: Plusieurs serveurs du même modèle : l'extraction est répartie entre eux par
            lots ; un serveur en panne est retiré et ses lots passent aux autres.
        allow_remote_llm: Autoriser un serveur de modèle hors de cette machine.
        llm_concurrency: Lots envoyés à la fois à chaque serveur.
        batch_size: Réponses par lot de l'extraction répartie.
        task_runner: local (par défaut : fils de ce processus) ou dask (une grappe Dask :
            dask_address, sinon dask_workers processus sur cette machine).
        dask_address: Adresse du planificateur Dask (tcp://hôte:8786) ; vide : grappe locale.
        dask_workers: Processus de la grappe Dask locale (sans dask_address).
        embedder: Modèle de vectorisation (par défaut celui de docs/embeddings.md).
        threads: Fils de calcul du modèle embarqué (par défaut : tous les cœurs).
        seed: Graine aléatoire.
        themes: Nombre de thèmes souhaité (approximatif ; vide : ceux des données).
        granularity: Finesse des thèmes : coarse (larges), medium ou fine (étroits).
        pseudonymise: Pseudonymiser avant tout modèle (ne désactiver que sur décision habilitée).
        k_anonymity: Taille minimale des groupes affichés dans les ventilations.
        synthesis: citations (par défaut : titre et citation d'un répondant par thème, sans
            modèle), composee (le code compose des phrases du modèle contrôlées, une par
            thème : modèle de 7B ou plus) ou libre (le modèle rédige toute la synthèse).
        closed: Colonnes de questions fermées (encadrés « Extrait » et thèmes par groupe) ;
            sans elles, les colonnes à peu de valeurs distinctes sont retenues.
        progress: Afficher les barres de progression.
    """
    params = dict(locals())
    if task_runner not in TASK_RUNNERS:
        error = SyntheseError(f"Exécuteur de tâches inconnu : {task_runner} (local ou dask).")
        log_user_error(get_run_logger(), error)
        raise error
    if task_runner == "dask":
        with _dask_environment():
            return _dask_flow(dask_address, dask_workers)(params)
    return _consultation(params)


def _dask_flow(address: str | None, workers: int):
    """The stages as a subflow whose task runner is a Dask cluster: the one at ``address``,
    or ``workers`` local processes of one thread each (started and stopped with the run)."""
    from prefect_dask import DaskTaskRunner

    runner = (DaskTaskRunner(address=address) if address else DaskTaskRunner(
        cluster_kwargs={"n_workers": max(1, int(workers)), "threads_per_worker": 1,
                        "processes": True, "dashboard_address": None}))
    return flow(name="synthese-dask", log_prints=False, task_runner=runner)(_consultation)


@contextlib.contextmanager
def _dask_environment() -> Iterator[None]:
    """Local Dask workers are new processes: they report their task runs to the same Prefect
    API as this run, which may be a temporary one known only to this process's settings."""
    from prefect.settings import PREFECT_API_URL

    url, before = PREFECT_API_URL.value(), os.environ.get("PREFECT_API_URL")
    if url:
        os.environ["PREFECT_API_URL"] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before


def _call(stage: Stage, run: Any, done: dict) -> Any:
    """A stage as its task; a mapped stage runs in the flow itself, so that its batch
    tasks are the flow's own (a task submitted from inside a task would carry that task's
    parameters, the run and its database connection, to the workers)."""
    if stage.name in ("extract", "summarise") and run.mapper is not None:
        return execute(stage, run, done)
    return TASKS[stage.name](stage, run, done)


def _consultation(params: dict) -> dict:
    """The run itself: settings, stages (as tasks), record, documents, artifacts."""
    logger = get_run_logger()
    p = params
    settings = Settings(
        export=p["export"], questions=tuple(p["question"]), id_column=p["id_column"],
        question_texts=tuple(p["question_text"] or ()), db=p["db"], out=p["out"],
        limit=p["limit"], llm=p["llm"], model=p["model"], llm_host=p["llm_host"],
        llm_hosts=tuple(p["llm_hosts"] or ()), allow_remote_llm=p["allow_remote_llm"],
        llm_concurrency=p["llm_concurrency"], batch_size=p["batch_size"],
        embedder=p["embedder"], threads=p["threads"], seed=p["seed"],
        themes=p["themes"], granularity=p["granularity"], pseudonymise=p["pseudonymise"], k_anonymity=p["k_anonymity"],
        synthesis=p["synthesis"], closed=tuple(p["closed"] or ()),
    )
    mapped = settings.llm in SERVER_BACKENDS and (
        len(settings.hosts()) > 1 or p["task_runner"] != "local")
    if p["task_runner"] != "local" and settings.llm not in SERVER_BACKENDS:
        logger.warning("Exécuteur %s : le modèle %s tourne dans ce processus, l'extraction n'y "
                       "est donc pas répartie (seuls les serveurs ollama et openai le sont).",
                       p["task_runner"], settings.llm)
    try:
        check_settings(settings)
        run = open_run(settings, log=run_log(logger), progress=p["progress"],
                       mapper=PrefectMapper() if mapped else None)
    except SyntheseError as exc:
        log_user_error(logger, exc)
        raise
    done: dict = {}
    try:
        try:
            run_stages(run, done, call=lambda stage, r, d: _call(stage, r, d))
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
