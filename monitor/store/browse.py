"""Reading the history for people: the web view (`monitor serve`), its feeds, and exports.

Every statement the web view and `monitor export` need lives here, as `Browse` methods that
answer in plain rows or typed records. `Browse` works on a store's connection
(`store.browse`) or on any SQLite connection to the same file (datasette's read-only ones).

Search: `versions_fts` is a contentless FTS5 index of version text (the text itself stays
compressed in `versions.text`; a result's text is read back from there), `findings_fts` holds
the words of each change's findings. Both are kept in step by triggers that call the SQL
functions `policy_text(blob)` and `finding_words(json)`, so every connection that writes
versions or changes registers them (`register_functions`: `Store` does, through `Browse`).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from monitor.records import Change

if TYPE_CHECKING:
    from monitor.store import Store

SEARCH_SCHEMA = (
    # contentless and detail=none: which versions hold a word, nothing more (a tenth of the
    # compressed text's size, where positions would take two thirds); phrases are not needed
    "create virtual table versions_fts using fts5(text, content='', detail=none, "
    "tokenize='unicode61 remove_diacritics 2')",
    "create virtual table findings_fts using fts5(site unindexed, text, "
    "tokenize='unicode61 remove_diacritics 2')",
    "create trigger versions_fts_insert after insert on versions begin "
    "insert into versions_fts (rowid, text) values (new.id, policy_text(new.text)); end",
    "create trigger versions_fts_delete after delete on versions begin "
    "insert into versions_fts (versions_fts, rowid, text) "
    "values ('delete', old.id, policy_text(old.text)); end",
    "create trigger versions_fts_update after update of text on versions begin "
    "insert into versions_fts (versions_fts, rowid, text) "
    "values ('delete', old.id, policy_text(old.text)); "
    "insert into versions_fts (rowid, text) values (new.id, policy_text(new.text)); end",
    "create trigger findings_fts_insert after insert on changes begin "
    "insert into findings_fts (rowid, site, text) "
    "values (new.id, new.site, finding_words(new.findings)); end",
    "create trigger findings_fts_delete after delete on changes begin "
    "delete from findings_fts where rowid = old.id; end",
    "create trigger findings_fts_update after update of findings on changes begin "
    "delete from findings_fts where rowid = old.id; "
    "insert into findings_fts (rowid, site, text) "
    "values (new.id, new.site, finding_words(new.findings)); end",
)
FAILED = ("failed", "blocked", "suspect")
# The newest change of a site that was the policy's (a technical one is our rules changing).
LAST_CHANGE = ("(select id from changes c where c.site = s.name and c.technical = 0 "
               "order by c.to_version desc limit 1)")
CATEGORY_CHANGE = ("(select id from changes c where c.site = s.name and c.technical = 0 and "
                   "exists (select 1 from json_each(c.categories) j where j.value = :category) "
                   "order by c.to_version desc limit 1)")


def policy_text(blob: bytes | str | None) -> str | None:
    """A version's stored text, decompressed (text passes through)."""
    if blob is None or isinstance(blob, str):
        return blob
    from monitor.store.codec import unpack

    return unpack(blob)


def finding_words(findings: str | None) -> str:
    """What search reads of a change's findings: category, sentences and section of each."""
    words = []
    for f in json.loads(findings or "[]"):
        words += [str(f.get("category") or "").replace("_", " "), f.get("before") or "",
                  f.get("after") or "", f.get("section") or ""]
    return "\n".join(w for w in words if w)


def register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions the search triggers (and people in datasette) use."""
    conn.create_function("policy_text", 1, policy_text, deterministic=True)
    conn.create_function("finding_words", 1, finding_words, deterministic=True)


def read_only(conn: sqlite3.Connection) -> None:
    """Refuse writes on `conn` (on top of opening it `mode=ro`): the web view's connections."""
    conn.execute("pragma query_only = 1")


# datasette's canned queries (`monitor serve`): version text in words, major changes
CANNED_QUERIES = {
    "version_text": {
        "title": "The text of a site's versions",
        "sql": "select site, number, first_seen, last_seen, policy_text(text) as text "
               "from versions where site = :site order by number desc",
    },
    "major_changes": {
        "title": "Major changes, newest first",
        "sql": "select site, from_version, to_version, at, categories, findings from changes "
               "where major = 1 and technical = 0 order by at desc limit 500",
    },
}


def search_words(text: str) -> list[str]:
    """The words of a search box as the index cuts them (letters and digits; `OR`, quotes and
    brackets are never syntax), lower-case; a word ending in `*` keeps it (a prefix)."""
    words = []
    for chunk in text.split():
        tokens = re.findall(r"\w+", chunk.lower())
        if tokens and chunk.endswith("*"):
            tokens[-1] += "*"
        words += tokens
    return words


def fts_query(text: str) -> str:
    """A search box's words as an FTS5 query: every word required, each quoted."""
    return " ".join(f'"{w.rstrip("*")}"' + ("*" if w.endswith("*") else "")
                    for w in search_words(text))


class Browse:
    """Read-only queries over one database, for the web view, its feeds and exports."""

    def __init__(self, source: Store | sqlite3.Connection) -> None:
        self.source = source
        register_functions(self.conn)

    @property
    def conn(self) -> sqlite3.Connection:
        if isinstance(self.source, sqlite3.Connection):
            return self.source
        return self.source.conn

    def _rows(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        cursor = self.conn.cursor()
        cursor.row_factory = sqlite3.Row
        return cursor.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    # --- sites ---

    def sites(self, category: str | None = None) -> list[dict[str, Any]]:
        """Every site with its run state, version count and last change (with `category`:
        only sites with a change in that category, and the newest such change), newest
        change first, then sites without one by name."""
        pick = CATEGORY_CHANGE if category else LAST_CHANGE
        rows = self._rows(
            "select s.name, s.url, s.last_fetch_at, s.last_ok_at, s.failure_streak, "
            "s.last_error, (select count(*) from versions v where v.site = s.name) as versions, "
            "c.id as change_id, c.to_version, c.from_version, c.at as change_at, c.major, "
            "c.categories, c.restores "
            f"from sites s left join changes c on c.id = {pick} "
            + ("where c.id is not null " if category else "")
            + "order by c.at is null, c.at desc, s.name",
            {"category": category})
        out = []
        for r in rows:
            row = dict(r)
            row["categories"] = json.loads(row["categories"] or "[]")
            row["major"] = None if row["major"] is None else bool(row["major"])
            out.append(row)
        return out

    def site(self, name: str) -> dict[str, Any] | None:
        row = self._one("select name, url, added_at, last_fetch_at, last_ok_at, last_change_at, "
                        "failure_streak, last_error from sites where name = ?", [name])
        return dict(row) if row else None

    def timeline(self, site: str) -> list[dict[str, Any]]:
        """The versions of `site`, newest first, each with the change that led to it."""
        rows = self._rows(
            "select v.number, v.first_seen, v.last_seen, v.size, c.id as change_id, c.at, "
            "c.major, c.categories, c.stats, c.restores, c.technical, c.incomplete "
            "from versions v left join changes c on c.site = v.site and c.to_version = v.number "
            "where v.site = ? order by v.number desc", [site])
        out = []
        for r in rows:
            row = dict(r)
            row["categories"] = json.loads(row["categories"] or "[]")
            row["stats"] = json.loads(row["stats"] or "{}")
            row["major"] = None if row["major"] is None else bool(row["major"])
            out.append(row)
        return out

    def fetch_outcomes(self, site: str, limit: int = 1000) -> list[dict[str, Any]]:
        """The newest `limit` fetches of `site` (time, outcome, status, error), newest first:
        enough to show its failures as episodes."""
        return [dict(r) for r in self._rows(
            "select id, at, outcome, status, error, url from fetches where site = ? "
            "order by id desc limit ?", [site, limit])]

    # --- versions and changes ---

    def version(self, site: str, number: int) -> dict[str, Any] | None:
        """Version `number` of `site` with its text."""
        row = self._one("select number, hash, text, size, first_seen, last_seen from versions "
                        "where site = ? and number = ?", [site, number])
        if row is None:
            return None
        return {**dict(row), "text": policy_text(row["text"])}

    def neighbours(self, site: str, number: int) -> tuple[int | None, int | None]:
        """The version numbers of `site` just before and just after `number`."""
        row = self._one("select (select max(number) from versions where site = :s and "
                        "number < :n) as before, (select min(number) from versions where "
                        "site = :s and number > :n) as after", {"s": site, "n": number})
        return (row["before"], row["after"]) if row else (None, None)

    def change(self, site: str, to_version: int) -> Change | None:
        from monitor.store import decode_change

        row = self._one("select * from changes where site = ? and to_version = ?",
                        [site, to_version])
        return decode_change(row) if row else None

    def changes(self, *, site: str | None = None, category: str | None = None,
                major: bool = False, since: str | None = None, limit: int | None = None,
                newest_first: bool = True) -> list[Change]:
        """Changes of the policies (technical ones aside), filtered."""
        return list(self.iter_changes(site=site, category=category, major=major, since=since,
                                      limit=limit, newest_first=newest_first))

    def iter_changes(self, *, site: str | None = None, category: str | None = None,
                     major: bool = False, since: str | None = None, limit: int | None = None,
                     newest_first: bool = False, technical: bool = False) -> Iterator[Change]:
        from monitor.store import decode_change

        where = ["1 = 1" if technical else "technical = 0"]
        params: dict[str, Any] = {"site": site, "category": category, "since": since,
                                  "limit": -1 if limit is None else limit}
        if site is not None:
            where.append("site = :site")
        if category is not None:
            where.append("exists (select 1 from json_each(categories) j "
                         "where j.value = :category)")
        if major:
            where.append("major = 1")
        if since is not None:
            where.append("at >= :since")
        order = "desc" if newest_first else "asc"
        # (at, id): the time order; the index on (site, to_version) serves one site's feed
        cursor = self.conn.cursor()
        cursor.row_factory = sqlite3.Row
        for row in cursor.execute(f"select * from changes where {' and '.join(where)} "
                                  f"order by at {order}, id {order} limit :limit", params):
            yield decode_change(row)

    def version_hashes(self, site: str, numbers: list[int]) -> dict[int, str]:
        """The text hash of each version number of `site` given."""
        marks = ", ".join("?" for _ in numbers)
        return {r["number"]: r["hash"] for r in self._rows(
            f"select number, hash from versions where site = ? and number in ({marks})",
            [site, *numbers])} if numbers else {}

    def iter_versions(self, site: str | None = None) -> Iterator[dict[str, Any]]:
        """Every version (of `site`), by site and number, with its text, one at a time."""
        cursor = self.conn.cursor()
        cursor.row_factory = sqlite3.Row
        sql = ("select site, number, hash, text, size, first_seen, last_seen from versions "
               + ("where site = ? " if site else "") + "order by site, number")
        for row in cursor.execute(sql, [site] if site else []):
            yield {**dict(row), "text": policy_text(row["text"])}

    # --- search ---

    def searchable(self) -> bool:
        """Whether this database has the search index (made by migration m004)."""
        return self._one("select 1 from sqlite_master where name = 'versions_fts'") is not None

    def search_findings(self, words: str, limit: int = 50) -> list[Change]:
        """Changes whose findings hold every word, best match first."""
        from monitor.store import decode_change

        query = fts_query(words)
        if not query:
            return []
        rows = self._rows("select c.* from findings_fts f join changes c on c.id = f.rowid "
                          "where findings_fts match ? order by f.rank limit ?", [query, limit])
        return [decode_change(r) for r in rows]

    def search_versions(self, words: str, limit: int = 50) -> list[dict[str, Any]]:
        """Sites whose policy text holds every word: per site the newest such version (with
        its text) and how many of its versions match, best match first."""
        query = fts_query(words)
        if not query:
            return []
        rows = self._rows(
            "with hits as (select rowid, rank from versions_fts where versions_fts match ?) "
            "select v.site, max(v.number) as number, count(*) as matches, min(h.rank) as rank "
            "from hits h join versions v on v.id = h.rowid group by v.site "
            "order by rank limit ?", [query, limit])
        out = []
        for r in rows:
            version = self.version(r["site"], r["number"])
            if version is not None:
                out.append({**version, "site": r["site"], "matches": r["matches"]})
        return out
