"""A person's review of the demo, as a new user would do it in `synthese revue`, driven in
headless Chromium; saves the screenshots of docs/review.md and prints the time of each action.

    .venv/bin/python scripts/revue_demo.py --rename 0 "Titre choisi" --merge 3 7 --split 2 \
        --hide 5 --shots docs
    .venv/bin/python scripts/revue_demo.py --kind 16 condition --kind 8 opportunite \
        --recompose --print-synthesis

It works on a copy of the demo database (``--db``, by default data/processed/synthese.duckdb)
in a temporary folder, so the demo itself stays unreviewed; the report it writes again is
in that folder. `synthese revue` runs as a user starts it (real embedder for the support of
edited sentences), on 127.0.0.1, and is stopped by its PID, as is Chromium.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from cdp import Chromium  # tests/cdp.py, the DevTools client

WHO = "Claire Inspectrice"


def submit(s, form_js: str, fields_js: str = "", button: str = "") -> tuple[str, float]:
    since, start = len(s.events), time.monotonic()
    s.evaluate(f"""(() => {{ const f = {form_js};
        if (!f) throw new Error('formulaire introuvable');
        {fields_js}
        f.requestSubmit({f"f.querySelector('button[value={button}]')" if button else ""}); }})()""")
    s.wait_for("Page.loadEventFired", since=since, timeout=300)
    message = s.evaluate("(document.getElementById('message') || {}).textContent || ''")
    return message, time.monotonic() - start


def form(cid: int, action: str) -> str:
    return f"document.querySelector('article[data-cluster=\"{cid}\"] form[data-action=\"{action}\"]')"


def shot(s, path: Path, selector: str | None = None, height: int = 1400) -> None:
    clip = None
    if selector:
        box = s.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                         "e.querySelectorAll('details').forEach(d => d.open = true);"
                         "const r = e.getBoundingClientRect(); return [r.x, r.y + scrollY, "
                         "r.width, r.height]; })()")
        clip = {"x": box[0], "y": box[1], "width": box[2], "height": min(box[3], height),
                "scale": 1}
    shot = s.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                  **({"clip": clip} if clip else {}))
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"capture : {path}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", type=Path, default=REPO / "data/processed/synthese.duckdb")
    p.add_argument("--rename", nargs=2, metavar=("CLUSTER", "TITLE"))
    p.add_argument("--merge", nargs=2, type=int, metavar=("INTO", "OTHER"))
    p.add_argument("--split", type=int, metavar="CLUSTER", help="its 2 first arguments")
    p.add_argument("--split-title", default="Gagner du temps pour préparer les cours")
    p.add_argument("--hide", type=int, metavar="CLUSTER", help="its first argument")
    p.add_argument("--kind", nargs=2, action="append", metavar=("CLUSTER", "KIND"),
                   help="give all the theme's arguments this kind (repeatable)")
    p.add_argument("--recompose", action="store_true",
                   help="recompose (or regenerate) the synthesis after the theme actions")
    p.add_argument("--print-synthesis", action="store_true",
                   help="print the reviewed synthesis at the end")
    p.add_argument("--sentence", default="Une partie des enseignants dit gagner du temps pour "
                   "préparer les cours, sans déléguer l'évaluation.")
    p.add_argument("--sentence-at", type=int, default=0,
                   help="which sentence of « Opportunités » to edit (0: the first)")
    p.add_argument("--shots", type=Path, help="folder of the screenshots")
    p.add_argument("--shot-theme", type=int, metavar="CLUSTER",
                   help="the theme of revue-themes.png (by default the split one, or the first)")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="revue-demo-"))
    shutil.copy(args.db, work / "s.duckdb")
    proc = subprocess.Popen([str(REPO / ".venv/bin/synthese"), "revue", "--db", "s.duckdb"],
                            cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        while url is None:
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("synthese revue s'est arrêté")
            if found := re.search(r"http://\S+", line):
                url = found.group(0)
        time.sleep(1)
        with tempfile.TemporaryDirectory() as profile, Chromium(Path(profile), "1280,1400") as ch:
            s = ch.session
            for domain in ("Page", "Runtime"):
                s.send(f"{domain}.enable")
            s.navigate(url)
            steps = [("nom", "document.getElementById('form-nom')",
                      f"f.querySelector('#nom').value = {json.dumps(WHO)};", "")]
            if args.rename:
                steps.append(("renommer", form(int(args.rename[0]), "rename"),
                              (f"f.querySelector('input[name=title]').value = "
                              f"{json.dumps(args.rename[1])};"), ""))
            if args.merge:
                steps.append(("fusionner", form(args.merge[0], "merge"),
                              f"f.querySelector('select[name=other]').value = '{args.merge[1]}';",
                              ""))
            checks = ("[...f.querySelectorAll('input[name=argument_ids]')].slice(0, {n})"
                      ".forEach(c => c.checked = true);")
            if args.split is not None:
                steps.append(("scinder", form(args.split, "arguments"), checks.format(n=2)
                              + f"f.querySelector('input[name=title]').value = "
                              f"{json.dumps(args.split_title)};", "split"))
            if args.hide is not None:
                steps.append(("masquer", form(args.hide, "arguments"), checks.format(n=1)
                              + "f.querySelector('select[name=reason]').value = 'hors_sujet';",
                              "hide"))
            for cid, kind in args.kind or []:
                steps.append((f"nature du thème {cid} : {kind}", form(int(cid), "kind-theme"),
                              f"f.querySelector('select[name=kind]').value = '{kind}';", ""))
            if args.recompose:
                steps.append(("recomposer la synthèse", ("document.querySelector("
                              "'form[data-action=\"regenerate_synthesis\"]')"), "", ""))
            steps.append(("modifier une phrase",
                          ("document.querySelectorAll('#synthese-opportunites form"
                          f"[data-action=\"edit_sentence\"]')[{args.sentence_at}]"),
                          f"f.querySelector('textarea').value = {json.dumps(args.sentence)};", ""))
            for name, js, fields, button in steps:
                message, seconds = submit(s, js, fields, button)
                print(f"{name} : {message} ({seconds:.1f} s)")
            ids = s.evaluate("[...document.querySelectorAll('form[data-action=validate_theme] "
                             "input[name=cluster_id]')].map(i => i.value)")
            start = time.monotonic()
            for cid in ids:
                submit(s, form(int(cid), "validate_theme"))
            print(f"valider {len(ids)} thèmes : {time.monotonic() - start:.1f} s")
            message, seconds = submit(s, "document.querySelector('#valider-synthese')")
            print(f"valider la synthèse : {message} ({seconds:.1f} s)")
            print(s.evaluate("document.getElementById('validation').textContent"))
            if args.shots:
                args.shots.mkdir(parents=True, exist_ok=True)
                shot(s, args.shots / "revue-page.png", "body", 1400)
                first = (args.shot_theme if args.shot_theme is not None
                         else args.split if args.split is not None else int(ids[0]))
                shot(s, args.shots / "revue-themes.png", f"article[data-cluster=\"{first}\"]", 1300)
                s.navigate(url + "rapport")
                shot(s, args.shots / "report-reviewed.png", "body", 1600)
        print(f"base relue : {work / 's.duckdb'}")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    if args.print_synthesis:
        import duckdb

        with duckdb.connect(str(work / "s.duckdb"), read_only=True) as con:
            for section, text in con.sql(
                    "SELECT section, text FROM marts.synthesis_sentences WHERE reviewed "
                    "ORDER BY section, paragraph, position").fetchall():
                print(f"{section} | {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
