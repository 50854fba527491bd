"""Hardening (issue 10), each through real parts on loopback: HTTP servers on 127.0.0.x that log
every hit (an internal target must see none), a real aiosmtpd server without STARTTLS, real
SQLite files, real crawls through the `monitor` command."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from monitor import config as siteconfig
from monitor.alerts import deliver_pending, plan_tests
from monitor.errors import ConfigError
from monitor.loopback import bundled_policy, cached_policy_html, chrome
from monitor.store import Store
from monitor.track import Fetched, track
from tests.receivers import Inbox, Receiver, free_port

pytestmark = [pytest.mark.timeout(90),
              pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]

POLICY = chrome(cached_policy_html(bundled_policy("wemet"))).encode()
HTML = {"Content-Type": "text/html; charset=utf-8"}


# --- a server that answers what its routes say and logs every request ---

Route = tuple[int, dict[str, str], bytes, float]  # status, headers, body, delay (s)


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = self.path.split("?")[0]
        with self.server.lock:
            self.server.hits.append(path)
        status, headers, body, delay = self.server.routes.get(path, (404, {}, b"not found", 0))
        if delay:
            self.server.stopped.wait(delay)  # bounded, and cut short when the test ends
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    """An HTTP server on `host` (any 127.0.0.x), started and stopped by the test."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1",
                 routes: dict[str, Route] | None = None) -> None:
        super().__init__((host, 0), Handler)
        self.routes = dict(routes or {})
        self.hits: list[str] = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a crawler that gave up on a slow answer is no error of the test

    @property
    def url(self) -> str:
        return f"http://{self.server_address[0]}:{self.server_address[1]}"

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)


def page(body: bytes = POLICY, status: int = 200, delay: float = 0.0,
         **headers: str) -> Route:
    return status, {**HTML, **headers}, body, delay


def moved(location: str, status: int = 302) -> Route:
    return status, {"Location": location}, b"", 0.0


ROBOTS_OK = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n", 0.0)


def write_sites(path: Path, *sites: tuple[str, ...], extra: str = "") -> None:
    """sites.toml with (name, url) or (name, url, more TOML lines) entries."""
    tables = [f'[[sites]]\nname = "{name}"\nurl = "{url}"\n' + "".join(f"{m}\n" for m in more)
              for name, url, *more in sites]
    path.write_text(extra + "\n".join(tables))


def fetch_rows(db: Path) -> dict[str, dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = {r["site"]: dict(r) for r in conn.execute("select * from fetches order by id")}
    conn.close()
    return rows


# --- 1. no fetch into internal addresses (SSRF) ---

def test_redirects_into_internal_addresses_are_refused_and_the_target_sees_nothing(monitor):
    """Redirects (302, meta refresh, robots.txt) from a watched site into loopback, link-local
    (cloud metadata) and IPv6 loopback addresses: refused before anything is sent, recorded as
    `blocked` with the reason; the internal servers log no hit; a redirect within the site's
    own host and the sites after them are fetched as usual."""
    with Server("127.0.0.2", {"/admin": page(b"SECRET admin page")}) as private, \
            Server("127.0.0.1", {"/admin": page(b"SECRET admin page")}) as loopback:
        refresh = (f'<html><head><meta http-equiv="refresh" content="0; url={private.url}/admin">'
                   "</head><body>moved</body></html>").encode()
        routes = {"/robots.txt": ROBOTS_OK, "/r302": moved(f"{private.url}/admin"),
                  "/meta": page(refresh), "/v6": moved("http://[::1]:9/admin", 307),
                  "/metadata": moved("http://169.254.169.254/latest/meta-data/"),
                  "/by-name": moved(f"http://localhost:{loopback.server_address[1]}/admin"),
                  "/privacy": moved("/privacy-policy", 301), "/privacy-policy": page()}
        robots_moved = {"/robots.txt": moved(f"{private.url}/robots.txt"), "/p": page()}
        with Server(routes=routes) as site, Server("127.0.0.3", robots_moved) as other:
            port = site.server_address[1]
            write_sites(monitor.config, ("localhost", f"http://localhost:{port}/r302"),
                        ("refresh", f"{site.url}/meta"), ("ipv6", f"{site.url}/v6"),
                        ("metadata", f"{site.url}/metadata"), ("by-name", f"{site.url}/by-name"),
                        ("robots", f"{other.url}/p"), ("moved", f"{site.url}/privacy"))
            out = monitor.crawl(check=3)
        assert private.hits == [] and loopback.hits == []
    assert "crawled 7 of 7 sites: 6 blocked, 1 new" in out.stdout
    rows = fetch_rows(monitor.db)
    assert {n: r["outcome"] for n, r in rows.items()} == {
        "localhost": "blocked", "refresh": "blocked", "ipv6": "blocked", "metadata": "blocked",
        "by-name": "blocked", "robots": "blocked", "moved": "new"}
    assert "redirect (302)" in rows["localhost"]["error"]
    assert "127.0.0.2 is a loopback address" in rows["localhost"]["error"]
    assert "meta refresh" in rows["refresh"]["error"]
    assert "loopback address (::1)" in rows["ipv6"]["error"]
    assert "link-local address (169.254.169.254)" in rows["metadata"]["error"]
    assert "localhost is a loopback address (127.0.0.1)" in rows["by-name"]["error"]
    assert "robots.txt redirect (302)" in rows["robots"]["error"]
    assert rows["localhost"]["url"] == f"http://localhost:{port}/r302"
    assert "SECRET" not in monitor("show", "moved").stdout


CHROMIUM = os.environ.get("MONITOR_CHROMIUM") or shutil.which("chromium")


@pytest.mark.skipif(not CHROMIUM and not os.environ.get("CI"), reason="Chromium not installed")
def test_a_rendered_page_cannot_reach_internal_addresses_either(monitor):
    """render = "browser": a script of the page fetching an internal address into the page is
    aborted (the target sees nothing); a page the browser was redirected to at an internal
    address is dropped, never recorded (Playwright shows no route the hop, so that request
    itself is sent)."""
    with Server("127.0.0.2", {"/admin": (200, {"Content-Type": "text/plain",
                                                "Access-Control-Allow-Origin": "*"},
                                         b"SECRET admin page", 0.0)}) as private:
        script = (f"<script>fetch('{private.url}/admin').then(r => r.text()).then(t => "
                  "{document.body.insertAdjacentText('beforeend', t)})</script>").encode()
        routes = {"/robots.txt": ROBOTS_OK, "/p": page(POLICY.replace(b"</body>",
                                                                      script + b"</body>")),
                  "/r": moved(f"{private.url}/admin")}
        with Server(routes=routes) as site:
            write_sites(monitor.config, ("app", f"{site.url}/p", 'render = "browser"'),
                        ("away", f"{site.url}/r", 'render = "browser"'))
            out = monitor.crawl(check=3)
        assert private.hits == ["/admin"]  # the redirect's hop, from the browser itself
    rows = fetch_rows(monitor.db)
    assert rows["app"]["outcome"] == "new", out.stderr
    assert rows["away"]["outcome"] == "blocked"
    assert "answered from a loopback address (127.0.0.2)" in rows["away"]["error"]
    assert "SECRET" not in monitor("show", "app").stdout


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.2", "loopback"), ("10.1.2.3", "private"), ("192.168.0.1", "private"),
    ("169.254.169.254", "link-local"), ("224.0.0.1", "multicast"), ("0.0.0.0", "unspecified"),
    ("240.0.0.1", "reserved"), ("100.64.0.1", "non-public"), ("::1", "loopback"),
    ("fe80::1%2", "link-local"), ("fd00::1", "private"), ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"),
    ("2002:7f00:1::1", "loopback"), ("64:ff9b::a9fe:a9fe", "link-local"),
    ("93.184.216.34", None), ("2606:4700:4700::1111", None)])
def test_internal_addresses_ipv4_and_ipv6(address, kind):
    from monitor.addresses import internal

    assert internal(address) == kind


# --- 2. one bad site never stops the others ---

@pytest.mark.parametrize("url, problem", [
    ("http://127.0.0.1:99999/p", "Port out of range"), ("http://127.0.0.1:abc/p", "Port"),
    ("http://[::1/x", "Invalid IPv6 URL"), ("http://exa mple.com/p", "a space"),
    ("http://-x-.example/p", "bad host name")])
def test_bad_ports_and_hosts_are_refused_at_load(tmp_path, url, problem):
    path = tmp_path / "sites.toml"
    write_sites(path, ("good", "https://example.org/privacy"), ("bad", url))
    with pytest.raises(ConfigError) as refused:
        siteconfig.load(path)
    assert f"{path}: site 'bad': key 'url'" in str(refused.value)
    assert problem in str(refused.value)


def test_a_crawl_refuses_a_bad_port_by_file_site_and_key(monitor):
    write_sites(monitor.config, ("good", "http://127.0.0.1:9/p"),
                ("bad", "http://127.0.0.1:99999/p"))
    out = monitor.crawl(check=2)
    assert f"{monitor.config}: site 'bad': key 'url'" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_site_whose_request_raises_is_recorded_and_the_spider_goes_on(store):
    """URLs that got past the checks (a site list built in code) that Scrapy cannot make a
    request of: the spider yields a failed fetch for each, and goes on to the next site (it
    raised, and Scrapy issued no request after it)."""
    import asyncio

    import scrapy

    from crawler.spiders.policy import PolicySpider
    from monitor.config import Site

    sites = [Site("bad", "http://127.0.0.1:99999/p"), Site("v6", "http://[::1/x"),
             Site("good", "https://example.org/privacy")]

    async def started() -> list:
        return [out async for out in PolicySpider(sites_to_crawl=sites).start()]

    bad, v6, good = asyncio.run(started())
    assert isinstance(bad, Fetched) and "Port out of range" in (bad.error or "")
    assert isinstance(v6, Fetched) and "Invalid IPv6 URL" in (v6.error or "")
    assert track(store, sites[0], bad).outcome == "failed"  # recorded: tried again next run
    assert isinstance(good, scrapy.Request) and good.url == "https://example.org/privacy"


# --- 5. no secret in any log line, tracebacks included ---

def test_secrets_never_reach_the_log_not_even_in_a_traceback(monitor):
    """A webhook whose server answers garbage that echoes the secret path: the unexpected
    exception is logged with its traceback, and neither the path nor the URL is in it."""
    secret = "/services/T0SECRET/B0SECRET/xyzzySECRETtoken"

    class Echo(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.wfile.write(f"HTTP/1.1 {self.path} weird\r\n\r\n".encode())

    echo = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    try:
        write_sites(monitor.config, ("wemet", "https://example.org/privacy"),
                    extra='[alerts.slack]\nwebhook_url = "${HOOK}"\n\n')
        out = monitor("alerts", "test", check=1,
                      env={"HOOK": f"http://127.0.0.1:{echo.server_address[1]}{secret}"})
    finally:
        echo.shutdown()
        echo.server_close()
    assert "Traceback" in out.stderr and "BadStatusLine" in out.stderr
    assert "SECRET" not in out.stderr + out.stdout
    stored = sqlite3.connect(monitor.db).execute("select last_error from alerts").fetchone()[0]
    assert "SECRET" not in stored


def test_the_daemons_json_log_hides_secrets_in_fields_and_tracebacks(tmp_path):
    config = tmp_path / "sites.toml"
    config.write_text('[alerts.email]\nsmtp_url = "smtp://alerts:pa55-SECRET@127.0.0.1:25"\n'
                      'from = "a@example.org"\nto = "b@example.org"\n')
    script = (
        "import logging, sys\nfrom pathlib import Path\n"
        "from monitor.daemon_cli import setup_logging\n"
        "setup_logging('json', Path(sys.argv[1]))\n"
        "log = logging.getLogger('monitor.daemon')\n"
        "log.warning('alert', extra={'fields': {'error': 'login pa55-SECRET refused'}})\n"
        "try:\n    raise ValueError('smtp://alerts:pa55-SECRET@127.0.0.1:25 broke')\n"
        "except ValueError:\n    log.exception('crawl bookkeeping failed %s', 'pa55-SECRET')\n")
    proc = subprocess.run([sys.executable, "-c", script, str(config)], capture_output=True,
                          text=True, timeout=30)
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    assert [line["event"] for line in lines] == ["alert", "crawl bookkeeping failed ***"]
    assert lines[0]["error"] == "login *** refused"
    assert "ValueError" in lines[1]["exception"]
    assert "SECRET" not in proc.stderr


@pytest.mark.parametrize("table, key", [
    ('[alerts.slack]\nwebhook_url = "http://[::1/hook"', "alerts.slack.webhook_url"),
    ('[alerts.slack]\nwebhook_url = "https://hooks.example:99999/x"', "alerts.slack.webhook_url"),
    ('[alerts.slack]\nwebhook_url = "${HOOK_URL}"', "alerts.slack.webhook_url"),
    ('[alerts.apprise]\nurls = ["json://ok.example/x", "not a url"]', "alerts.apprise.urls[1]"),
    ('[alerts.email]\nsmtp_url = "smtp://u:pw@mail.example:port"\nfrom = "a@example.org"\n'
     'to = "b@example.org"', "alerts.email.smtp_url")])
def test_a_malformed_channel_url_is_a_config_error_at_load(tmp_path, monkeypatch, table, key):
    monkeypatch.setenv("HOOK_URL", "https://hooks.example/ services")
    path = tmp_path / "sites.toml"
    path.write_text(table + "\n")
    with pytest.raises(ConfigError) as refused:
        siteconfig.load(path)
    assert f"key '{key}'" in str(refused.value)
    assert "pw@" not in str(refused.value) and "services" not in str(refused.value)


# --- 6. no SMTP password in clear text ---

class AuthInbox(Inbox):
    """An SMTP server's handler that records every AUTH attempt it got."""

    def __init__(self) -> None:
        super().__init__()
        self.logins: list[bytes] = []

    def check(self, server, session, envelope, mechanism, data) -> AuthResult:
        self.logins.append(data.password)
        return AuthResult(success=True)


@pytest.fixture
def plain_smtp() -> Iterator[tuple[Controller, AuthInbox]]:
    """aiosmtpd offering AUTH and no STARTTLS, on 127.0.0.1."""
    inbox = AuthInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ready_timeout=5,
                            authenticator=inbox.check, auth_require_tls=False)
    controller.start()
    yield controller, inbox
    controller.stop()


def email_config(tmp_path: Path, port: int, extra: str = "") -> siteconfig.Config:
    path = tmp_path / "sites.toml"
    path.write_text(f'[alerts.email]\nsmtp_url = "smtp://alerts:${{SMTP_PASSWORD}}@127.0.0.1:'
                    f'{port}"\nfrom = "pm@example.org"\nto = ["team@example.org"]\n{extra}')
    return siteconfig.load(path)


def test_smtp_login_needs_tls_unless_the_user_allows_clear_text(tmp_path, monkeypatch,
                                                                 plain_smtp):
    controller, inbox = plain_smtp
    monkeypatch.setenv("SMTP_PASSWORD", "pa55word")
    config = email_config(tmp_path, controller.port)
    store = Store(tmp_path / "m.db")
    [refused] = deliver_pending(store, config, only=plan_tests(store, config, "email"))
    assert refused.state == "failed" and "offers no STARTTLS" in (refused.error or "")
    assert inbox.logins == [] and inbox.messages == []
    allowed = email_config(tmp_path, controller.port, "allow_plaintext_login = true\n")
    [sent] = deliver_pending(store, allowed, only=plan_tests(store, allowed, "email"))
    assert sent.state == "sent" and inbox.logins == [b"pa55word"]
    store.close()


# --- 7. suspect snapshots: bounded and deduplicated per site ---

def test_suspect_pages_keep_a_bounded_deduplicated_set_of_raw_bytes(store):
    from tests.conftest import SITE

    def suspect(body: str, n: int) -> None:
        at = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n)).isoformat()
        track(store, SITE, Fetched(site=SITE.name, url=SITE.url, at=at, status=200,
                                   body=body.encode(), content_type="text/html"))

    kept = "select count(*) from snapshots"
    for n in range(5):  # the same error text in bytes that differ every time: kept once
        suspect(f"<html><!-- {n} {'x' * 5000} --><body><h1>Page not found</h1></body></html>", n)
    assert store.conn.execute(kept).fetchone()[0] == 1
    for n in range(30):  # a different text every time: only the newest ones
        suspect(f"<html><body><h1>Error 500</h1><p>request {n} {'y' * n}</p></body></html>", n)
    assert store.conn.execute(kept).fetchone()[0] == 10
    outcomes = store.conn.execute("select outcome, count(*) from fetches group by 1").fetchall()
    assert [tuple(r) for r in outcomes] == [("suspect", 35)]


# --- 8. databases opened by several processes at once ---

def test_connections_opening_a_new_database_at_once_all_succeed(tmp_path):
    """Eight connections (as eight processes would: SQLite locks each connection on its own)
    open a new database at the same instant, five times: none gets "database is locked"."""
    for trial in range(5):
        db, start, errors = tmp_path / f"m{trial}.db", threading.Barrier(8), []

        def open_store(db: Path = db, start: threading.Barrier = start,
                       errors: list[str] = errors) -> None:
            start.wait()
            try:
                Store(db).close()
            except Exception as e:
                errors.append(str(e))

        threads = [threading.Thread(target=open_store) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []


# --- 9. names and e-mail addresses ---

@pytest.mark.parametrize("name", ["x\n", "wemet\n", "A", "-x", "x y"])
def test_a_site_name_must_be_a_whole_slug(tmp_path, name):
    with pytest.raises(ConfigError, match="key 'name'"):
        siteconfig.parse({"sites": [{"name": name, "url": "https://example.org/p"}]},
                         tmp_path / "sites.toml")


@pytest.mark.parametrize("key, value", [
    ("to", "team@example.org\r\nBcc: spy@evil.example"), ("to", "team"),
    ("from", "pm@example.org\n"), ("to", "a b@example.org")])
def test_e_mail_addresses_are_checked_at_load(tmp_path, key, value):
    table = {"smtp_url": "smtps://mail.example", "from": "pm@example.org",
             "to": "team@example.org", key: value}
    with pytest.raises(ConfigError, match=f"key 'alerts.email.{key}'"):
        siteconfig.parse({"alerts": {"email": table}}, tmp_path / "sites.toml")
    table[key] = "Privacy Team <team@example.org>"
    siteconfig.parse({"alerts": {"email": table}}, tmp_path / "sites.toml")


# --- 10. reading commands on a database they cannot write ---

def as_another_user(fn) -> tuple[int, str]:
    """Run `fn` (returning text) in a forked child that cannot write the test's files: as
    'nobody' when the tests run as root (root writes anywhere), else as ourselves."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest machinery from here on
        code = 0
        try:
            os.close(read)
            if os.geteuid() == 0:
                os.setegid(65534)
                os.seteuid(65534)
            text = fn()
        except BaseException as e:  # noqa: BLE001 (report anything to the parent)
            code, text = 1, f"{type(e).__name__}: {e}"
        with os.fdopen(write, "w") as out:
            out.write(text)
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as got:
        text = got.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), text


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder every user may enter (pytest's own are private to their owner)."""
    folder = Path(tempfile.mkdtemp(prefix="monitor-readonly-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(folder)


def test_reading_commands_work_on_a_database_they_cannot_write(shared_folder):
    # imported before the child gives up its rights (it may not read root's Python then)
    import scrapy.crawler  # noqa: F401
    from click.testing import CliRunner

    import crawler.spiders.policy  # noqa: F401
    import monitor.alerts_cli  # noqa: F401
    import monitor.crawl  # noqa: F401
    import monitor.daemon_cli  # noqa: F401
    import monitor.scheduler  # noqa: F401
    from monitor.cli import main
    from tests.conftest import SITE

    data = shared_folder / "data"
    data.mkdir()
    db, config = data / "monitor.db", shared_folder / "sites.toml"
    write_sites(config, (SITE.name, SITE.url))
    store = Store(db)
    store.sync_sites([(SITE.name, SITE.url)])
    fetched = Fetched(site=SITE.name, url=SITE.url, at="2026-01-01T00:00:00.000Z", status=200,
                      body=POLICY, content_type="text/html")
    assert track(store, SITE, fetched).outcome == "new"
    store.close()
    db.chmod(0o444)
    data.chmod(0o555)  # no -wal or -shm file can be made here
    config.chmod(0o644)

    def read_everything() -> str:
        runner = CliRunner()
        out = []
        for args in (["history", SITE.name, "--json"], ["sites"], ["status"], ["alerts"],
                     ["show", SITE.name], ["crawl", "--no-deliver"]):
            result = runner.invoke(main, ["--config", str(config), "--db", str(db), *args])
            out.append(f"{args[0]} {result.exit_code} {result.output[:300]!r}")
        return "\n".join(out)

    code, text = as_another_user(read_everything)
    assert code == 0, text
    lines = dict(line.split(" ", 1) for line in text.splitlines())
    for command in ("history", "sites", "status", "alerts", "show"):
        assert lines[command].startswith("0 "), text
    assert lines["crawl"].startswith("1 ") and "read-only" in lines["crawl"], text
    assert "Traceback" not in text
    assert sorted(p.name for p in data.iterdir()) == ["monitor.db"]


# --- 11. robots.txt that fails means "not now" ---

def test_a_robots_txt_that_fails_or_hangs_keeps_the_site_unfetched_for_now(monitor):
    """RFC 9309: a robots.txt answering 5xx means "assume disallow" (a transient failure,
    tried again next run), not "allow everything"; a hanging one costs the site its own
    timeout (1 s here), once, not 3 x 30 s."""
    down = {"/robots.txt": (503, {}, b"down", 0.0), "/p": page()}
    hanging = {"/robots.txt": (*ROBOTS_OK[:3], 30.0), "/p": page()}
    # three hosts: Scrapy's download slots (one request at a time) are per host
    with Server("127.0.0.3", down) as a, Server("127.0.0.4", hanging) as b, \
            Server(routes={"/robots.txt": ROBOTS_OK, "/p": page()}) as c:
        write_sites(monitor.config, ("down", f"{a.url}/p"),
                    ("hanging", f"{b.url}/p", "timeout = 1"), ("fine", f"{c.url}/p"))
        started = time.monotonic()
        out = monitor.crawl(check=3)
        took = time.monotonic() - started
        assert "/p" not in a.hits and "/p" not in b.hits
        assert a.hits == ["/robots.txt"] and b.hits == ["/robots.txt"]
    assert "crawled 3 of 3 sites: 2 failed, 1 new" in out.stdout
    rows = fetch_rows(monitor.db)
    assert "robots.txt answered HTTP 503" in rows["down"]["error"]
    assert "robots.txt could not be fetched" in rows["hanging"]["error"]
    assert took < 15, took  # before: 30 s for the robots.txt alone (it is answered then)


# --- 12. alerts: a hanging channel holds up only itself; interrupted rows are told ---

def test_a_hanging_webhook_does_not_hold_up_the_mail(tmp_path):
    arrived: list[float] = []

    class Timed(Inbox):
        async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
            arrived.append(time.monotonic())
            return await super().handle_DATA(server, session, envelope)

    release = threading.Event()
    inbox = Timed()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ready_timeout=5)
    controller.start()
    try:
        with Receiver(on_post=lambda path, body: release.wait(3)) as hook:
            path = tmp_path / "sites.toml"
            path.write_text(f'[alerts.slack]\nwebhook_url = "{hook.url}/hook"\n\n'
                            f'[alerts.email]\nsmtp_url = "smtp://127.0.0.1:{controller.port}"\n'
                            'from = "pm@example.org"\nto = "team@example.org"\n')
            config = siteconfig.load(path)
            store = Store(tmp_path / "m.db")
            ids = plan_tests(store, config, "slack") + plan_tests(store, config, "email")
            started = time.monotonic()
            results = deliver_pending(store, config, only=ids)
            release.set()
            store.close()
    finally:
        controller.stop()
    assert [r.state for r in results] == ["sent", "sent"]
    assert arrived and arrived[0] - started < 1.5, arrived[0] - started  # before: 3 s


def test_alerts_send_tells_of_the_rows_it_gives_up(monitor):
    write_sites(monitor.config, ("wemet", "https://example.org/privacy"),
                extra='[alerts.slack]\nwebhook_url = "http://127.0.0.1:9/hook"\n\n')
    config = siteconfig.load(monitor.config)
    store = Store(monitor.db)
    [alert] = plan_tests(store, config, "slack")
    assert store.outbox.claim(alert, "2020-01-01T00:00:00.000Z")  # a sender that died
    store.close()
    out = monitor("alerts", "send", check=1)
    assert "1 alert(s) interrupted while sending marked failed" in out.stderr
    assert "nothing to send" not in out.stdout
