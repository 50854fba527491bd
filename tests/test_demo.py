"""The front door: `monitor demo` runs the whole pipeline offline and shows the edit."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_the_whole_pipeline(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "demo", "--dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert "crawled 5 of 5 sites: 5 new" in out
    assert "crawled 5 of 5 sites: 5 same" in out  # chrome changed, policies did not
    assert "wemet: new version 2 (MAJOR" in out
    assert "received 1 alert(s)" in out  # one Slack alert, for the edit, none for first sight
    assert "[policy change] wemet: Data recipients, Contact channels" in out
    history = out.split("$ monitor history wemet")[1].split("$ monitor diff")[0]
    assert "first version" in history and "MAJOR: " in history and "Data recipients" in history
    diff = out.split("$ monitor diff wemet")[1]
    assert "data brokers" in diff and "privacy-requests@wemet-group.example" in diff
    assert (tmp_path / "monitor.db").exists()
    assert f"--db {tmp_path / 'monitor.db'} serve" in out  # where to browse what it recorded
