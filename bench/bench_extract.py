"""Print how fast extract() is: ms per page and pages/s, on one core.

    uv run python bench/bench_extract.py [--trafilatura]

Pages: a ~30 KB policy page built from a bundled sample policy inside typical chrome, and the
real pages of /work/shared/eval/dev_html when present. --trafilatura times trafilatura on the
same pages for comparison, if it is installed.
"""

from __future__ import annotations

import html
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from monitor.extract import extract

ROOT = Path(__file__).resolve().parent.parent
DEV_HTML = Path("/work/shared/eval/dev_html")


def policy_page() -> bytes:
    """A page of ~30 KB: header, nav, cookie banner, footer, scripts around a real policy."""
    lines = [line.strip() for name in ("wemet", "wigo-live")
             for line in (ROOT / f"monitor/data/policies/{name}.txt").open()]
    body = "\n".join(
        f"<h2>{html.escape(line)}</h2>" if len(line) < 90 else f"<p>{html.escape(line)}</p>"
        for line in lines if line)
    chrome_links = "".join(f'<li><a href="/p{n}">Link {n}</a></li>' for n in range(40))
    page = (
        "<!doctype html><html><head><title>Privacy</title>"
        "<script>window.dataLayer=[];</script><style>body{margin:0}</style></head><body>"
        f'<header><nav><ul>{chrome_links}</ul></nav></header><div class="container">'
        f'<div id="content"><h1>Privacy Policy</h1>{body}</div></div>'
        f'<div id="onetrust-banner-sdk"><p>We use cookies.</p><button>Accept</button></div>'
        f"<footer><ul>{chrome_links}</ul><p>© 2025 Example</p></footer></body></html>")
    return page.encode()


def best_ms(function: Callable[[], object], repeat: int = 30) -> float:
    """Median of `repeat` timed calls, after a warm-up call."""
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def report(name: str, page: bytes, extractor: Callable[[bytes], object]) -> float:
    ms = best_ms(lambda: extractor(page))
    print(f"{name:<28} {len(page) / 1024:7.1f} KB {ms:8.2f} ms/page {1000 / ms:8.0f} pages/s")
    return ms


def main() -> None:
    pages = [("synthetic policy page", policy_page())]
    pages += [(f"dev_html {path.parent.name}/{path.stem}", path.read_bytes())
              for path in sorted(DEV_HTML.glob("h*/*.html"))]
    extractors: list[tuple[str, Callable[[bytes], object]]] = [
        ("monitor.extract", lambda body: extract(body, "text/html"))]
    if "--trafilatura" in sys.argv:
        import trafilatura

        extractors.append(("trafilatura", lambda body: trafilatura.extract(body.decode())))
    for label, extractor in extractors:
        print(f"== {label}")
        times = [report(name, page, extractor) for name, page in pages]
        total_kb = sum(len(page) for _, page in pages) / 1024
        print(f"{'all pages':<28} {total_kb:7.0f} KB {statistics.mean(times):8.2f} ms/page mean "
              f"{1000 / statistics.mean(times):8.0f} pages/s")


if __name__ == "__main__":
    main()
