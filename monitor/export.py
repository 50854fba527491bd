"""Exports for people and their tools: changes as JSON Lines or CSV, versions as Markdown files.

    changes   one record a change of a policy (technical ones aside), oldest first:
              site, from_version, to_version, at, major, categories, findings, ignored, stats,
              restores, classifier, classifier_version, incomplete
    versions  DIR/<site>/<first seen>.md, one file a version holding its exact text (the layout
              of Open Terms Archive's datasets); the time is `YYYY-MM-DDTHH-MM-SSZ`, file-safe

`read_changes` reads either format back into `Change` records, so an export round-trips.
The store streams rows (`Browse.iter_changes`, `Browse.iter_versions`): memory stays flat
whatever the history's size.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from monitor.records import Change, Classification

FIELDS = ("site", "from_version", "to_version", "at", "major", "categories", "findings",
          "ignored", "stats", "restores", "classifier", "classifier_version", "incomplete")
JSON_CELLS = ("findings", "ignored", "stats")  # CSV cells holding JSON


def change_record(change: Change) -> dict[str, Any]:
    """One change as plain data (the JSON Lines record; CSV flattens it)."""
    c = change.classification
    data = c.to_dict() if c else {"major": None, "categories": [], "findings": [],
                                   "ignored": [], "stats": {}, "classifier": None,
                                   "classifier_version": None, "incomplete": False}
    return {"site": change.site, "from_version": change.from_version,
            "to_version": change.to_version, "at": change.at, **data,
            "restores": change.restores}


def record_change(record: dict[str, Any]) -> Change:
    """The `Change` a record stands for (its stored id is not exported)."""
    classification = None
    if record.get("major") is not None:
        classification = Classification.from_dict(record)
    return Change(site=record["site"], from_version=int(record["from_version"]),
                  to_version=int(record["to_version"]), at=record["at"],
                  classification=classification, restores=record.get("restores"))


def write_jsonl(changes: Iterable[Change], out: IO[str]) -> int:
    n = 0
    for change in changes:
        out.write(json.dumps({k: change_record(change)[k] for k in FIELDS},
                             ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(changes: Iterable[Change], out: IO[str]) -> int:
    """CSV: categories joined by ';', findings, ignored and stats as JSON, major as 1/0
    (empty when not classified), incomplete as 1/0."""
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for change in changes:
        r = change_record(change)
        writer.writerow({**r, "major": "" if r["major"] is None else int(r["major"]),
                         "categories": ";".join(r["categories"]),
                         "restores": "" if r["restores"] is None else r["restores"],
                         "incomplete": int(r["incomplete"]),
                         "classifier": r["classifier"] or "",
                         "classifier_version": r["classifier_version"] or "",
                         **{k: json.dumps(r[k], ensure_ascii=False) for k in JSON_CELLS}})
        n += 1
    return n


def read_changes(path: Path) -> Iterator[Change]:
    """Changes back from an export (`.csv`, else JSON Lines)."""
    with path.open(encoding="utf-8", newline="") as f:
        if path.suffix == ".csv":
            for row in csv.DictReader(f):
                yield record_change({
                    **row, "major": None if row["major"] == "" else row["major"] == "1",
                    "categories": [c for c in row["categories"].split(";") if c],
                    "restores": int(row["restores"]) if row["restores"] else None,
                    "incomplete": row["incomplete"] == "1",
                    **{k: json.loads(row[k]) for k in JSON_CELLS}})
        else:
            for line in f:
                if line.strip():
                    yield record_change(json.loads(line))


def version_file(folder: Path, site: str, first_seen: str) -> Path:
    """DIR/<site>/<first seen, file-safe>.md: '2026-01-08T10:00:00.000Z' -> 2026-01-08T10-00-00Z"""
    stamp = first_seen[:19].replace(":", "-") + "Z"
    return folder / site / f"{stamp}.md"


def write_versions(versions: Iterable[dict[str, Any]], folder: Path) -> int:
    """One Markdown file a version; two versions first seen in the same second get `-N`."""
    written: set[Path] = set()
    for v in versions:
        path = version_file(folder, v["site"], v["first_seen"])
        if path in written:  # first seen in the same second as another: keep both
            path = path.with_name(f"{path.stem}-{v['number']}.md")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(v["text"], encoding="utf-8", newline="")
        written.add(path)
    return len(written)
