"""`monitor extract URL|FILE`: the text that would be stored for a page, and what was dropped.

Also the check `monitor add` runs before it writes a site: one polite fetch (an honest
User-Agent, robots.txt obeyed, a timeout, no redirect into a private address of another host),
then the same extraction and plausibility rules as a crawl. Plain urllib: Scrapy and Twisted
are never imported here, so the command starts fast.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
import urllib.robotparser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from monitor.config import USER_AGENT
from monitor.errors import ExtractError, MonitorError

# The crawler's User-Agent (crawler/settings.py): the same product, the same name to servers.
ROBOTS_AGENT = "PolicyMonitor"
MAX_BYTES = 10 * 1024 * 1024  # the crawler's DOWNLOAD_MAXSIZE
MAX_REDIRECTS = 5


class FetchError(MonitorError):
    """The page could not be fetched, or may not be (robots.txt, a redirect refused)."""


@dataclass(frozen=True)
class Page:
    """One fetched (or read) page."""

    source: str  # the URL or file as given
    body: bytes
    content_type: str | None = None
    url: str | None = None  # the URL finally fetched, after redirects
    status: int | None = None


# ---------------------------------------------------------------------------------- fetching

def load(target: str, timeout: float = 30.0, *, obey_robots: bool = True) -> Page:
    """Read a file, or fetch an http(s) URL once."""
    if urllib.parse.urlsplit(target).scheme in ("http", "https"):
        return fetch(target, timeout=timeout, obey_robots=obey_robots)
    path = Path(target)
    if not path.is_file():
        raise MonitorError(f"{target}: no such file, and not an http(s) URL")
    return Page(source=target, body=path.read_bytes())


def fetch(url: str, *, timeout: float = 30.0, obey_robots: bool = True) -> Page:
    """GET `url` as the crawler would: robots.txt first, at most MAX_BYTES, redirects only
    to public addresses unless they stay on the URL's own host (which may be an intranet)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    opener = _opener(host)
    if obey_robots:
        _check_robots(opener, url, timeout)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise FetchError(f"{url} is larger than {MAX_BYTES // (1024 * 1024)} MB: "
                                 "not a policy page")
            return Page(source=url, body=body, content_type=response.headers.get("Content-Type"),
                        url=response.geturl(), status=response.status)
    except urllib.error.HTTPError as error:
        raise FetchError(f"{url} answered {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise FetchError(f"could not fetch {url}: {_reason(error.reason)}") from None
    except TimeoutError:
        raise FetchError(f"could not fetch {url}: no answer within {timeout:g} s") from None
    except OSError as error:
        raise FetchError(f"could not fetch {url}: {error}") from None


def _reason(reason: Any) -> str:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    return str(getattr(reason, "strerror", None) or reason)


def _opener(host: str) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_Redirects(host))


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows at most MAX_REDIRECTS redirects; refuses one to another host that resolves to a
    loopback, private, link-local or reserved address (a page must not make us fetch
    http://127.0.0.1/admin or a cloud metadata service)."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, host: str) -> None:
        self.host = host

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> Any:
        parts = urllib.parse.urlsplit(newurl)
        if parts.scheme not in ("http", "https"):
            raise FetchError(f"redirect to {newurl} refused: not http(s)")
        target = parts.hostname or ""
        if target != self.host and _is_internal(target):
            raise FetchError(f"redirect from {req.full_url} to {newurl} refused: {target} is a "
                             "private or local address, and not the site's own host")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _is_internal(host: str) -> bool:
    """Whether `host` resolves to an internal address (judged as the crawler judges it)."""
    from monitor.addresses import internal, resolve

    try:
        return any(internal(address) for address in resolve(host, 80))
    except OSError:
        return False  # it cannot be reached at all: the fetch itself fails and says so


def _check_robots(opener: urllib.request.OpenerDirector, url: str, timeout: float) -> None:
    """RFC 9309: rules from a 2xx answer; 4xx means no rules; 5xx or no answer means assume
    everything disallowed, for now."""
    parts = urllib.parse.urlsplit(url)
    robots = f"{parts.scheme}://{parts.netloc}/robots.txt"
    request = urllib.request.Request(robots, headers={"User-Agent": USER_AGENT})
    try:
        with opener.open(request, timeout=timeout) as response:
            lines = response.read(512 * 1024).decode("utf-8", "replace").splitlines()
    except urllib.error.HTTPError as error:
        if 400 <= error.code < 500:
            return
        raise FetchError(f"{robots} answered {error.code}: robots.txt unavailable, so the site "
                         "is treated as closed to robots for now (RFC 9309); try later") from None
    except (urllib.error.URLError, OSError) as error:
        reason = _reason(getattr(error, "reason", error))
        raise FetchError(f"could not fetch {robots}: {reason}") from None
    rules = urllib.robotparser.RobotFileParser()
    rules.parse(lines)
    if not rules.can_fetch(ROBOTS_AGENT, url):
        raise FetchError(f"robots.txt of {parts.netloc} disallows {url} for {ROBOTS_AGENT}: "
                         "the crawler will not fetch it either (with the owner's permission, "
                         "set obey_robots = false for the site)")


# ---------------------------------------------------------------------------------- checking

@dataclass(frozen=True)
class Verdict:
    """What a page would become: its text and, when it would be refused, why."""

    text: str | None
    words: int
    page_words: int  # words of the whole page (junk tags aside), for "shrank from" messages
    problem: str | None


def judge(page: Page, select: str | None = None, remove: tuple[str, ...] = ()) -> Verdict:
    """Extract `page` as a crawl would and say whether the text would become a version."""
    from monitor.extract import extract, page_words
    from monitor.plausibility import advice, assess

    where = page.url or page.source
    total = page_words(page.body, page.content_type)
    try:
        text = extract(page.body, page.content_type, select=select, remove=remove, url=where)
    except ExtractError as error:
        if select and "matches nothing" in str(error):
            return Verdict(None, 0, total, f"the selector {select!r} matches nothing on "
                                           f"{where}: {_try(where, select)}")
        return Verdict(None, 0, total, f"{error}: {_hint(where, select)}")
    words = len(text.split())
    reason = assess(text)
    if reason is None:
        return Verdict(text, words, total, None)
    if total >= 4 * max(words, 1) and total >= 80:
        problem = f"the text shrank from {total:,} to {words:,} words ({reason})"
    else:
        problem = f"{where} gives {words:,} words ({reason})"
    return Verdict(text, words, total, f"{problem}: {advice(reason, where, select)}")


def _hint(where: str, select: str | None) -> str:
    from monitor.plausibility import advice

    return advice("no text", where, select)


def _try(where: str, select: str) -> str:
    return f"try `monitor extract {where} --select '{select}'`"


def check_site(site: Any, *, force: bool = False) -> str:
    """Fetch `site` once and judge it, for `monitor add`: a note to print when it is fine,
    else MonitorError (nothing is written) unless `force`, which prints the problem and goes on."""
    if getattr(site, "render", "http") == "browser":
        return " (rendered in a browser at crawl time: not checked now)"
    try:
        page = fetch(site.url, timeout=site.timeout, obey_robots=site.obey_robots)
        verdict = judge(page, site.select, site.remove)
        problem = verdict.problem
    except FetchError as error:
        problem, verdict = str(error), None
    if problem is None and verdict is not None:
        return f" ({verdict.words:,} words: looks like a privacy policy)"
    if not force:
        raise MonitorError(f"{problem}. Nothing was written; add it anyway with --force.")
    click.secho(f"warning: {problem}", fg="yellow", err=True)
    return " (added with --force, despite the warning)"


# ---------------------------------------------------------------------------------- command

@click.command("extract")
@click.argument("target", metavar="URL|FILE")
@click.option("--select", metavar="CSS", help="CSS selector of the policy's content.")
@click.option("--remove", metavar="CSS", multiple=True, help="CSS selector to drop (repeatable).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: the text, which blocks were dropped and why, and whether the "
                   "text would be taken as a policy.")
@click.option("--timeout", type=float, default=30.0, show_default=True,
              help="Seconds to wait for the server.")
@click.option("--ignore-robots", is_flag=True, help="Fetch even if robots.txt disallows it.")
def extract(target: str, select: str | None, remove: tuple[str, ...], as_json: bool,
            timeout: float, ignore_robots: bool) -> None:
    """Print the text that would be stored for a page (a URL, fetched once, or a file).

    Try selectors here before adding a site: `--select` picks the policy's content and
    `--remove` drops parts of it, as in sites.toml. Exit status: 0 when text was extracted
    (a warning on stderr when it would not be taken as a policy), 1 when none was.
    """
    from monitor.extract import explain
    from monitor.plausibility import advice, assess

    page = load(target, timeout, obey_robots=not ignore_robots)
    where = page.url or page.source
    try:
        result = explain(page.body, page.content_type, select=select, remove=remove, url=where)
    except ExtractError as error:
        hint = _hint(where, select)
        raise ExtractError(f"{error}: {hint}") from None
    problem = assess(result.text)
    if as_json:
        click.echo(json.dumps({
            "source": page.source, "url": page.url, "status": page.status,
            "content_type": page.content_type, "kind": result.kind,
            "select": select, "remove": list(remove),
            "words": len(result.text.split()), "characters": len(result.text),
            "plausible": problem is None, "problem": problem, "fallback": result.fallback,
            "dropped": [{"element": d.element, "reason": d.reason, "words": d.words,
                         "text": d.text} for d in result.dropped],
            "text": result.text}, indent=2, ensure_ascii=False))
        return
    click.echo(result.text)
    if problem:
        click.secho(f"warning: this would not be stored as a version ({problem}): "
                    f"{advice(problem, where, select)}", fg="yellow", err=True)
    if result.fallback:
        click.echo("note: the chrome rules left no policy on this page, so they were not used",
                   err=True)
