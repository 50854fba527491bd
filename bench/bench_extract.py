"""Print how fast extract() is: ms per page and pages/s, on one core.

    uv run python bench/bench_extract.py [--trafilatura]

Pages: a ~30 KB policy page built from a bundled sample policy inside typical chrome, the real
pages of /work/shared/eval/dev_html and dev_extract when present, and hostile pages (deep
nesting, a PDF that repeats its text) that must be handled in bounded time. The figure to
watch is "ms per 50 KB". --trafilatura times trafilatura on the same pages for comparison, if
it is installed.
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
DEV_EXTRACT = Path("/work/shared/eval/dev_extract")


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


def report(name: str, page: bytes, extractor: Callable[[bytes], object],
           repeat: int = 30) -> float:
    ms = best_ms(lambda: extractor(page), repeat)
    print(f"{name:<28} {len(page) / 1024:7.1f} KB {ms:8.2f} ms/page {1000 / ms:8.0f} pages/s")
    return ms


def hostile() -> list[tuple[str, bytes]]:
    """Pages that must not crash nor hang: 5,000 nested elements, a 1 KB PDF of 300,000
    characters, a 3 KB PDF drawing its text 100,000 times (both refused)."""
    sys.path.insert(0, str(ROOT))
    from tests.test_extract import amplified_pdf

    para = "<p>We collect personal data to provide the service and keep it two years.</p>"
    nested = "<html><body>" + ("<div>" + para) * 5000 + "</div>" * 5000 + "</body></html>"
    return [("5,000 nested divs", nested.encode()),
            ("pdf: text repeated (refused)", amplified_pdf(1500)),
            ("pdf: 100,000 forms (refused)", amplified_pdf(100_000))]


def refusing(extractor: Callable[[bytes], object]) -> Callable[[bytes], object]:
    def run(body: bytes) -> object:
        try:
            return extractor(body)
        except Exception as error:  # the refusal is what is timed
            return error
    return run


def main() -> None:
    pages = [("synthetic policy page", policy_page())]
    pages += [(f"dev_html {path.parent.name}/{path.stem}", path.read_bytes())
              for path in sorted(DEV_HTML.glob("h*/*.html"))]
    pages += [(f"dev_extract {path.parent.name}", path.read_bytes())
              for path in sorted(DEV_EXTRACT.glob("x*/page.html"))]
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
        print(f"{'ms per 50 KB':<28} {50 * sum(times) / total_kb:7.2f} (total time / total size)")
    print("== hostile pages, monitor.extract")
    for name, page in hostile():
        report(name, page, refusing(lambda body: extract(body)), repeat=3)


if __name__ == "__main__":
    main()
