"""The method as a straight line: the stages in order, and the run they share.

    export -> ingest -> pseudonymise -> campaigns -> extract -> embed -> cluster -> summarise
           -> synthesise -> publish (report) ; then the run is recorded, and its report
           written as DOCX, ODT and XLSX beside the HTML (export_documents)

``STAGES`` is the one list of stages: the CLI (through the Prefect flow), the flow and the
benchmarks all run it. A stage (stages.py) is called with the run and, by name, the records
returned by the earlier stages it ``needs``; nothing passes through attributes.

Scope of a run: every stored answer to the run's question columns (the union of all the
exports imported into this database for those questions). One database holds one
consultation; use ``--db`` to keep consultations apart.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from synthese import __version__, stages
from synthese.calls import CachedLLM
from synthese.config import Settings
from synthese.energy import EnergyMeter
from synthese.extract import prompt_for as extraction_prompt
from synthese.keys import to_json
from synthese.prompts import Prompt, load_prompt
from synthese.storage import Store

Log = Callable[[str], None]


@dataclass(frozen=True)
class Stage:
    name: str
    task_name: str  # its name in Prefect's UI
    run: Callable[..., Any]
    needs: tuple[str, ...] = ()
    calls_llm: bool = False  # retried by the flow, and limited to one at a time


STAGES: tuple[Stage, ...] = (
    Stage("ingest", "importer", stages.ingest),
    Stage("pseudonymise", "pseudonymiser", stages.pseudonymise),
    Stage("campaigns", "campagnes", stages.campaigns),
    Stage("extract", "extraire", stages.extract, ("campaigns",), calls_llm=True),
    Stage("embed", "vectoriser", stages.embed, ("extract",)),
    Stage("cluster", "regrouper", stages.cluster, ("extract",)),
    Stage("summarise", "resumer", stages.summarise, ("extract", "cluster"), calls_llm=True),
    Stage("synthesise", "synthetiser", stages.synthesise, ("extract", "cluster", "summarise"),
          calls_llm=True),
    Stage("publish", "publier", stages.publish,
          ("ingest", "pseudonymise", "extract", "cluster", "summarise", "synthesise",
           "campaigns")),
)
TIMING_NAMES = {"publish": "report"}  # the name a stage's time is recorded under, if not its own


@dataclass
class Run:
    """What the stages of one run share: settings, store, models (each loaded on its first
    use, so that a rerun with nothing new loads none), prompts, and the run's measurements."""

    settings: Settings
    store: Store
    llm: CachedLLM
    embedder: Any
    log: Log
    progress: bool
    pseudonymiser_given: Any = None
    run_id: str = field(default_factory=lambda: datetime.now().strftime("%Y%m%d-%H%M%S-")
                        + uuid.uuid4().hex[:6])
    started_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    prompts: dict[str, Prompt] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    energy: EnergyMeter | None = None  # the kWh of each stage (energy.py)
    # Set to map the extraction in batches over the model servers (distribute.Mapper: the
    # flow's Prefect task runner, or threads); None keeps it in this process, in order.
    mapper: Any = None

    def __post_init__(self) -> None:
        self.energy = self.energy or EnergyMeter(self.log)
        from synthese.summarise import PROMPTS
        from synthese.synthesise import PROMPTS as SYNTHESIS_PROMPTS

        self.prompts = self.prompts or {
            "extraction": load_prompt(*extraction_prompt(self.llm.backend)),
            **{name: load_prompt(*spec) for name, spec in PROMPTS.items()},
            "synthesis": load_prompt(*SYNTHESIS_PROMPTS[self.settings.synthesis]),
        }

    def endpoints(self) -> list[Any]:
        """The model servers of this run (distribute.Endpoint), each checked."""
        from synthese.distribute import endpoints
        from synthese.llm import DEFAULT_OLLAMA_HOST, DEFAULT_OPENAI_HOST

        s = self.settings
        default = DEFAULT_OLLAMA_HOST if s.llm == "ollama" else DEFAULT_OPENAI_HOST
        return endpoints(s.llm, s.hosts() or (default,), s.model,
                         allow_remote=s.allow_remote_llm, concurrency=s.llm_concurrency)

    @property
    def question_label(self) -> str:
        return " / ".join(self.settings.question_text(q) for q in self.settings.questions)

    def pseudonymisation_method(self) -> str:
        if not self.settings.pseudonymise:
            return "aucune"
        if self.pseudonymiser_given is not None:
            return self.pseudonymiser_given.method
        from synthese.pseudonymise import pseudonymisation_method

        return pseudonymisation_method(self.settings.pseudonymisation_config)

    def pseudonymiser(self) -> Any:
        if self.pseudonymiser_given is None:
            from synthese.pseudonymise import Pseudonymiser

            self.pseudonymiser_given = Pseudonymiser(self.settings.pseudonymisation_config)
        return self.pseudonymiser_given

    def summary_checks(self, summary_keys: Iterable[str]) -> dict[str, str]:
        from synthese.verify import check_key

        return {key: check_key(key, self.embedder.model_id) for key in summary_keys}

    def energy_method(self) -> dict[str, Any]:
        """How the energy was measured; ``llm_server`` names a model server, another
        process whose energy codecarbon does not see (energy.py)."""
        server = self.settings.llm not in ("llamacpp", "baseline")
        return self.energy.describe() | {"llm_server": self.settings.llm if server else None}

    def describe(self, source: dict, staged: Any, counts: dict) -> dict[str, Any]:
        """What the report says of this run (see reportdata.build_report_data)."""
        s, llm = self.settings, self.llm
        return {
            "question": self.question_label, "source": source,
            "generated_at": self.started_at.isoformat(), "run_id": self.run_id,
            "counts": counts, "seed": s.seed, "k_anonymity": s.k_anonymity,
            "closed": list(s.closed),
            "pseudonymisation": {"enabled": s.pseudonymise, "method": staged.method,
                                 "counts": staged.entities},
            "models": [
                {"role": "Modèle de langage",
                 "name": f"{llm.model_name} ({llm.backend}, local)", "sha256": llm.model_sha256},
                {"role": "Modèle de vectorisation", "name": self.embedder.name,
                 "sha256": getattr(self.embedder, "sha256", None) or self.embedder.model_id},
            ],
            "prompts": {k: f"{p.label} (sha256 {p.sha256[:12]})" for k, p in self.prompts.items()},
            "run_time_s": round(sum(self.timings.values()), 1),
            # the stages before the report, as run_time_s: the report is written inside its own
            "energy_kwh": self.energy.total_kwh(), "energy_method": self.energy_method(),
            "llm_tokens_made": self.llm.stats.prompt_tokens + self.llm.stats.completion_tokens,
        }


def open_run(settings: Settings, *, llm: Any = None, embedder: Any = None,
             pseudonymiser: Any = None, log: Log = print, progress: bool = True,
             energy_tracker: Callable[[], Any] | None = None, mapper: Any = None) -> Run:
    """A run over ``settings.db``; the LLM and embedder are built (lazily) unless given;
    ``energy_tracker`` makes codecarbon's tracker (energy.offline_tracker unless given).
    Several model servers make a pool (distribute.PoolLLM); ``mapper`` maps the extraction
    over them in batches."""
    if llm is None and len(settings.hosts()) > 1:
        from synthese.distribute import PoolLLM, endpoints

        llm = PoolLLM(endpoints(settings.llm, settings.hosts(), settings.model,
                                allow_remote=settings.allow_remote_llm,
                                concurrency=settings.llm_concurrency), log)
    if llm is None:
        from synthese.llm import make_llm

        llm = make_llm(settings.llm, settings.model, host=next(iter(settings.hosts()), None),
                       allow_remote=settings.allow_remote_llm, threads=settings.threads,
                       lazy=True)
    if embedder is None:
        from synthese.embed import make_embedder

        embedder = make_embedder(settings.embedder, lazy=True)
    store = Store(settings.db)
    energy = EnergyMeter(log, energy_tracker) if energy_tracker else None
    return Run(settings, store, CachedLLM(llm, store), embedder, log, progress, pseudonymiser,
               energy=energy, mapper=mapper)


def close_run(run: Run) -> None:
    """Stop the energy tracker, free the model, close the database: each one even when the
    one before raised (a second signal arriving during a stop)."""
    try:
        run.energy.close()
    finally:
        try:
            run.llm.close()
        finally:
            run.store.close()


def execute(stage: Stage, run: Run, done: dict[str, Any]) -> Any:
    """Run one stage with the records it needs, and time it and measure its energy."""
    name = TIMING_NAMES.get(stage.name, stage.name)
    started = time.perf_counter()
    try:
        with run.energy.measure(name):
            return stage.run(run, **{need: done[need] for need in stage.needs})
    finally:
        run.timings[name] = round(run.timings.get(name, 0.0) + time.perf_counter() - started, 2)


def run_stages(run: Run, done: dict[str, Any],
               call: Callable[[Stage, Run, dict[str, Any]], Any] = execute) -> dict[str, Any]:
    """Every stage in order, each record added to ``done`` as it comes (a failed run keeps
    what its stages did); ``call`` runs one stage (the flow wraps it in a Prefect task)."""
    for stage in STAGES:
        done[stage.name] = call(stage, run, done)
    return done


def record(run: Run, done: dict[str, Any], status: str) -> dict[str, Any]:
    """Store the run (once) with what its stages did; returns the stored row."""
    got = done.get
    counts: dict[str, Any] = {}
    if got("ingest"):
        counts.update(got("ingest").counts)
    if got("pseudonymise"):
        counts.update(entities=got("pseudonymise").entities,
                      pseudonymisation=got("pseudonymise").method)
    if got("extract"):
        counts.update(got("extract").counts)
    if got("campaigns"):
        counts["campaigns"] = len(got("campaigns").campaign_ids)
        counts["campaign_members"] = len(got("campaigns").representative_of)
    if got("publish"):
        counts.update(got("publish").answer_counts, **got("publish").counts)
    reused: dict[str, Any] = {}
    if got("extract"):
        reused["extraction_calls_made"] = got("extract").calls_made
    if "embed" in done:
        reused["embeddings_computed"] = done["embed"]
    if got("cluster"):
        reused["clustering"] = got("cluster").reused
    if got("summarise"):
        reused.update(summaries_made=got("summarise").made,
                      summaries_reused=got("summarise").reused)
    if synthesis := got("synthesise"):
        reused["synthesis"] = synthesis.reused
    row = {
        "run_id": run.run_id, "started_at": run.started_at,
        "finished_at": datetime.now().replace(microsecond=0), "status": status,
        "config": to_json(run.settings.public() | {"version": __version__}),
        "questions": list(run.settings.questions), "counts": to_json(counts),
        "timings": to_json(run.timings), "tokens": to_json(run.llm.stats.as_dict()),
        "reused": to_json(reused), "trust": to_json(got("publish").trust if got("publish") else {}),
        "clustering_id": got("cluster").clustering_id if got("cluster") else None,
        "synthesis_key": synthesis.synthesis_key if synthesis else None,
        "synthesis_attempt": synthesis.attempt if synthesis else None,
        "report_path": str(got("publish").report_path) if got("publish") else None,
        "report": to_json(got("publish").report) if got("publish") else None,
        "report_inputs": to_json(got("publish").inputs) if got("publish") else None,
    }
    themes = [{"run_id": run.run_id, "cluster_id": cid, "summary_key": key}
              for cid, key in (got("summarise").summary_keys.items() if got("summarise") else ())]
    method = to_json(run.energy_method())
    energy = [{"run_id": run.run_id, "stage": name, "seconds": run.timings.get(name),
               "energy_kwh": e and e.energy_kwh, "cpu_kwh": e and e.cpu_kwh,
               "ram_kwh": e and e.ram_kwh, "gpu_kwh": e and e.gpu_kwh, "energy_method": method}
              for name, e in run.energy.by_stage.items()]
    run.store.record_run(row, themes, energy)
    review = (stages.carry_review(run.store, run.run_id, list(run.settings.questions))
              if status == "completed" and got("publish") else None)
    return row | {"review": review, "counts": counts, "reused": reused, "trust": json.loads(row["trust"]),
                  "timings": dict(run.timings), "tokens": run.llm.stats.as_dict(),
                  "energy": {r["stage"]: r["energy_kwh"] for r in energy},
                  "energy_kwh": run.energy.total_kwh()}


def export_documents(run: Run, row: dict[str, Any]) -> dict[str, str]:
    """After a completed run is recorded (and a review carried over): its report as DOCX
    and ODT and its data as XLSX, beside the HTML report (export.py). Paths by format."""
    from synthese.export import export_run

    started = time.perf_counter()
    written = export_run(run.store, row["run_id"])
    run.log(f"Documents écrits en {time.perf_counter() - started:.1f} s : "
            + ", ".join(str(p) for p in written.values()))
    return {fmt: str(path) for fmt, path in written.items()}


def end_status(exc: BaseException) -> str:
    """How a run that raised ``exc`` is recorded: « stopped » when a person or Prefect asked it
    to stop (Ctrl-C, SIGTERM, a cancellation), « failed » otherwise. Either way what its
    stages stored is kept and the next run resumes from there."""
    stopped = isinstance(exc, KeyboardInterrupt) or type(exc).__name__ == "TerminationSignal"
    return "stopped" if stopped else "failed"


def run_all(settings: Settings, **options: Any) -> dict[str, Any]:
    """Every stage, the run record, then the documents (tests and benchmarks; the CLI goes
    through the flow). A failure of the documents leaves the run recorded as completed:
    ``synthese export`` writes them again."""
    run = open_run(settings, **options)
    done: dict[str, Any] = {}
    try:
        try:
            run_stages(run, done)
            row = record(run, done, "completed")
        except BaseException as exc:
            record(run, done, end_status(exc))
            raise
        return row | {"documents": export_documents(run, row)}
    finally:
        close_run(run)
