"""The default backend: each document judged by the backend that knows its language.

The hand-written `rules` are an English lexicon: on English policies they hold the concrete
evidence they were built for. The `learned` backend reads a statement through a model trained
on real policies' headings and through per-language data files (`monitor/data/lang/`): French,
German or any language with a data file, where the rules see almost nothing. `auto` detects the
language of the new version (stop words, `learned_lang.detect`) and hands the pair to `rules`
for English and to `learned` for every other language. Each verdict is stamped with the backend
that gave it, so `history --json` says which one judged.
"""

from __future__ import annotations

from monitor.records import Classification


class AutoClassifier:
    name = "auto"
    version = "1"

    def classify(self, before: str, after: str) -> Classification:
        from dataclasses import replace

        from monitor.classify import load
        from monitor.classify.learned_lang import detect

        judge = load("rules") if detect(after).code == "en" else load("learned")
        result = judge.classify(before, after)
        return replace(result, classifier=judge.name, classifier_version=judge.version)
