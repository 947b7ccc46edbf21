"""Several model servers: the OpenAI-compatible client, the pool, and the extraction mapped
in batches over the servers (synthese/distribute.py).

The servers are fake Ollama servers (tests/fake_ollama.py: Ollama's and the OpenAI-compatible
HTTP protocols on 127.0.0.1) answering with the baseline model (synthese.baseline.respond),
the database a real DuckDB file. The mapper here is threads; test_dask.py runs the same
extraction on a Dask cluster through the Prefect flow.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fake_ollama import FakeOllamaServer
from fakes import FakeEmbedder

from synthese.baseline import respond
from synthese.config import Settings, check_settings
from synthese.distribute import (
    RETRIES,
    Endpoint,
    PoolLLM,
    ThreadMapper,
    endpoints,
    extract_batch,
    map_extraction,
)
from synthese.errors import SyntheseError
from synthese.extract import short_answer
from synthese.llm import EndpointError, LLMError, OpenAICompatibleLLM, make_llm
from synthese.runner import STAGES, close_run, execute, open_run
from synthese.segments import split_segments
from synthese.storage import Store

ANSWERS = [
    "L'IA aide à préparer les cours. Elle fait gagner du temps aux enseignants.",
    "Les élèves trichent avec ChatGPT. Il faut interdire son usage en classe.",
    "Il faut former les enseignants avant tout. Sans formation, pas de bon usage.",
    "L'IA fait gagner du temps pour préparer les cours et corriger les copies.",
    "Les élèves risquent de perdre leur esprit critique. L'IA pense à leur place.",
    "Former les enseignants est indispensable. La formation doit être concrète.",
    "La triche avec ChatGPT est massive. Les devoirs maison n'ont plus de sens.",
    "L'esprit critique des élèves est menacé par l'IA générative au lycée.",
    "L'IA permet de différencier les exercices pour les élèves en difficulté.",
    "Les données des élèves doivent être protégées. Les outils américains posent problème.",
    "Une formation continue sur l'IA serait utile à tous les professeurs.",
    "Les outils d'IA aident les élèves dys à rédiger. C'est un vrai progrès.",
    "Le ministère doit fournir des outils souverains et respectueux des données.",
    "ChatGPT rédige les rédactions à la place des élèves. Il faut revoir l'évaluation.",
]


def _asks_the_model(text: str) -> bool:
    """Whether an answer costs an extraction call (one short sentence does not)."""
    return short_answer(split_segments(text)) is None


ASKED = sum(map(_asks_the_model, ANSWERS))  # 10: four are one short sentence


def write_export(path: Path, answers: list[str] = ANSWERS) -> Path:
    lines = ["id;q"] + [f"R{i + 1:02d};{a}" for i, a in enumerate(answers)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def servers(n: int, **kw) -> list[FakeOllamaServer]:
    return [FakeOllamaServer(responder=respond, model="fake", **kw).start() for _ in range(n)]


def chat_calls(server: FakeOllamaServer) -> int:
    return len(server.calls)


def extract_only(settings: Settings, mapper=None, log=None) -> dict:
    """The stages up to the extraction, on the settings' servers; returns the records."""
    run = open_run(settings, embedder=FakeEmbedder(), log=log if log is not None else
                   (lambda m: None), progress=False, mapper=mapper)
    done: dict = {}
    try:
        for stage in STAGES[: [s.name for s in STAGES].index("extract") + 1]:
            done[stage.name] = execute(stage, run, done)
        done["stats"] = run.llm.stats.as_dict()
    finally:
        close_run(run)
    return done


def stored(db: Path) -> tuple[list, list]:
    """The extractions and arguments stored, without their dates."""
    with Store(db, read_only=True) as store:
        extractions = store.query(
            "SELECT answer_id, status, n_arguments, n_calls, call_keys FROM core.extractions "
            "ORDER BY answer_id").values.tolist()
        # a list column comes back as an array: compared as lists (an answer of one short
        # sentence has no call key, and an empty array has no truth value)
        extractions = [[*row[:4], list(row[4])] for row in extractions]
        arguments = store.query(
            "SELECT argument_id, answer_id, position, text, quote, stance FROM core.arguments "
            "ORDER BY argument_id").values.tolist()
    return extractions, arguments


def settings_for(tmp_path: Path, export: Path, hosts: list[str], backend: str = "ollama",
                 name: str = "s", **kw) -> Settings:
    return Settings(export=export, questions=("q",), id_column="id", db=tmp_path / f"{name}.duckdb",
                    out=tmp_path / "out", llm=backend, model="fake", llm_hosts=tuple(hosts),
                    pseudonymise=False, **kw)


# -- the OpenAI-compatible client (llama.cpp's server, vLLM) -----------------------------

def test_openai_compatible_client_sends_the_schema_and_reads_the_answer():
    with FakeOllamaServer(model="fake") as server:
        llm = make_llm("openai", "fake", host=server.url)
        schema = {"type": "object", "properties": {"titre": {"type": "string"}},
                  "required": ["titre"]}
        result = llm.chat([{"role": "user", "content": "Former les enseignants"}], schema=schema,
                          max_tokens=64)
        body = server.calls[-1]
        llm.close()
    assert isinstance(llm, OpenAICompatibleLLM) and llm.model_id == "openai:fake"
    assert body["response_format"]["json_schema"]["schema"] == schema
    assert body["max_tokens"] == 64 and body["temperature"] == 0.0 and body["stream"] is False
    assert result.text.startswith('{"titre"') and result.prompt_tokens > 0
    assert result.finish_reason == "stop"


def test_openai_compatible_client_names_a_missing_model_and_a_dead_server():
    with FakeOllamaServer(model="fake") as server:
        llm = make_llm("openai", "autre", host=server.url)
        with pytest.raises(SyntheseError, match="Modèle autre absent du serveur"):
            llm.model_id  # noqa: B018
        server.fail_next = 1
        with pytest.raises(EndpointError, match="a répondu 500"):
            make_llm("openai", "fake", host=server.url).chat([{"role": "user", "content": "x"}])
        url = server.url
    with pytest.raises(EndpointError, match=f"injoignable sur {url}"):
        make_llm("openai", "fake", host=url, timeout_s=2).chat([{"role": "user", "content": "x"}])


def test_a_remote_server_in_a_list_is_refused_without_allow_remote():
    with pytest.raises(SyntheseError, match="192.168.1.20:8080 refusé"):
        endpoints("openai", ["127.0.0.1:8080", "http://192.168.1.20:8080"])
    pool = endpoints("openai", ["127.0.0.1:8080", "http://192.168.1.20:8080"], allow_remote=True)
    assert [e.host for e in pool] == ["http://127.0.0.1:8080", "http://192.168.1.20:8080"]


def test_several_hosts_need_a_server_backend(tmp_path):
    export = write_export(tmp_path / "e.csv")
    with pytest.raises(SyntheseError, match="Plusieurs --llm-host avec --llm llamacpp"):
        check_settings(settings_for(tmp_path, export, ["127.0.0.1:1", "127.0.0.1:2"],
                                    backend="llamacpp"))


# -- the pool, one call at a time --------------------------------------------------------

def test_pool_goes_round_the_servers_and_retires_a_dead_one_with_one_line():
    a, b = servers(2)
    lines: list[str] = []
    pool = PoolLLM([Endpoint("ollama", a.url, "fake"), Endpoint("ollama", b.url, "fake")],
                   lines.append)
    try:
        model_id = pool.model_id
        for _ in range(4):
            pool.chat([{"role": "user", "content": "bonjour"}])
        assert (chat_calls(a), chat_calls(b)) == (2, 2)
        a.stop()
        for _ in range(4):
            pool.chat([{"role": "user", "content": "bonjour"}])
        assert chat_calls(b) == 6
        assert len(lines) == 1 and lines[0].startswith(f"Serveur de modèle {a.url} retiré après "
                                                       f"{RETRIES + 1} échecs")
        assert "ses réponses passent aux 1 autre(s) serveur(s)" in lines[0]
        b.stop()
        with pytest.raises(EndpointError, match="Aucun serveur de modèle ne répond plus"):
            pool.chat([{"role": "user", "content": "bonjour"}])
        assert model_id.startswith("ollama:fake@")
    finally:
        pool.close()
        a.stop()
        b.stop()


def test_pool_refuses_servers_that_serve_different_models():
    a = FakeOllamaServer(responder=respond, model="fake").start()
    b = FakeOllamaServer(responder=respond, model="fake").start()
    b.digest = "0" * 64  # same name, another model file
    pool = PoolLLM([Endpoint("ollama", a.url, "fake"), Endpoint("ollama", b.url, "fake")])
    try:
        with pytest.raises(SyntheseError, match="ne servent pas le même modèle"):
            pool.model_id  # noqa: B018
    finally:
        pool.close()
        a.stop()
        b.stop()


# -- the mapped extraction ---------------------------------------------------------------

@pytest.mark.parametrize("backend", ["ollama", "openai"])
def test_mapped_extraction_equals_the_sequential_one(tmp_path, backend):
    export = write_export(tmp_path / "e.csv")
    ref, a, b = servers(3)
    try:
        extract_only(settings_for(tmp_path, export, [ref.url], backend, "alone"))
        mapper = ThreadMapper(4)
        mapped = extract_only(settings_for(tmp_path, export, [a.url, b.url], backend, "mapped",
                                           batch_size=3), mapper)
        mapper.close()
    finally:
        for s in (ref, a, b):
            s.stop()
    assert stored(tmp_path / "mapped.duckdb") == stored(tmp_path / "alone.duckdb")
    assert mapped["extract"].counts["processed"] == len(ANSWERS)
    assert chat_calls(a) > 0 and chat_calls(b) > 0  # both servers worked
    assert chat_calls(a) + chat_calls(b) == chat_calls(ref) == mapped["stats"]["made"]
    with Store(tmp_path / "mapped.duckdb", read_only=True) as store:  # every call cached
        assert store.query("SELECT count(*) FROM core.llm_calls").iloc[0, 0] == chat_calls(ref)


def test_a_failing_server_is_retired_and_its_batches_go_to_the_other(tmp_path):
    export = write_export(tmp_path / "e.csv")
    ref, good, bad = servers(3)
    bad.fail_next = 10_000  # every chat call answers HTTP 500
    lines: list[str] = []
    try:
        extract_only(settings_for(tmp_path, export, [ref.url], name="alone"))
        mapper = ThreadMapper(4)
        mapped = extract_only(settings_for(tmp_path, export, [bad.url, good.url], name="mapped",
                                           batch_size=2), mapper, lines.append)
        mapper.close()
    finally:
        for s in (ref, good, bad):
            s.stop()
    assert stored(tmp_path / "mapped.duckdb") == stored(tmp_path / "alone.duckdb")
    assert mapped["extract"].counts["processed"] == len(ANSWERS)
    retired = [line for line in lines if "retiré" in line]
    assert retired == [(f"Serveur de modèle {bad.url} retiré après {RETRIES + 1} échecs de "
                        f"suite (Le serveur Ollama {bad.url} a répondu 500 à la requête de "
                        "génération : fake failure requested by the test) ; ses réponses "
                        "passent aux 1 autre(s) serveur(s).")]
    assert chat_calls(good) == chat_calls(ref)


def test_when_every_server_fails_what_was_done_is_kept_and_the_rest_is_named(tmp_path):
    export = write_export(tmp_path / "e.csv")
    a, b = servers(2)
    lines: list[str] = []
    settings = settings_for(tmp_path, export, [a.url, b.url], batch_size=2)
    try:
        run = open_run(settings, embedder=FakeEmbedder(), log=lines.append, progress=False,
                       mapper=ThreadMapper(2))
        done: dict = {}
        for stage in STAGES[:3]:
            done[stage.name] = execute(stage, run, done)
        run.llm.model_id  # noqa: B018 - known before the servers fail
        a.fail_next = b.fail_next = 10_000
        with pytest.raises(LLMError, match="Aucun serveur de modèle ne répond plus .* "
                                           "réponses restent à traiter") as caught:
            execute(STAGES[3], run, done)
        close_run(run)
    finally:
        a.stop()
        b.stop()
    # what is left is named: every answer not stored (a batch whose answers are all one
    # short sentence needs no server, and is stored)
    left = int(re.search(r"(\d+) réponses restent", str(caught.value)).group(1))
    stored_now, _ = stored(settings.db)
    assert left == len(ANSWERS) - len(stored_now) and left >= ASKED
    assert len([line for line in lines if "retiré" in line]) == 2


class KilledAfter:
    """A mapper whose run is killed (KeyboardInterrupt) once ``n`` batches came back."""

    def __init__(self, n: int) -> None:
        self.inner, self.n = ThreadMapper(1), n

    def submit(self, *args):
        return self.inner.submit(*args)

    def first_done(self, futures):
        if self.n == 0:
            raise KeyboardInterrupt
        self.n -= 1
        return self.inner.first_done(futures)


def test_a_killed_mapped_run_redoes_only_the_batches_not_stored(tmp_path):
    export = write_export(tmp_path / "e.csv")
    (server,) = servers(1)
    settings = settings_for(tmp_path, export, [server.url], batch_size=4)
    try:
        killed = KilledAfter(2)
        with pytest.raises(KeyboardInterrupt):
            extract_only(settings, killed)
        killed.inner.close()
        kept, _ = stored(settings.db)
        assert len(kept) == 8  # two batches of 4 stored
        before = chat_calls(server)
        mapper = ThreadMapper(2)
        again = extract_only(settings, mapper)
        mapper.close()
        # the calls of the batch in flight when the run was killed were not stored: redone
        assert again["stats"]["made"] == chat_calls(server) - before
        assert again["extract"].counts["processed"] == len(ANSWERS)
        done_again = {row[0] for row in stored(settings.db)[0]} - {row[0] for row in kept}
        assert len(done_again) == len(ANSWERS) - 8
        last = chat_calls(server)
        assert extract_only(settings, ThreadMapper(1))["stats"]["made"] == 0  # all stored
        assert chat_calls(server) == last
    finally:
        server.stop()


def test_extract_batch_opens_no_database_and_returns_the_rows(tmp_path, monkeypatch):
    import synthese.storage

    def no_database(*a, **k):
        raise AssertionError("a mapped task must not open the database")

    monkeypatch.setattr(synthese.storage.Store, "__init__", no_database)
    from synthese.extract import PROMPT
    from synthese.prompts import load_prompt

    (server,) = servers(1)
    try:
        model_id = make_llm("ollama", "fake", host=server.url).model_id
        out = extract_batch(Endpoint("ollama", server.url, "fake"), model_id,
                            [("a1", ANSWERS[0], "Q ?"), ("a2", ANSWERS[1], "Q ?")],
                            load_prompt(*PROMPT))
    finally:
        server.stop()
    assert [e.answer_id for e in out.extractions] == ["a1", "a2"]
    assert out.failure is None and out.left == []
    assert len(out.calls) == out.stats.made == 2
    assert {c["model_id"] for c in out.calls} == {model_id}


def test_map_extraction_keeps_at_most_the_concurrency_in_flight_per_server():
    class Counting:
        def __init__(self):
            self.inner, self.inflight, self.most = ThreadMapper(8), {}, {}

        def submit(self, fn, endpoint, *args):
            self.inflight[endpoint.host] = self.inflight.get(endpoint.host, 0) + 1
            self.most[endpoint.host] = max(self.most.get(endpoint.host, 0),
                                           self.inflight[endpoint.host])
            future = self.inner.submit(fn, endpoint, *args)
            future.host = endpoint.host
            return future

        def first_done(self, futures):
            future = self.inner.first_done(futures)
            self.inflight[future.host] -= 1
            return future

    from synthese.extract import PROMPT
    from synthese.prompts import load_prompt

    a, b = servers(2, delay=0.05)
    mapper = Counting()
    written = []
    try:
        pool = [Endpoint("ollama", a.url, "fake", concurrency=2),
                Endpoint("ollama", b.url, "fake", concurrency=1)]
        model_id = make_llm("ollama", "fake", host=a.url).model_id
        items = [(f"a{i}", text, "Q ?") for i, text in enumerate(ANSWERS)]
        map_extraction(items, pool, model_id, load_prompt(*PROMPT), mapper, written.append,
                       print, batch_size=2)
    finally:
        mapper.inner.close()
        a.stop()
        b.stop()
    assert mapper.most == {a.url: 2, b.url: 1}
    assert sorted(e.answer_id for out in written for e in out.extractions) == sorted(
        i[0] for i in items)


def test_mapped_summaries_equal_the_sequential_ones_and_are_counted_once(tmp_path):
    """With a mapper, the summaries' model calls are made by mapped tasks (one theme each)
    and stored by the run's process; the themes are then titled and summarised in order from
    the cache: the same summaries as the sequential path, each call counted once, as made."""
    from synthese.runner import run_all

    class Recording(ThreadMapper):
        def submit(self, fn, *args):
            self.sent.append(fn.__name__)
            return super().submit(fn, *args)

    export = write_export(tmp_path / "e.csv")
    ref, a, b = servers(3)
    rows, recording = {}, Recording(4)
    recording.sent = []
    try:
        for name, hosts, mapper in (("alone", [ref.url], None),
                                    ("mapped", [a.url, b.url], recording)):
            settings = Settings(
                export=export, questions=("q",), id_column="id", db=tmp_path / f"{name}.duckdb",
                out=tmp_path / f"out-{name}", llm="ollama", model="fake",
                llm_hosts=tuple(hosts), pseudonymise=False, min_cluster_size=2)
            rows[name] = run_all(settings, embedder=FakeEmbedder(), log=lambda m: None,
                                 progress=False, mapper=mapper)
            if mapper is not None:
                mapper.close()
    finally:
        for server in (ref, a, b):
            server.stop()

    def summaries(name):
        with Store(tmp_path / f"{name}.duckdb", read_only=True) as store:
            return store.query("SELECT summary_key, attempt, title, summary, failure, "
                               "CAST(call_keys AS VARCHAR) "
                               "FROM core.summaries ORDER BY summary_key").values.tolist()

    assert summaries("mapped") == summaries("alone") and len(summaries("alone")) >= 2
    # one mapped task per theme made its summary calls
    assert recording.sent.count("summarise_batch") == len(summaries("alone"))
    alone, mapped = (rows[n]["tokens"]["by_stage"]["summary"] for n in ("alone", "mapped"))
    assert mapped["calls"] == alone["calls"] > 0 and mapped["reused"] == alone["reused"] == 0
    kinds = [str(c.get("format")) for s in (a, b) for c in s.calls]
    assert sum("arguments" not in k for k in kinds) == sum(
        "arguments" not in str(c.get("format")) for c in ref.calls)
