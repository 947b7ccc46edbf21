"""`synthese revue`: the local web page where a person reviews and validates a run.

The page lists the latest run's themes, arguments and synthesis; each form sends one action
(review.ACTIONS), which becomes an event appended to DuckDB (Store.append_review) with the
reviewer's name and the time, and the report is rendered again in its reviewed state; its
DOCX, ODT and XLSX (export.py) follow in a thread of their own (DocumentWriter), so the page
comes back without waiting for them, and the server writes the last ones before it stops.

Safety, in the order a request meets it:
- the server listens on 127.0.0.1 only, and answers only to a Host of 127.0.0.1/localhost
  (no DNS rebinding);
- every path starts with a random token printed once in the terminal: without it, 403;
- a write needs the page's CSRF value and a same-origin Origin (or Sec-Fetch-Site), so a
  page of another site cannot post a review action even if the browser knows the token;
- pages are built from the pseudonymised layers (staging, core) only: nothing from ``raw``.

The pipeline and the reviewer do not collide: the database is opened for each request and
closed after it; while a run holds it, the page says so and refuses edits (DuckDB allows one
writing process). A run never rewrites an event: events are only appended.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from synthese.errors import SyntheseError

HOST = "127.0.0.1"
COOKIE = "synthese_relecteur"
MAX_FORM_BYTES = 1_000_000
MAX_NAME = 80
MAX_TEXT = 2_000
BUSY = ("Une exécution de synthese écrit en ce moment dans la base : la page sera à jour à "
        "sa fin ; d'ici là, les modifications sont refusées.")


class Busy(Exception):
    """The database is held by a run."""


class Refused(Exception):
    """An action the page refuses, with a French message for the reviewer."""


class DocumentWriter:
    """Writes the DOCX, ODT and XLSX of the latest reviewed state in a thread of its own.

    Each action hands over a writer (export.documents_writer: its rows already read under the
    page's lock); one still waiting is replaced by the newer one, so the files always end at
    the latest state, written through a temporary file (export._write). ``flush`` waits for
    the last one; ``error`` is the French line of the last failure, None once one succeeds."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._pending: Callable[[], Any] | None = None
        self._writing = False
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def submit(self, write: Callable[[], Any]) -> None:
        with self._ready:
            self._pending = write
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="revue-documents",
                                                daemon=True)
                self._thread.start()
            self._ready.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until nothing is left to write; False when ``timeout`` ran out first."""
        with self._ready:
            return self._ready.wait_for(lambda: self._pending is None and not self._writing,
                                        timeout)

    def _loop(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._pending is not None)
                write, self._pending, self._writing = self._pending, None, True
            error = None
            try:
                write()
            except SyntheseError as exc:
                error = f"Documents DOCX, ODT et XLSX non mis à jour : {exc}"
            except Exception as exc:  # noqa: BLE001 - the page says it; the server goes on
                error = f"Documents DOCX, ODT et XLSX non mis à jour : erreur inattendue ({exc})."
            with self._ready:
                self.error, self._writing = error, False
                self._ready.notify_all()


@dataclass
class Revue:
    """What the review server holds: where the database is, its secrets, its models, the
    view it last built (kept while the run and its last review event stay the same) and the
    thread that writes the documents."""

    db: Path
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    embedder: Callable[[], Any] | None = None  # built on first need (support, regeneration)
    llm: Callable[[Any], Any] | None = None  # run config -> LLM, for regenerations
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # held while the database is open: DuckDB refuses a read-only connection beside this
    # process's writing one, so a page asked for during an action waits for its end
    lock: threading.Lock = field(default_factory=threading.Lock)
    documents: DocumentWriter = field(default_factory=DocumentWriter)
    _models: dict[str, Any] = field(default_factory=dict)
    _view: tuple[tuple[str, int], Any] | None = None

    def view(self, store: Any) -> Any:
        """The latest run's reviewed state (stages.load_review), built again only when the
        run or its last review event changed since the last time."""
        from synthese import stages

        key = stages.review_key(store)
        kept = self._view
        if kept is None or kept[0] != key:
            kept = self._view = (key, stages.load_review(store, key[0]))
        return kept[1]

    def keep(self, view: Any) -> None:
        """Keep ``view``, just stored (its events read back with their seq), as the one the
        next page shows."""
        self._view = ((view.run_id, int(view.events[-1]["seq"])), view)

    def close(self, timeout: float | None = 120) -> None:
        """Write the documents still waiting (the server is stopping)."""
        self.documents.flush(timeout)

    @contextmanager
    def store(self, *, write: bool) -> Any:
        """The database for one request; ``Busy`` while a run holds it."""
        from synthese.storage import DatabaseLocked, Store

        try:
            store = Store(self.db, read_only=not write)
        except DatabaseLocked as exc:
            raise Busy() from exc
        try:
            yield store
        finally:
            store.close()

    def model(self, name: str, config: dict[str, Any]) -> Any:
        if name not in self._models:
            factory = self.embedder if name == "embedder" else self.llm
            if factory is None:
                raise Refused("Aucun modèle n'est disponible pour cette page.")
            self._models[name] = factory() if name == "embedder" else factory(config)
        return self._models[name]


def default_embedder(config: dict[str, Any]) -> Callable[[], Any]:
    from synthese.embed import make_embedder

    return lambda: make_embedder(config.get("embedder"), lazy=True)


def default_llm(config: dict[str, Any]) -> Any:
    from synthese.llm import make_llm

    return make_llm(config.get("llm") or "llamacpp", config.get("model"),
                    host=config.get("llm_host"), threads=config.get("threads"),
                    allow_remote=bool(config.get("allow_remote_llm")), lazy=True)


def _now() -> str:
    return datetime.now().replace(microsecond=0).isoformat()


def _ids(values: list[str]) -> list[int]:
    try:
        return sorted({int(v) for v in values if str(v).strip()})
    except ValueError as exc:
        raise Refused("Référence de thème invalide.") from exc


def _one(form: dict[str, list[str]], name: str, required: bool = True) -> str:
    value = (form.get(name) or [""])[0].strip()
    if required and not value:
        raise Refused(f"Champ « {name} » manquant.")
    if len(value) > MAX_TEXT:
        raise Refused(f"Champ « {name} » trop long ({len(value)} caractères, {MAX_TEXT} au plus).")
    return value


def build_event(revue: Revue, store: Any, view: Any, form: dict[str, list[str]],
                reviewer: str) -> dict[str, Any]:
    """The event one form asks for, with its before and after; models called where asked."""
    from synthese import stages
    from synthese.review import HIDE_REASONS, NEW_THEME_BASE

    action = _one(form, "action")
    target: dict[str, Any] = {}
    after: dict[str, Any] = {}
    before: dict[str, Any] = {}
    note = None
    themes = {int(t.cluster_id): t for t in view.rows.themes.itertuples(index=False)}

    def theme(name: str = "cluster_id") -> int:
        cid = _ids([_one(form, name)])[0]
        if cid not in themes:
            raise Refused("Ce thème n'existe plus : rechargez la page.")
        return cid

    def arguments() -> list[str]:
        ids = [a for a in form.get("argument_ids", []) if a]
        if not ids:
            raise Refused("Cochez au moins un argument.")
        return ids

    def sentence() -> dict[str, Any]:
        return {"section": _one(form, "section"), "paragraph": int(_one(form, "paragraph")),
                "position": int(_one(form, "position"))}

    def cited_sentence() -> dict[str, Any]:
        text = " ".join(_one(form, "text").split())
        cited = [c for c in _ids(form.get("cluster_ids", [])) if c in themes]
        embedder = revue.model("embedder", config)
        score, supported = stages.sentence_support(store, embedder, view, text, cited)
        return {"text": text, "cluster_ids": cited, "support": score, "supported": supported}

    config = json.loads(view.run.get("config") or "{}")

    def llm() -> Any:  # every call through the store's cache (core.llm_calls)
        from synthese.calls import CachedLLM

        return CachedLLM(revue.model("llm", config), store)

    if action == "rename":
        target = {"cluster_id": theme()}
        before = {"title": themes[target["cluster_id"]].title}
        after = {"title": _one(form, "title")}
    elif action == "merge":
        target = {"cluster_id": theme(), "other": theme("other")}
        before = {"titles": [themes[target["cluster_id"]].title, themes[target["other"]].title]}
        if _one(form, "title", required=False):
            after = {"title": _one(form, "title")}
    elif action in ("split", "move", "hide"):
        target = {"argument_ids": arguments()}
        rows = view.rows.arguments
        before = {"cluster_ids": {a: int(c) for a, c in zip(rows["argument_id"], rows["cluster_id"])
                                  if a in set(target["argument_ids"])}}
        if action == "split":
            target["cluster_id"] = theme()
            taken = [c for c in themes if c >= NEW_THEME_BASE]
            after = {"cluster_id": max(taken, default=NEW_THEME_BASE - 1) + 1,
                     "title": _one(form, "title")}
        elif action == "move":
            target["cluster_id"] = theme("to")
        else:
            reason = _one(form, "reason")
            if reason not in HIDE_REASONS:
                raise Refused("Motif de masquage inconnu.")
            after = {"reason": reason}
    elif action == "unhide":
        target = {"argument_ids": arguments()}
    elif action == "kind":  # the kind itself is checked by review.apply_events
        rows = view.rows.arguments
        if _one(form, "scope", required=False) == "theme":  # every argument of one theme
            cid = theme()
            target = {"argument_ids": sorted(rows.loc[rows["cluster_id"] == cid, "argument_id"])}
        else:
            target = {"argument_ids": arguments()}
        chosen = rows[rows["argument_id"].isin(target["argument_ids"])]
        before = {"kinds": dict(zip(chosen["argument_id"], chosen["kind"]))}
        after = {"kind": _one(form, "kind")}
    elif action == "edit_sentence":
        target = sentence()
        before = {"text": _sentence_text(view, target)}
        after = cited_sentence()
    elif action == "delete_sentence":
        target = sentence()
        before = {"text": _sentence_text(view, target)}
    elif action == "add_sentence":
        target = {"section": _one(form, "section")}
        after = cited_sentence()
    elif action == "regenerate_summary":
        target = {"cluster_id": theme()}
        before = {"summary": themes[target["cluster_id"]].summary}
        after = stages.regenerate_summary(store, llm(),
                                          revue.model("embedder", config), view,
                                          target["cluster_id"])
    elif action == "regenerate_synthesis":
        before = {"n_sentences": len(view.rows.synthesis_sentences)}
        after = {"sentences": stages.regenerate_synthesis(
            store, llm(), revue.model("embedder", config), view,
            config.get("synthesis") or "composee")}
    elif action == "note":
        note = _one(form, "note")
        if _one(form, "cluster_id", required=False):
            target = {"cluster_id": theme()}
    elif action == "validate_theme":
        target = {"cluster_id": theme()}
    elif action == "validate_synthesis":
        pending = [t for t in themes if t >= 0 and t not in view.state.validated_themes]
        if pending:
            raise Refused(f"Validez d'abord chaque thème ({len(pending)} restant(s)) : la "
                          "synthèse se valide en dernier.")
    else:
        raise Refused(f"Action inconnue : {action}.")
    return {"run_id": view.run_id, "reviewer": reviewer, "made_at": _now(), "action": action,
            "target": json.dumps(target, ensure_ascii=False),
            "before": json.dumps(before, ensure_ascii=False, default=str),
            "after": json.dumps(after, ensure_ascii=False, default=str), "note": note,
            "origin_event_id": None}


def _sentence_text(view: Any, where: dict[str, Any]) -> str:
    from synthese.review import ReviewError, sentence_at

    s = view.rows.synthesis_sentences
    try:
        return str(s.at[sentence_at(s, where), "text"])
    except ReviewError as exc:
        raise Refused(f"{exc} Rechargez la page.") from exc


def record(revue: Revue, form: dict[str, list[str]], reviewer: str) -> str:
    """Apply one form: build its event, check it applies, append it with the reviewed state,
    render the report again. Returns the French line the page shows."""
    from synthese import stages
    from synthese.export import documents_writer
    from synthese.review import ReviewError

    with revue.lock, revue.store(write=True) as store:
        view = revue.view(store)
        if _one(form, "run_id") != view.run_id:
            raise Refused("Une nouvelle exécution a été produite depuis l'ouverture de la page : "
                          "rechargez-la ; l'action n'a pas été enregistrée.")
        event = build_event(revue, store, view, form, reviewer)
        try:
            reviewed = stages.store_review(store, view, [event])
        except ReviewError as exc:
            raise Refused(str(exc)) from exc
        revue.keep(reviewed)
        # the DOCX, ODT and XLSX follow the HTML report (export.py), in their own thread
        revue.documents.submit(documents_writer(store, reviewed))
    return _done(event, view)


def _done(event: dict[str, Any], view: Any) -> str:
    """The French line the page shows once an action is recorded."""
    config = json.loads(view.run.get("config") or "{}")
    composed = config.get("synthesis") == "citations"
    if event["action"] == "regenerate_synthesis" and composed:
        return "Synthèse recomposée par le code à partir des thèmes relus."
    if event["action"] == "regenerate_summary" and \
            json.loads(event["after"]).get("origin") == "code":
        return "Résumé refait par le code : ce thème réunit des réponses de quelques mots."
    if event["action"] == "kind":
        return ("Nature corrigée : les effectifs par nature sont recomptés ; la synthèse range "
                "les thèmes dans ses parties une fois "
                + ("recomposée (« Recomposer la synthèse »)." if composed else "régénérée."))
    return DONE.get(event["action"], "Action enregistrée.")


DONE = {"rename": "Thème renommé.", "merge": "Thèmes fusionnés.", "split": "Thème scindé.",
        "move": "Arguments déplacés.", "hide": "Arguments masqués.",
        "unhide": "Arguments rétablis.",
        "edit_sentence": "Phrase modifiée.",
        "delete_sentence": "Phrase supprimée.", "add_sentence": "Phrase ajoutée.",
        "regenerate_summary": "Résumé régénéré par le modèle.",
        "regenerate_synthesis": "Synthèse régénérée par le modèle.", "note": "Note enregistrée.",
        "validate_theme": "Thème validé.", "validate_synthesis": "Synthèse validée."}


def create_app(revue: Revue) -> Any:
    """The FastAPI application of the review page."""
    from synthese.report import render_html, render_review_page

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    prefix = f"/{revue.token}"

    def refuse(message: str, status: int = 403) -> Response:
        return PlainTextResponse(message, status_code=status)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0]
        if host not in ("127.0.0.1", "localhost"):
            return refuse("Accès refusé : cette page ne répond qu'à 127.0.0.1.")
        path = request.url.path
        if not (path == prefix or path.startswith(prefix + "/")) or not hmac.compare_digest(
                path[1:1 + len(revue.token)], revue.token):
            return refuse("Accès refusé : l'adresse de la page de relecture contient un jeton, "
                          "affiché par « synthese revue ».")
        if request.method not in ("GET", "HEAD", "POST"):
            return refuse("Méthode refusée.", 405)
        if request.method == "POST":
            origin = request.headers.get("origin")
            site = request.headers.get("sec-fetch-site")
            own = {f"http://{request.headers.get('host')}"}
            if (origin is not None and origin not in own) or site not in (None, "same-origin",
                                                                        "none"):
                return refuse("Requête refusée : elle ne vient pas de la page de relecture.")
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        # The token is in the address: it is never sent to another site. (With "no-referrer",
        # browsers send « Origin: null » with a form and the Origin check could not work.)
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    def reviewer_of(request: Request) -> str:
        return unquote(request.cookies.get(COOKIE, ""))[:MAX_NAME].strip()

    async def form_of(request: Request) -> dict[str, list[str]]:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise Refused("Formulaire trop volumineux.")
        form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        if not hmac.compare_digest((form.get("csrf") or [""])[0], revue.csrf):
            raise Refused("Formulaire expiré ou étranger à cette page : rechargez-la.")
        return form

    def back(message: str, error: bool = False, anchor: str = "") -> RedirectResponse:
        key = "erreur" if error else "ok"
        return RedirectResponse(f"{prefix}/?{key}={quote(message)}{anchor}", status_code=303)

    @app.get(prefix + "/", response_class=HTMLResponse)
    @app.get(prefix, response_class=HTMLResponse)
    def page(request: Request, ok: str = "", erreur: str = "") -> Response:
        reviewer = reviewer_of(request)
        try:
            with revue.lock, revue.store(write=False) as store:
                view = revue.view(store)
                data = view.report_data()
        except Busy:
            return HTMLResponse(_busy_page(), status_code=503)
        except SyntheseError as exc:
            return HTMLResponse(_message_page(str(exc)), status_code=404)
        events = [{**e, "target": json.loads(e["target"] or "{}"),
                   "after": json.loads(e["after"] or "{}")} for e in view.events]
        return HTMLResponse(render_review_page(data, {
            "prefix": prefix, "csrf": revue.csrf, "reviewer": reviewer, "ok": ok,
            "error": erreur or revue.documents.error or "", "run_id": view.run_id, "events": events[::-1],
            "hidden": _hidden_rows(view), "changed": _changed(view),
            "validated_themes": set(view.state.validated_themes),
            "stale": set(view.state.stale_summaries),
            "config": json.loads(view.run.get("config") or "{}"),
            "can_regenerate": revue.llm is not None}))

    @app.get(prefix + "/rapport", response_class=HTMLResponse)
    def report(request: Request) -> Response:
        try:
            with revue.lock, revue.store(write=False) as store:
                return HTMLResponse(render_html(revue.view(store).report_data()))
        except Busy:
            return HTMLResponse(_busy_page(), status_code=503)

    @app.post(prefix + "/nom")
    async def name(request: Request) -> Response:
        try:
            form = await form_of(request)
            who = " ".join(_one(form, "nom").split())[:MAX_NAME]
        except Refused as exc:
            return refuse(str(exc))
        response = back(f"Bonjour {who} : vos actions seront enregistrées à ce nom.")
        response.set_cookie(COOKIE, quote(who), httponly=True, samesite="strict", path=prefix)
        return response

    @app.post(prefix + "/action")
    async def action(request: Request) -> Response:
        try:
            form = await form_of(request)
        except Refused as exc:
            return refuse(str(exc))
        reviewer = reviewer_of(request)
        anchor = _one(form, "anchor", required=False)
        anchor = f"#{anchor}" if anchor.replace("-", "").isalnum() else ""
        if not reviewer:
            return back("Indiquez d'abord votre nom : il est enregistré avec chaque action.",
                        True)
        try:
            message = record(revue, form, reviewer)
        except Busy:
            return HTMLResponse(_busy_page(), status_code=503)
        except (Refused, SyntheseError) as exc:
            return back(str(exc), True, anchor)
        return back(message, anchor=anchor)

    return app


def _hidden_rows(view: Any) -> list[dict[str, Any]]:
    from synthese.review import HIDE_REASONS

    base = view.base.arguments.set_index("argument_id")
    return [{"argument_id": a, "text": base.at[a, "text"], "reason": HIDE_REASONS.get(
        h["reason"], h["reason"]), "by": h["by"], "at": h["at"]}
        for a, h in view.state.hidden.items() if a in base.index]


def _changed(view: Any) -> list[str]:
    for e in view.events:
        if e["action"] == "carry_over":
            return list(json.loads(e["after"] or "{}").get("changed_themes", []))
    return []


def _busy_page() -> str:
    return _message_page(BUSY, refresh=True)


def _message_page(message: str, refresh: bool = False) -> str:
    from html import escape

    meta = '<meta http-equiv="refresh" content="10">' if refresh else ""
    return (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">{meta}'
            f"<title>Relecture — synthese</title></head><body><main><h1>Relecture</h1>"
            f'<p role="alert">{escape(message)}</p></main></body></html>')


def listen(port: int = 0) -> Any:
    """A socket on 127.0.0.1 only (``port`` 0: a free one)."""
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise SyntheseError(f"Impossible d'ouvrir le port {port} sur {HOST} ({exc.strerror}) : "
                            "choisissez-en un autre avec --port.") from exc
    return sock


def server(revue: Revue) -> Any:
    """The uvicorn server of the page (run it with ``.run(sockets=[listen(port)])``)."""
    import uvicorn

    return uvicorn.Server(uvicorn.Config(create_app(revue), log_level="warning",
                                         access_log=False, lifespan="off"))


def address(revue: Revue, sock: Any) -> str:
    return f"http://{HOST}:{sock.getsockname()[1]}/{revue.token}/"


def serve(db: Path, port: int = 0, *, log: Callable[[str], None] = print,
          revue: Revue | None = None) -> None:
    """Serve the review page on 127.0.0.1 until Ctrl-C; prints its address (with token)."""
    from synthese import stages
    from synthese.storage import Store

    if not Path(db).exists():
        raise SyntheseError(f"Base {db} introuvable : lancez d'abord « synthese run ».")
    with Store(db) as store:  # migrates an older database once, then checks there is a run
        config = json.loads(stages.latest_run_to_review(store).get("config") or "{}")
    revue = revue or Revue(Path(db), embedder=default_embedder(config), llm=default_llm)
    sock = listen(port)
    log("Page de relecture (sur cette machine seulement) :")
    log(f"  {address(revue, sock)}")
    log("Ouvrez-la dans votre navigateur ; Ctrl-C pour arrêter.")
    try:
        server(revue).run(sockets=[sock])
    finally:
        revue.close()
