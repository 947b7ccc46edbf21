"""How fast is the embedded LLM on real French answers? Sequential extraction-like calls.

For each model, N real comments of the Grand Débat (Métropole Européenne de Lille) go
through a short argument-extraction prompt (a shared few-shot prefix, then the answer)
with a JSON schema, one call after the other, as the extract stage does:

    /work/main/.venv/bin/python benchmarks/llm_throughput.py --model qwen2.5-coder-0.5b -n 8
    ... --model qwen2.5-coder-1.5b --threads 1 --no-cache-compare --fetch

Reported per run: load time, answers per minute, output tokens/s (generation), prompt
tokens/s (tokens llama.cpp actually evaluated, cached prefix excluded), mean output tokens
per answer, share of answers cut at max_tokens and share that parse as JSON. With the
prefix-cache comparison on (default), each model also runs once with the prompt cache off.
Timings are wall-clock on whatever else the machine is doing: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
COMMENTS = REPO.parent / "shared" / "data" / "grand-debat-mel" / "raw" / "commentaires_debats.csv"
sys.path.insert(0, str(REPO / "src"))

from synthese.llm import LlamaCppLLM
from synthese.models import DEFAULT_MODEL, MODELS, fetch_model

SYSTEM = """Tu analyses les réponses libres d'une consultation publique.
Pour la réponse donnée, extrais chaque argument distinct : une phrase courte, fidèle au texte,
sans rien inventer. Indique pour chacun son type : « proposition », « constat » ou « critique ».
Réponds uniquement en JSON.

Exemple 1
Réponse : « Il faut baisser les salaires des élus. Les impôts sont trop lourds pour les classes
moyennes. »
JSON : {"arguments": [{"texte": "Baisser les salaires des élus", "type": "proposition"},
{"texte": "Les impôts pèsent trop sur les classes moyennes", "type": "constat"}]}

Exemple 2
Réponse : « Le référendum d'initiative citoyenne permettrait aux citoyens d'être écoutés, car les
députés ne nous représentent plus. »
JSON : {"arguments": [{"texte": "Instaurer le référendum d'initiative citoyenne",
"type": "proposition"}, {"texte": "Les députés ne représentent plus les citoyens",
"type": "critique"}]}
"""

SCHEMA = {
    "type": "object",
    "properties": {
        "arguments": {
            "type": "array",
            "maxItems": 6,
            "items": {
                "type": "object",
                "properties": {
                    "texte": {"type": "string"},
                    "type": {"type": "string", "enum": ["proposition", "constat", "critique"]},
                },
                "required": ["texte", "type"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["arguments"],
    "additionalProperties": False,
}


def load_answers(n: int, max_chars: int = 1200) -> list[str]:
    """The first ``n`` comments of at least 80 characters, in file order (deterministic)."""
    df = pd.read_csv(COMMENTS, sep=";", dtype=str)
    bodies = df["body"].fillna("").str.strip()
    bodies = bodies[bodies.str.len() >= 80]
    return [body[:max_chars] for body in bodies.head(n)]


def run(model: str, answers: list[str], *, threads: int, max_tokens: int, cache: bool) -> dict:
    start = time.perf_counter()
    llm = LlamaCppLLM(model, context_size=4096, threads=threads, cache_prompt=cache)
    load_s = time.perf_counter() - start
    rows = []
    texts: list[str] = []
    try:
        for answer in answers:
            messages = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Réponse : « {answer} »"},
            ]
            result = llm.chat(messages, schema=SCHEMA, max_tokens=max_tokens)
            try:
                json.loads(result.text)
                valid = True
            except ValueError:
                valid = False
            rows.append((result, dict(llm.last_timings), valid))
            texts.append(result.text)
    finally:
        llm.close()
    wall = sum(r.duration_s for r, _, _ in rows)
    prompt_n = sum(t.get("prompt_n", 0) for _, t, _ in rows)
    prompt_ms = sum(t.get("prompt_ms", 0.0) for _, t, _ in rows)
    predicted_n = sum(t.get("predicted_n", 0) for _, t, _ in rows)
    predicted_ms = sum(t.get("predicted_ms", 0.0) for _, t, _ in rows)
    return {
        "model": model,
        "threads": threads,
        "prefix cache": "on" if cache else "off",
        "load s": load_s,
        "answers": len(rows),
        "answers/min": 60 * len(rows) / wall if wall else 0.0,
        "output tok/s": 1000 * predicted_n / predicted_ms if predicted_ms else 0.0,
        "prompt tok/s": 1000 * prompt_n / prompt_ms if prompt_ms else 0.0,
        "prompt tokens (evaluated/total)": (
            f"{prompt_n}/{sum(r.prompt_tokens for r, _, _ in rows)}"
        ),
        "mean output tokens": sum(r.completion_tokens for r, _, _ in rows) / max(len(rows), 1),
        "cut at max_tokens": sum(r.finish_reason == "length" for r, _, _ in rows),
        "valid JSON": sum(v for _, _, v in rows),
        "texts": texts,
    }


def markdown(results: list[dict]) -> str:
    columns = list(dict.fromkeys(key for row in results for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in results:
        values = [row.get(column, "") for column in columns]
        cells = [f"{v:.1f}" if isinstance(v, float) else str(v) for v in values]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", choices=sorted(MODELS), default=None)
    parser.add_argument("-n", type=int, default=8, help="number of answers (default 8)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument(
        "--no-cache-compare",
        action="store_true",
        help="skip the second run with the prompt-prefix cache off",
    )
    parser.add_argument("--fetch", action="store_true", help="fetch models not in the cache")
    args = parser.parse_args(argv)

    answers = load_answers(args.n)
    results = []
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    for model in args.model or [DEFAULT_MODEL]:
        if args.fetch:
            fetch_model(model, progress=lambda m: print(m, file=sys.stderr))
        for cache in (True,) if args.no_cache_compare else (True, False):
            row = run(model, answers, threads=args.threads, max_tokens=args.max_tokens, cache=cache)
            texts = row.pop("texts")
            if cache:
                reference = texts
            else:
                # Prefix caching changes batch shapes; greedy output should not change.
                same = sum(a == b for a, b in zip(texts, reference, strict=True))
                row["same text as cache on"] = f"{same}/{len(texts)}"
            print(json.dumps({**row, "texts": texts}, ensure_ascii=False), file=sys.stderr)
            results.append(row)
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
