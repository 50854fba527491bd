"""`monitor export`: changes (JSON Lines, CSV) and versions (Markdown files) read back equal the
store, on a database filled by the real `track`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.export import read_changes, version_file
from monitor.records import Change
from monitor.store import Store
from tests.test_web import history

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return history(tmp_path_factory.mktemp("export"))[0]


def stored(db: Path, **filters) -> list[Change]:
    store = Store(db)
    try:
        return [replace(c, id=None) for c in store.browse.iter_changes(**filters)]
    finally:
        store.close()


def run(db: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", str(db), "export", *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_changes_round_trip(db, tmp_path, fmt):
    out = tmp_path / f"changes.{fmt}"
    run(db, "changes", "--format", fmt, "-o", str(out))
    back = list(read_changes(out))
    assert back == stored(db) and len(back) == 2
    assert back[0].findings and back[0].major and back[0].categories == ("recipients",)
    assert "<script>alert(1)</script>" in back[0].findings[0].after  # text as the page said


def test_jsonl_goes_to_standard_output_one_change_a_line(db):
    lines = run(db, "changes").splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["site"], r["from_version"], r["to_version"]) for r in records] == \
        [("wemet", 1, 2), ("wemet", 2, 3)]
    assert records[1]["categories"] == ["contact"]
    assert records[1]["classifier"] == "rules"


def test_since_and_site_filter_the_changes(db, tmp_path):
    out = tmp_path / "since.jsonl"
    run(db, "changes", "--since", "2026-01-10", "-o", str(out))
    assert [c.to_version for c in read_changes(out)] == [3]
    assert stored(db, since="2026-01-10T00:00:00.000Z") == list(read_changes(out))
    assert run(db, "changes", "--site", "believe") == ""
    bad = CliRunner().invoke(main, ["--db", str(db), "export", "changes", "--since", "soon"])
    assert bad.exit_code != 0 and "--since" in bad.output
    nobody = CliRunner().invoke(main, ["--db", str(db), "export", "changes", "--site", "x"])
    assert nobody.exit_code != 0 and "no site named 'x'" in nobody.output


def test_versions_become_one_markdown_file_each_that_reads_back_the_same(db, tmp_path):
    folder = tmp_path / "dataset"
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "--db", str(db), "export",
                           "versions", str(folder)], capture_output=True, text=True,
                          timeout=60, env=os.environ)
    assert proc.returncode == 0, proc.stderr
    assert "4 version(s)" in proc.stdout
    store = Store(db)
    try:
        versions = list(store.browse.iter_versions())
        for v in versions:
            path = version_file(folder, v["site"], v["first_seen"])
            assert path.read_text(encoding="utf-8") == store.version(v["site"], v["number"]).text
    finally:
        store.close()
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*.md")) == [
        "believe/2026-01-02T10-00-00Z.md", "wemet/2026-01-01T10-00-00Z.md",
        "wemet/2026-01-08T10-00-00Z.md", "wemet/2026-01-15T10-00-00Z.md"]


def test_export_never_creates_a_database(tmp_path):
    missing = tmp_path / "none.db"
    result = CliRunner().invoke(main, ["--db", str(missing), "export", "changes"])
    assert result.exit_code != 0 and not missing.exists()
