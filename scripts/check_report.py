"""Open a synthese report in headless Chromium: count network requests and console errors,
and optionally save a screenshot.

    .venv/bin/python scripts/check_report.py reports/synthese-demo-enseignants-ia.html \
        --screenshot docs/report-demo.png
    .venv/bin/python scripts/check_report.py reports/synthese-demo-enseignants-ia.html \
        --screenshot docs/report-demo-synthese.png --from-id synthese --height 1700

Prints one line per finding and exits 1 when the report made a request other than its own
file, or logged an error. Chromium is Debian's (scripts/install_chromium.sh), driven with
the DevTools client of the tests (tests/cdp.py) on 127.0.0.1, and stopped by its PID.
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from cdp import Chromium, foreign_requests, page_errors  # tests/cdp.py, the DevTools client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--screenshot", type=Path, help="PNG of the top of the page")
    parser.add_argument("--height", type=int, default=1800, help="screenshot height (px)")
    parser.add_argument("--from-id", default=None,
                        help="start the screenshot at this element (e.g. synthese)")
    args = parser.parse_args(argv)
    url = args.report.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile, Chromium(Path(profile), f"1280,{args.height}") as chromium:
        s = chromium.session
        for domain in ("Page", "Network", "Runtime", "Log"):
            s.send(f"{domain}.enable")
        s.navigate(url)
        s.evaluate("new Promise(r => setTimeout(r, 500))")
        if args.screenshot:
            clip = {}
            if args.from_id:  # the page from that element down, the window's height
                top = s.evaluate(f"document.getElementById({args.from_id!r})"
                                 ".getBoundingClientRect().top + window.scrollY")
                clip = {"clip": {"x": 0, "y": top, "width": 1280, "height": args.height,
                                 "scale": 1}, "captureBeyondViewport": True}
            shot = s.send("Page.captureScreenshot", format="png", **clip)
            args.screenshot.write_bytes(base64.b64decode(shot["data"]))
            print(f"capture : {args.screenshot}")
        outside = foreign_requests(s.events, url)
        errors = page_errors(s.events)
    print(f"requêtes réseau hors du fichier : {len(outside)} ; erreurs de console : {len(errors)}")
    for u in outside:
        print(f"  requête : {u}")
    for e in errors:
        print(f"  erreur : {e['params']}")
    return 1 if outside or errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
