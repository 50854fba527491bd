"""Classifiers: a small protocol, and a setting that names the backend.

A backend is any object with a `name`, a `version` and `classify(before, after) ->
Classification` (see `monitor.records`). It is chosen the way Scrapy picks `HTTPCACHE_STORAGE`:
by a setting (`[classifier] backend` in sites.toml, `--classifier` on the command line, or
$MONITOR_CLASSIFIER) holding a short name from BACKENDS or an import path
`package.module:Class`. The name and version of the backend are stored with every change.

Backends bound their work by work done (statements examined), never by the clock, so the same
pair gives the same verdict on any machine. `classify` adds the stamp (name, version) and turns
a backend that fails into a major, unclassified verdict: a missed edit is the worst outcome.
"""

from __future__ import annotations

import importlib
import logging
import os
from functools import cache
from typing import Protocol, runtime_checkable

from monitor.errors import ConfigError
from monitor.records import Classification

log = logging.getLogger(__name__)

BACKENDS = {
    "rules": "monitor.classify.rules:RulesClassifier",
    "anyword": "monitor.classify.anyword:AnyWordClassifier",
    "learned": "monitor.classify.learned:LearnedClassifier",
    "auto": "monitor.classify.auto:AutoClassifier",
}
DEFAULT = "auto"  # rules for English, learned for other languages (see monitor.classify.auto)


@runtime_checkable
class Classifier(Protocol):
    """What a classifier backend is: a name, a version, and a verdict on a pair of texts."""

    name: str
    version: str

    def classify(self, before: str, after: str) -> Classification: ...


def backend_name(name: str | None = None) -> str:
    """The backend asked for: `name`, else $MONITOR_CLASSIFIER, else the default."""
    return name or os.environ.get("MONITOR_CLASSIFIER") or DEFAULT


@cache
def load(name: str | None = None) -> Classifier:
    """The backend called `name` (a key of BACKENDS or 'package.module:Class'), built once."""
    name = backend_name(name)
    path = BACKENDS.get(name, name)
    module_name, _, attr = path.partition(":")
    if not attr:
        known = ", ".join(sorted(BACKENDS))
        raise ConfigError(f"unknown classifier backend {name!r} (known: {known}, "
                          "or an import path 'package.module:Class')", key="classifier.backend")
    try:
        backend = getattr(importlib.import_module(module_name), attr)()
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"cannot load classifier backend {name!r}: {e}",
                          key="classifier.backend") from None
    if not isinstance(backend, Classifier):
        raise ConfigError(f"{path} is no classifier (needs name, version and classify)",
                          key="classifier.backend")
    return backend


def classify(before: str, after: str, backend: str | None = None) -> Classification:
    """The verdict of `backend` (default: the configured one) on `before` -> `after`,
    stamped with the backend's name and version."""
    judge = load(backend)
    result = judge.classify(before, after)
    return stamp(result, judge)


def classify_safely(before: str, after: str, backend: str | None = None) -> Classification:
    """`classify`, except that a failing backend gives a major, unclassified verdict (with the
    error in its stats) so that the change is still recorded and a person looks."""
    try:
        return classify(before, after, backend)
    except ConfigError:
        raise
    except Exception as e:
        log.exception("the classifier failed; recording the change as major, unclassified")
        judge = load(backend)
        return Classification(major=True, categories=(), findings=(), ignored=(),
                              stats={"error": f"classifier failed: {e!r}"},
                              classifier=judge.name, classifier_version=judge.version)


def stamp(result: Classification, judge: Classifier) -> Classification:
    """The verdict with who gave it (a backend that hands pairs on, as `auto` does, stamps the
    one that judged)."""
    from dataclasses import replace

    if result.classifier:
        return result
    return replace(result, classifier=judge.name, classifier_version=judge.version)
