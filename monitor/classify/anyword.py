"""The simplest backend: any word added or removed is a major change, of no category.

What a plain page-change monitor does. Useful as a baseline to compare against, and as proof
that the classifier seam takes any backend (`[classifier] backend = "anyword"`).
"""

from __future__ import annotations

from monitor.records import Classification, Finding


class AnyWordClassifier:
    name = "anyword"
    version = "1"

    def classify(self, before: str, after: str) -> Classification:
        from monitor.differ import align, word_counts

        al = align(before, after)
        counts = word_counts(al.hunks)
        findings = tuple(
            Finding("", "changed", " ".join(u.text for u in h.removed),
                    " ".join(u.text for u in h.added), (h.added or h.removed)[0].section)
            for h in al.hunks
        )
        major = bool(counts.get("words_added") or counts.get("words_removed"))
        return Classification(major=major, categories=(), findings=findings if major else (),
                              stats=counts)
