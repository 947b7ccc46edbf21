"""Which way of calling the embedded model extracts arguments fastest, without losing recall?

The extraction stage makes one model call per answer, one after the other, with
llama.cpp's prompt-prefix cache on (the few-shot prefix is evaluated once). This script
runs the pipeline's own extraction (prompt ``extract_arguments.v1``, grammar, checks) on
the first N answers of an argument-gold dataset (../shared/data/an-egalite-dev by
default), in several ways, and scores each against the human argument lists:

- ``sequentiel``: the pipeline's way (one slot, prefix cache on);
- ``sans-cache``: the same with the prefix cache off (the few-shot prefix is re-read
  on every call);
- ``parallele-K``: K llama.cpp slots with continuous batching, K answers in flight;
- ``lot-K``: up to K short answers (<= SHORT_CHARS characters, same question) in ONE
  prompt (benchmarks/prompts/extract_arguments_batch.v1.md), their arguments returned
  under each answer's number and checked one answer at a time as the pipeline does;
  longer answers, and the answers of a batch whose output does not parse, go through the
  sequential path;
- ``sequentiel@2`` (or ``@path/to/prompt.md``): the sequential way with another version of
  the extraction prompt, to compare prompts on the same answers.

Reported per strategy: wall time, answers per minute, output tokens per answer,
aggregate output tokens per second, failed answers, arguments, recall / precision / F1
against the gold (USE embeddings, cosine >= 0.50 as in docs/benchmarks.md §3), and how
many answers got exactly the same arguments as ``sequentiel``. The load average is
printed: run it on a quiet machine.

    PYTHONPATH=src .venv/bin/python benchmarks/extraction_strategies.py -n 24 \\
        --strategy sequentiel --strategy sans-cache --strategy parallele-2 --strategy lot-3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthese.calls import CachedLLM, CallStats
from synthese.evaluate import argument_scores, load_dataset, match_threshold
from synthese.extract import (
    EXTRACTION_SCHEMA,
    Extraction,
    ExtractionOut,
    _max_tokens,
    example_arguments,
    extract_answer,
    keep_arguments,
)
from synthese.llm import LlamaCppLLM
from synthese.prompts import Prompt, load_prompt, parse_prompt

GOLD = REPO.parent / "shared" / "data" / "an-egalite-dev" / "arguments.csv"
BATCH_PROMPT = REPO / "benchmarks" / "prompts" / "extract_arguments_batch.v1.md"
SHORT_CHARS = 600
DEFAULT_QUESTION = "Que pensez-vous de cette proposition ?"


def batch_schema(k: int) -> dict:
    item = EXTRACTION_SCHEMA["properties"]["arguments"]
    return {
        "type": "object",
        "properties": {
            "reponses": {
                "type": "array", "minItems": k, "maxItems": k,
                "items": {
                    "type": "object",
                    "properties": {"numero": {"type": "integer"}, "arguments": item},
                    "required": ["numero", "arguments"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["reponses"],
        "additionalProperties": False,
    }


def prompt_of(spec: str) -> Prompt:
    """``""`` = the pipeline's v1, ``2`` = the package's v2, else a prompt file's path."""
    if not spec:
        return load_prompt("extract_arguments", 1)
    if spec.isdigit():
        return load_prompt("extract_arguments", int(spec))
    path = Path(spec)
    version = int(path.stem.rsplit(".v", 1)[-1]) if ".v" in path.stem else 0
    return parse_prompt("extract_arguments", version, path.read_text("utf-8"))


def run_sequential(llm: CachedLLM, items: list[tuple[str, str, str]], prompt: Prompt) -> list[Extraction]:
    return [extract_answer(i, text, q, llm, prompt) for i, text, q in items]


def run_parallel(base: LlamaCppLLM, items: list[tuple[str, str, str]], k: int,
                 stats: CallStats) -> list[Extraction]:
    prompt = load_prompt("extract_arguments", 1)
    per_thread = [CallStats() for _ in items]

    def one(index: int) -> Extraction:
        answer_id, text, question = items[index]
        return extract_answer(answer_id, text, question, CachedLLM(base, None, per_thread[index]), prompt)

    with ThreadPoolExecutor(max_workers=k) as pool:
        out = list(pool.map(one, range(len(items))))
    for s in per_thread:
        stats.made += s.made
        stats.prompt_tokens += s.prompt_tokens
        stats.completion_tokens += s.completion_tokens
    return out


def run_batched(llm: CachedLLM, items: list[tuple[str, str, str]], k: int) -> tuple[list[Extraction], int]:
    """Short answers k per prompt; returns the extractions and the number of batches that
    fell back to one call per answer."""
    single = load_prompt("extract_arguments", 1)
    batch_prompt = parse_prompt("extract_arguments_batch", 1, BATCH_PROMPT.read_text("utf-8"))
    examples = example_arguments(single)
    results: dict[str, Extraction] = {}
    groups: list[list[tuple[str, str, str]]] = []
    for item in items:
        if len(item[1]) > SHORT_CHARS:
            groups.append([item])
        elif groups and len(groups[-1]) < k and len(groups[-1][0][1]) <= SHORT_CHARS \
                and groups[-1][0][2] == item[2]:
            groups[-1].append(item)
        else:
            groups.append([item])
    fallbacks = 0
    for group in groups:
        if len(group) == 1:
            answer_id, text, question = group[0]
            results[answer_id] = extract_answer(answer_id, text, question, llm, single)
            continue
        numbered = "\n".join(f"[{n}] {text}" for n, (_, text, _) in enumerate(group, 1))
        messages = batch_prompt.render(question=group[0][2], answers=numbered)
        budget = sum(_max_tokens(llm, text) for _, text, _ in group)
        result = llm.chat(messages, schema=batch_schema(len(group)), max_tokens=min(4096, budget))
        try:
            entries = json.loads(result.text)["reponses"]
            parsed = [ExtractionOut.model_validate({"arguments": e["arguments"]}) for e in entries]
            if len(parsed) != len(group):
                raise ValueError("wrong number of answers")
        except (ValueError, KeyError, TypeError):
            fallbacks += 1
            for answer_id, text, question in group:
                results[answer_id] = extract_answer(answer_id, text, question, llm, single)
            continue
        for (answer_id, text, _), out in zip(group, parsed, strict=True):
            extraction = Extraction(answer_id, "processed", n_calls=1)
            keep_arguments(extraction, out.arguments, text, 0, len(text), examples)
            extraction.flags = sorted(set(extraction.flags))
            results[answer_id] = extraction
    return [results[i] for i, _, _ in items], fallbacks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="?", type=Path, default=GOLD)
    parser.add_argument("-n", type=int, default=24, help="first N answers (default 24)")
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--strategy", action="append",
                        help="sequentiel, sans-cache, parallele-K, lot-K (repeatable); "
                             "sequentiel@2 or sequentiel@FILE uses another extraction prompt")
    parser.add_argument("--out", type=Path, help="also write the table and details here (JSON)")
    args = parser.parse_args(argv)
    strategies = args.strategy or ["sequentiel", "sans-cache", "parallele-2", "lot-3"]

    dataset = load_dataset(args.gold)
    answers = dataset.answers[: args.n]
    items = [(a.id, a.text, a.question or DEFAULT_QUESTION) for a in answers]
    from synthese.embed import make_embedder

    embedder = make_embedder("use-multilingual")
    threshold = match_threshold("use-multilingual")
    gold_vecs = [embedder.embed(a.arguments) for a in answers]
    print(f"{len(items)} réponses de {args.gold.name}, modèle {args.model}, "
          f"charge avant : {os.getloadavg()[0]:.2f}", flush=True)

    rows, reference = [], None
    for strategy in strategies:
        head, _, prompt_spec = strategy.partition("@")
        name, _, k_text = head.partition("-")
        k = int(k_text) if k_text.isdigit() else 1
        llm = LlamaCppLLM(args.model, threads=args.threads, cache_prompt=(name != "sans"),
                          parallel=k if name == "parallele" else 1)
        stats = CallStats()
        cached = CachedLLM(llm, None, stats)
        load0 = os.getloadavg()[0]
        start = time.perf_counter()
        fallbacks = 0
        if name == "parallele":
            extractions = run_parallel(llm, items, k, stats)
        elif name == "lot":
            extractions, fallbacks = run_batched(cached, items, k)
        else:
            extractions = run_sequential(cached, items, prompt_of(prompt_spec))
        wall = time.perf_counter() - start
        llm.close()
        texts = [[a.text for a in e.arguments] for e in extractions]
        pred_vecs = [embedder.embed(t) if t else np.zeros((0, gold_vecs[0].shape[1]), np.float32)
                     for t in texts]
        scores = argument_scores(gold_vecs, pred_vecs, threshold)
        if reference is None:
            reference = texts
        same = sum(1 for a, b in zip(texts, reference, strict=True) if a == b)
        row = {
            "strategy": strategy, "answers": len(items), "wall_s": round(wall, 1),
            "answers_per_min": round(len(items) / wall * 60, 1), "calls": stats.made,
            "output_tokens": stats.completion_tokens, "prompt_tokens": stats.prompt_tokens,
            "output_tokens_per_answer": round(stats.completion_tokens / len(items), 1),
            "output_tok_per_s": round(stats.completion_tokens / wall, 1),
            "failed": sum(e.status == "failed" for e in extractions),
            "arguments": sum(len(t) for t in texts), "fallback_batches": fallbacks,
            "recall": round(scores.recall, 3), "precision": round(scores.precision, 3),
            "f1": round(scores.f1, 3), "same_as_first": same,
            "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2),
            "details": [{"id": e.answer_id, "status": e.status, "arguments": t}
                        for e, t in zip(extractions, texts, strict=True)],
        }
        rows.append(row)
        print(json.dumps({k2: v for k2, v in row.items() if k2 != "details"}, ensure_ascii=False),
              flush=True)

    print()
    print("| stratégie | réponses/min | jetons de sortie par réponse | jetons de sortie/s | appels | "
          "échecs | arguments | rappel | précision | F1 | mêmes arguments que la 1re |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['strategy']} | {r['answers_per_min']} | {r['output_tokens_per_answer']} | "
              f"{r['output_tok_per_s']} | {r['calls']} | {r['failed']} | {r['arguments']} | "
              f"{r['recall']:.2f} | {r['precision']:.2f} | {r['f1']:.2f} | "
              f"{r['same_as_first']}/{r['answers']} |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
