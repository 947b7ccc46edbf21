"""Campaign detection measured: planted near-identical answers among real Grand Débat comments.

The test set: every non-blank comment of the Grand Débat of the Métropole européenne de Lille
(``../shared/data/grand-debat-mel/raw/commentaires_debats.csv`` and
``commentaires_propositions_libres.csv``: 737 real answers), plus two planted campaigns
written for this benchmark, 24 and 20 copies of a template with the variants copies have:
typos, a sentence removed or added, a signature, case and punctuation changed, sentences
in another order. Seeded: the same set every time.

Measured for each method (campaigns.py's MinHash/LSH on character shingles, and cosine
similarity of the default embedder's answer vectors, at several thresholds):
- recall: the planted members found in a group whose majority is their own campaign;
- false groups: groups of 3 or more answers with no planted member (among real comments),
  printed in full with ``--show`` so that a person can check them by hand;
- time.
With ``--llm``, the embedded model extracts the representative of each planted campaign and
a few members, and the cost a campaign saves is reported (calls, tokens, seconds).

    flock /tmp/synthese-cpu.lock .venv/bin/python benchmarks/campaigns.py [--show] [--llm]

Results: docs/campaigns.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RAW = REPO.parent / "shared" / "data" / "grand-debat-mel" / "raw"
sys.path.insert(0, str(REPO / "src"))

from synthese.campaigns import MIN_MEMBERS, MIN_WORDS, _components, find_campaigns, normalise

TEMPLATES = [
    ("Nous, habitants du quartier, demandons le rétablissement de l'impôt sur la fortune et "
     "une taxation réelle des multinationales qui échappent à l'impôt en France. La baisse des "
     "services publics de proximité n'est pas acceptable : fermer des bureaux de poste et des "
     "trésoreries éloigne encore l'État des citoyens. Nous voulons que l'argent public serve "
     "d'abord aux écoles, aux hôpitaux et aux transports en commun. Il faut enfin associer les "
     "habitants aux décisions par des référendums locaux."),
    ("Les usagers du TER et des bus de la métropole exigent des transports en commun gratuits "
     "ou presque pour aller travailler. Le prix du carburant étrangle ceux qui n'ont pas "
     "d'autre choix que la voiture. Une vraie transition écologique commence par des trains à "
     "l'heure, des lignes de bus en soirée et des pistes cyclables sûres entre les communes. "
     "Nous refusons que la taxe carbone pèse sur les ménages modestes pendant que le kérosène "
     "reste détaxé."),
]
SIGNATURES = ["Signé : un habitant de Roubaix.", "Collectif citoyen de Villeneuve-d'Ascq.",
              "Merci de votre attention.", "Cordialement, une mère de famille."]
ADDED = ["Je partage entièrement ce texte qui circule dans mon quartier.",
         "Je reprends ici le texte de notre association.",
         "C'est urgent et tout le monde le dit autour de moi."]


def _typos(rng: random.Random, text: str, n: int) -> str:
    chars = list(text)
    for _ in range(n):
        i = rng.randrange(1, len(chars) - 1)
        if chars[i].isalpha():
            op = rng.choice(("drop", "swap", "double"))
            if op == "drop":
                del chars[i]
            elif op == "swap":
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
            else:
                chars.insert(i, chars[i])
    return "".join(chars)


def variant(rng: random.Random, template: str) -> str:
    """One pasted copy: each change drawn independently, several may apply."""
    sentences = [s.strip() for s in template.replace(". ", ".\n").split("\n") if s.strip()]
    if rng.random() < 0.3:
        del sentences[rng.randrange(len(sentences))]
    if rng.random() < 0.2:
        i = rng.randrange(len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    if rng.random() < 0.3:
        sentences.insert(0, rng.choice(ADDED))
    text = " ".join(sentences)
    if rng.random() < 0.5:
        text = _typos(rng, text, rng.randint(1, 6))
    if rng.random() < 0.2:
        text = text.lower()
    if rng.random() < 0.3:
        text += "\n" + rng.choice(SIGNATURES)
    return text


def test_set(seed: int = 14) -> tuple[pd.DataFrame, dict[str, int]]:
    """Real comments and planted copies: answer_id, text, planted (campaign number or -1)."""
    real = []
    for name in ("commentaires_debats.csv", "commentaires_propositions_libres.csv"):
        frame = pd.read_csv(RAW / name, sep=";", dtype=str)
        bodies = frame["body"].fillna("").str.strip()
        real += [(f"{name[:14]}-{i}", b) for i, b in zip(frame["id"], bodies) if b]
    rng = random.Random(seed)
    sizes = {0: 24, 1: 20}
    planted = [(f"planted-{c}-{j:02d}", variant(rng, TEMPLATES[c]), c)
               for c, n in sizes.items() for j in range(n)]
    rows = [(a, t, -1) for a, t in real] + planted
    rng.shuffle(rows)
    return pd.DataFrame(rows, columns=["answer_id", "text", "planted"]), sizes


def score(groups: list[list[str]], data: pd.DataFrame, sizes: dict[int, int]) -> dict:
    planted = dict(zip(data["answer_id"], data["planted"]))
    found = 0
    false_groups, mixed = [], 0
    for g in groups:
        labels = [planted[a] for a in g]
        own = [x for x in labels if x >= 0]
        if not own:
            false_groups.append(g)
            continue
        major = max(set(own), key=own.count)
        found += own.count(major)
        mixed += len(g) - own.count(major)
    total = sum(sizes.values())
    return {"groups": len(groups), "recall": round(found / total, 4), "found": found,
            "planted": total, "false_groups": len(false_groups),
            "answers_in_false_groups": sum(len(g) for g in false_groups),
            "other_answers_in_planted_groups": mixed, "_false": false_groups}


def closest_real_pairs(data: pd.DataFrame, n: int = 15) -> list[dict]:
    """The pairs of real comments of at least MIN_WORDS words with the most shingles in
    common (exhaustive, no sketch): what a person checks by hand (real copies, near-misses)."""
    from synthese.campaigns import jaccard, shingles

    real = data[(data["planted"] < 0)
                & data["text"].map(lambda t: len(normalise(t).split()) >= MIN_WORDS)]
    ids, texts = list(real["answer_id"]), list(real["text"])
    sets = [shingles(t) for t in texts]
    scored = []
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            if sets[i] and sets[j]:
                scored.append((jaccard(sets[i], sets[j]), i, j))
    scored.sort(reverse=True)
    return [{"jaccard": round(s, 4), "ids": [ids[i], ids[j]],
             "words": [len(normalise(texts[i]).split()), len(normalise(texts[j]).split())],
             "texts": [texts[i], texts[j]]} for s, i, j in scored[:n]]


def minhash(data: pd.DataFrame, threshold: float) -> list[list[str]]:
    found = find_campaigns(list(zip(data["answer_id"], ["q"] * len(data), data["text"])),
                           threshold=threshold)
    return [c.answer_ids for c in found]


def embedding_groups(vectors: np.ndarray, ids: list[str], threshold: float,
                     keep: np.ndarray) -> list[list[str]]:
    sims = vectors @ vectors.T
    edges = [(ids[i], ids[j]) for i, j in zip(*np.nonzero(np.triu(sims, 1) >= threshold))
             if keep[i] and keep[j]]
    return [g for g in _components(list(ids), edges) if len(g) >= MIN_MEMBERS]


def llm_cost(data: pd.DataFrame, members: int) -> dict:
    """The embedded model on each planted campaign's representative and a few members: what
    extracting every member would cost, and what extracting the representative once saves."""
    from synthese.campaigns import derive_extraction
    from synthese.extract import extract_answer
    from synthese.llm import make_llm
    from synthese.prompts import load_prompt

    llm = make_llm("llamacpp", None, threads=2)
    prompt = load_prompt("extract_arguments", 2)
    question = "Commentaire libre sur le Grand Débat"
    out = []
    for c in find_campaigns(list(zip(data["answer_id"], ["q"] * len(data), data["text"]))):
        texts = dict(zip(data["answer_id"], data["text"]))
        costs = []
        for answer_id in c.answer_ids[:members + 1]:
            before = time.perf_counter()
            extraction = extract_answer(answer_id, texts[answer_id], question, llm, prompt)
            costs.append({"answer_id": answer_id, "seconds": time.perf_counter() - before,
                          "calls": extraction.n_calls, "ideas": len(extraction.arguments)})
        rep = extract_answer(c.representative_id, c.text, question, llm, prompt)
        rows = [{"text": a.text, "kind": a.kind, "segments": a.segments, "flags": a.flags}
                for a in rep.arguments]
        started = time.perf_counter()
        derived = [derive_extraction(a, texts[a], c.text, rows) for a in c.answer_ids[1:]]
        derive_s = time.perf_counter() - started
        per_answer = float(np.mean([x["seconds"] for x in costs]))
        calls = float(np.mean([x["calls"] for x in costs]))
        out.append({
            "campaign_answers": c.n_answers, "measured_answers": len(costs),
            "model_seconds_per_answer": round(per_answer, 2),
            "model_calls_per_answer": round(calls, 2),
            "model_seconds_all_members": round(per_answer * c.n_answers, 1),
            "model_seconds_with_campaign": round(per_answer + derive_s, 1),
            "calls_saved": round(calls * (c.n_answers - 1)),
            "seconds_saved": round(per_answer * (c.n_answers - 1) - derive_s, 1),
            "derive_seconds_all_members": round(derive_s, 3),
            "ideas_per_member_model": round(float(np.mean([x["ideas"] for x in costs])), 2),
            "ideas_per_member_derived": round(float(np.mean(
                [len(d.arguments) for d in derived])), 2)})
    llm.close()
    return {"model": "qwen2.5-coder-0.5b (embedded, 2 threads)", "campaigns": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print the false groups in full")
    parser.add_argument("--llm", action="store_true", help="measure the cost saved")
    parser.add_argument("--members", type=int, default=4)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "campaigns-benchmark.json")
    args = parser.parse_args()
    data, sizes = test_set()
    real = int((data["planted"] < 0).sum())
    print(f"{len(data)} answers: {real} real Grand Débat comments, planted {sizes}")
    results: dict = {"answers": len(data), "real": real, "planted": sizes, "methods": {}}
    for threshold in (0.4, 0.5, 0.6):
        started = time.perf_counter()
        groups = minhash(data, threshold)
        s = score(groups, data, sizes) | {"seconds": round(time.perf_counter() - started, 2)}
        results["methods"][f"minhash char{5} J>={threshold}"] = s
    from synthese.embed import make_embedder

    embedder = make_embedder(None)
    started = time.perf_counter()
    vectors = embedder.embed(list(data["text"]))
    embed_s = time.perf_counter() - started
    long_enough = np.array([len(normalise(t).split()) >= MIN_WORDS for t in data["text"]])
    everyone = np.ones(len(data), dtype=bool)
    for threshold in (0.85, 0.9, 0.95):
        for keep, name in ((long_enough, f">= {MIN_WORDS} words"), (everyone, "all answers")):
            started = time.perf_counter()
            groups = embedding_groups(vectors, list(data["answer_id"]), threshold, keep)
            s = score(groups, data, sizes) | {
                "seconds": round(time.perf_counter() - started + embed_s, 2)}
            results["methods"][f"embedding {embedder.name} cos>={threshold} ({name})"] = s
    texts = dict(zip(data["answer_id"], data["text"]))
    for name, s in results["methods"].items():
        print(f"{name:70s} recall {s['recall']:.3f} ({s['found']}/{s['planted']}), "
              f"false groups {s['false_groups']} ({s['answers_in_false_groups']} answers), "
              f"others in planted groups {s['other_answers_in_planted_groups']}, "
              f"{s['seconds']} s")
        if args.show and s["_false"]:
            for g in s["_false"]:
                print("  false group:", *[f"    [{a}] {texts[a][:300]!r}" for a in g], sep="\n")
    for s in results["methods"].values():
        s["false_group_texts"] = [[texts[a][:200] for a in g] for g in s.pop("_false")][:5]
    results["closest_real_pairs"] = closest_real_pairs(data)
    print("closest pairs of real comments (Jaccard of character shingles), to check by hand:")
    for pair in results["closest_real_pairs"]:
        print(f"  {pair['jaccard']:.3f} words {pair['words']}:\n    {pair['texts'][0][:240]!r}"
              f"\n    {pair['texts'][1][:240]!r}")
    if args.llm:
        results["cost"] = llm_cost(data, args.members)
        print(json.dumps(results["cost"], indent=1, ensure_ascii=False))
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
