"""Speculative decoding with n-gram drafts (llama.cpp's ngram-simple), on the extraction.

The 0.5B's ideas often copy words of the answer, which the prompt holds: drafts looked up in
the context could let llama.cpp verify several tokens per step. This runs the pipeline's
extraction on the first N pseudonymised answers of a run's database (staging.answers, more
than 150 characters), once per setting, in a new process each, and prints seconds per
answer; the ideas of each setting are written to benchmarks/out/ for comparison with
``none``.

    PYTHONPATH=src .venv/bin/python benchmarks/speculative.py data/processed/synthese.duckdb none
    PYTHONPATH=src .venv/bin/python benchmarks/speculative.py data/processed/synthese.duckdb \\
        simple --size-n 3 --size-m 16
    PYTHONPATH=src .venv/bin/python benchmarks/speculative.py data/processed/synthese.duckdb \\
        simple --size-n 2 --size-m 6 --draft-max 6

Results: docs/benchmarks.md §5.1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

QUESTION = ("Que pensez-vous de l'usage de l'intelligence artificielle dans les établissements "
            "scolaires ?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("mode", choices=["none", "simple"])
    parser.add_argument("-n", type=int, default=25)
    parser.add_argument("--size-n", type=int, default=3)
    parser.add_argument("--size-m", type=int, default=16)
    parser.add_argument("--draft-max", type=int)
    args = parser.parse_args(argv)

    import xllamacpp

    from synthese.extract import PROMPT, extract_answer
    from synthese.llm import LlamaCppLLM
    from synthese.prompts import load_prompt
    from synthese.storage import Store

    server = xllamacpp.Server

    def with_drafts(params):  # the setting under test, on the pipeline's own parameters
        spec = params.speculative
        if args.mode == "simple":
            spec.types = [xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE]
            spec.ngram_simple.size_n, spec.ngram_simple.size_m = args.size_n, args.size_m
            if args.draft_max:
                spec.draft.n_max = args.draft_max
        return server(params)

    xllamacpp.Server = with_drafts
    store = Store(args.db, read_only=True)
    rows = store.query("SELECT answer_id, text FROM staging.answers WHERE NOT blank "
                       "AND n_chars > 150 ORDER BY answer_id LIMIT ?", [args.n])
    store.close()
    prompt = load_prompt(*PROMPT)
    ideas = {}
    with LlamaCppLLM("qwen2.5-coder-0.5b", threads=2) as llm:
        start = time.perf_counter()
        for answer_id, text in zip(rows["answer_id"], rows["text"]):
            done = extract_answer(answer_id, text, QUESTION, llm, prompt)
            ideas[answer_id] = [[a.text, a.segments] for a in done.arguments]
        elapsed = time.perf_counter() - start
    name = args.mode if args.mode == "none" else \
        f"simple-{args.size_n}-{args.size_m}-{args.draft_max or 'def'}"
    out = REPO / "benchmarks" / "out" / f"speculative-{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(ideas, ensure_ascii=False, indent=1), encoding="utf-8")
    same = ""
    base = out.with_name("speculative-none.json")
    if args.mode != "none" and base.exists():
        ref = json.loads(base.read_text(encoding="utf-8"))
        same = f" ; mêmes idées que « none » : {sum(ref.get(k) == v for k, v in ideas.items())}/{len(ideas)}"
    print(f"{name} : {len(rows)} réponses, {elapsed:.1f} s, {elapsed / len(rows):.2f} s par "
          f"réponse{same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
