"""The house: the same input gives the same verdict on any machine, the classifier is a seam,
the store owns every statement, and the project's modules import in one direction."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import judge
from monitor.classify import classify
from monitor.errors import ConfigError
from monitor.loopback import bundled_policies, bundled_policy
from monitor.records import Fetched
from monitor.track import track
from tests.conftest import SITE

ROOT = Path(__file__).resolve().parent.parent
WEMET = bundled_policy("wemet")

# A sitecustomize that makes the interpreter's clocks run 10x fast: every time budget would
# then be spent ten times sooner, as on a machine ten times slower.
SLOW_CLOCK = """
import time
_perf, _mono, _time = time.perf_counter, time.monotonic, time.time
_p0, _m0, _t0 = _perf(), _mono(), _time()
time.perf_counter = lambda: _p0 + (_perf() - _p0) * 10
time.monotonic = lambda: _m0 + (_mono() - _m0) * 10
time.time = lambda: _t0 + (_time() - _t0) * 10
"""


def rewrite_pair(folder: Path) -> tuple[Path, Path]:
    """A ~300 KB policy text and a rewrite of it: many statements reworded, added, removed."""
    texts = [bundled_policy(name) for name in bundled_policies()]
    before = "\n\n".join(texts * 4)
    paragraphs = before.split("\n\n")
    after = []
    for i, p in enumerate(paragraphs):
        if i % 7 == 0:
            continue  # removed
        if i % 5 == 0:
            p = p.replace("we", "the company").replace("We", "The company")
        after.append(p)
        if i % 11 == 0:
            after.append(f"We may share your device identifiers with advertising partner "
                         f"number {i} and data brokers for profiling.")
    b, a = folder / "before.md", folder / "after.md"
    b.write_text(before)
    a.write_text("\n\n".join(after))
    return b, a


def compare_json(before: Path, after: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "compare", str(before),
                           str(after), "--json"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=before.parent)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def test_the_same_pair_gives_byte_identical_json_under_load_and_with_a_slow_clock(tmp_path):
    before, after = rewrite_pair(tmp_path)
    assert len(before.read_bytes()) > 250_000
    plain = compare_json(before, after)
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])]  # a busy core
    try:
        loaded = compare_json(before, after)
    finally:
        for b in burners:
            b.kill()
            b.wait()
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "sitecustomize.py").write_text(SLOW_CLOCK)
    slow = compare_json(before, after, {"PYTHONPATH": f"{tmp_path / 'slow'}:{ROOT}"})
    assert '"major": true' in plain and '"incomplete": false' in plain
    assert '"statements_not_examined"' in plain  # the work bound was reached, not the clock
    assert plain == loaded == slow


def test_a_result_the_watchdog_cuts_says_so_and_is_stored_and_shown(store, monkeypatch,
                                                                    tmp_path):
    edited = WEMET.replace("We do not sell", "We sell") + "\nWe share data with brokers.\n"
    track(store, SITE, page(WEMET, "2026-01-01T00:00:00.000Z"))
    monkeypatch.setattr(judge, "WATCHDOG_S", 0.0)  # any judgement is now a runaway
    outcome = track(store, SITE, page(edited, "2026-01-02T00:00:00.000Z"))
    assert outcome.change and outcome.change.classification
    assert outcome.change.classification.incomplete
    stored = store.change("wemet", 2)
    assert stored and stored.classification and stored.classification.incomplete
    assert store.history("wemet")[-1]["incomplete"] is True


def test_a_second_backend_is_chosen_by_a_setting_and_recorded_with_each_change(store, tmp_path):
    dated = WEMET.replace("Last updated", "Last updated: 2 March 2026.", 1) \
        if "Last updated" in WEMET else WEMET + "\nLast updated: 2 March 2026.\n"
    track(store, SITE, page(WEMET, "2026-01-01T00:00:00.000Z"))
    rules = track(store, SITE, page(dated, "2026-01-02T00:00:00.000Z"))
    anyword = track(store, SITE, page(WEMET, "2026-01-03T00:00:00.000Z"), classifier="anyword")
    assert rules.change and anyword.change
    assert rules.change.classification and rules.change.classification.classifier == "rules"
    assert rules.change.major is False  # a date is cosmetic to the rules
    assert anyword.change.classification and anyword.change.major is True
    assert anyword.change.classification.classifier == "anyword"
    history = store.history("wemet")
    assert [(e.get("classifier"), e.get("classifier_version")) for e in history[1:]] == \
        [("rules", "1.0"), ("anyword", "1")]


def test_sites_toml_names_the_backend_and_history_json_shows_it(server, monitor):
    from monitor.loopback import Page

    server.site["/privacy"] = Page(text=WEMET)
    monitor.sites(("wemet", f"{server.url}/privacy"),
                  extra='[classifier]\nbackend = "anyword"\n\n')
    monitor.crawl()
    server.site["/privacy"] = Page(text=WEMET + "\nOne more sentence about nothing much.\n")
    monitor.crawl()
    last = monitor.history("wemet")[-1]
    assert last["classifier"] == "anyword" and last["classifier_version"] == "1"
    assert last["major"] is True
    shown = monitor("diff", "wemet").stdout
    assert "anyword" in shown


def test_an_unknown_backend_is_a_clear_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown classifier backend 'nope'"):
        classify("a", "b", backend="nope")


def page(text: str, at: str) -> Fetched:
    return Fetched(site="wemet", url=SITE.url, at=at, final_url=SITE.url, status=200,
                   body=f"<html><body><main>{text}</main></body></html>".encode(),
                   content_type="text/html; charset=utf-8")


# --- one owner for every statement, arrows that run down ---

SQL = re.compile(r"\b(SELECT\b.*\bFROM|INSERT (OR [A-Z]+ )?INTO|DELETE FROM|UPDATE [a-z_]+ SET)\b"
                 r"|\.(execute|executemany|query)\(", re.I)


def test_no_sql_outside_the_store():
    offenders = [f"{p.relative_to(ROOT)}:{n}" for folder in ("monitor", "crawler")
                 for p in sorted((ROOT / folder).rglob("*.py"))
                 if "store" not in p.relative_to(ROOT).parts
                 for n, line in enumerate(p.read_text().splitlines(), 1) if SQL.search(line)]
    assert offenders == []


def imports_of(path: Path, module: str) -> set[str]:
    """Project modules `path` imports, at any depth (lazy imports count), type-only aside."""
    tree = ast.parse(path.read_text())
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
            and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m.split(".")[0] in ("monitor", "crawler") and m != module}


def test_no_import_circle_among_the_projects_modules():
    files = {}
    for folder in ("monitor", "crawler"):
        for p in (ROOT / folder).rglob("*.py"):
            parts = p.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            files[name] = p
    graph = {m: {i for i in imports_of(p, m) if i in files} for m, p in files.items()}
    # a package's own __init__ importing its submodules is how packages work: not a circle
    graph = {m: {i for i in deps if not i.startswith(m + ".")} for m, deps in graph.items()}
    circles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    circles.append(" -> ".join([*path, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    assert circles == []


def test_compare_takes_a_sites_selectors(tmp_path):
    page = "<html><body><main><h1>Privacy</h1>{}</main></body></html>"
    body = "".join(f"<p>{line}</p>" for line in WEMET.splitlines() if line.strip())
    before, after = tmp_path / "a.html", tmp_path / "b.html"
    before.write_text(page.format(body))
    after.write_text(page.format(body + "<p class='x-note'>We sell your data to brokers.</p>"))
    cmd = [sys.executable, "-m", "monitor.cli", "compare", str(before), str(after), "--json"]
    seen = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert seen.returncode == 1 and '"recipients"' in seen.stdout
    for rules in (["--remove", ".x-note"], ["--select", "main > h1, main > p:not(.x-note)"]):
        hidden = subprocess.run([*cmd, *rules], capture_output=True, text=True, timeout=60,
                                cwd=tmp_path)
        assert hidden.returncode == 0 and '"major": false' in hidden.stdout, rules


def test_auto_hands_english_to_the_rules_and_other_languages_to_the_learned_backend():
    cases = Path(__file__).parent / "data" / "learned"
    for case, backend in (("en_sharing_added", "rules"), ("fr_retention", "learned"),
                          ("de_retention", "learned")):
        before, after = ((cases / case / f).read_text() for f in ("before.md", "after.md"))
        result = classify(before, after, backend="auto")
        assert result.classifier == backend, case
        assert result.major and "retention" in result.categories or case.startswith("en")
