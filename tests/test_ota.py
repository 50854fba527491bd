"""Open Terms Archive declarations: imported as sites, then crawled on loopback, with range
selectors and documents combined from several pages."""

from __future__ import annotations

import json

from monitor.loopback import Page, bundled_policy, policy_html

WEMET = bundled_policy("wemet")
BELIEVE = bundled_policy("believe")

RANGED = """<html><body><nav>Home | Blog | Careers</nav>
<div id="intro"><p>Welcome to the Example blog, where we post news every week.</p></div>
<h1 id="start">Privacy Policy</h1>
<p>We collect your e-mail address to send you the newsletter.</p>
<p>We keep it until you unsubscribe.</p>
BELIEVE_HTML
<div class="share">Share this page on social networks</div>
<h2 id="end">Related articles</h2><p>Ten tips for a better garden.</p>
<footer>(c) Example</footer></body></html>""".replace("BELIEVE_HTML", policy_html(BELIEVE))


def annex(extra: str = "") -> bytes:
    return (f"<html><body><main><h1>Annex: processors</h1><p>We use Mailer Ltd to send e-mail."
            f"</p>{extra}</main><footer>Contact</footer></body></html>").encode()


def declarations(folder, url: str) -> None:
    (folder / "Example Blog.json").write_text(json.dumps({
        "name": "Example Blog",
        "documents": {
            "Privacy Policy": {
                "fetch": f"{url}/blog/privacy",
                "select": [{"startBefore": "#start", "endBefore": "#end"}],
                "remove": [".share"],
                "filter": ["removeShareButtons"]},
            "Terms of Service": {"fetch": f"{url}/blog/terms", "select": "main"}}}))
    (folder / "Société Générale.json").write_text(json.dumps({
        "name": "Société Générale",
        "documents": {"Privacy Policy": {
            "select": "main",
            "combine": [{"fetch": f"{url}/sg/privacy"}, {"fetch": f"{url}/sg/annex"}]}}}))
    (folder / "Example Blog.history.json").write_text("{}")


def test_declarations_become_sites_that_crawl_ranges_and_combined_pages(server, monitor,
                                                                         tmp_path):
    server.site["/blog/privacy"] = Page(body=RANGED.encode())
    server.site["/sg/privacy"] = Page(text=WEMET)
    server.site["/sg/annex"] = Page(body=annex())
    folder = tmp_path / "declarations"
    folder.mkdir()
    declarations(folder, server.url)
    monitor.sites()
    out = monitor("import-ota", str(folder))
    assert "imported example-blog-privacy-policy" in out.stdout
    assert "imported societe-generale-privacy-policy" in out.stdout and "(+1 pages)" in out.stdout
    assert "2 sites imported" in out.stdout and "terms-of-service" not in out.stdout
    assert "filter 'removeShareButtons' not supported" in out.stderr
    again = monitor("import-ota", str(folder), check=1)  # names taken: nothing written twice
    assert "exists" in again.stderr and monitor.config.read_text().count("[[sites]]") == 2

    monitor.crawl()
    blog = monitor("show", "example-blog-privacy-policy").stdout
    assert "We collect your e-mail address" in blog and "until you unsubscribe" in blog
    assert "Welcome to the Example blog" not in blog and "Ten tips" not in blog
    assert "Share this page" not in blog
    combined = monitor("show", "societe-generale-privacy-policy").stdout
    assert "Wemet" in combined and combined.index("Wemet") < combined.index("Mailer Ltd")

    server.site["/sg/annex"] = Page(body=annex("<p>We share your data with data brokers.</p>"))
    changed = monitor.crawl("societe-generale-privacy-policy")
    assert "MAJOR" in changed.stderr and "Data recipients" in changed.stderr
    assert [e["version"] for e in monitor.history("societe-generale-privacy-policy")] == [1, 2]
    assert monitor("reextract", "societe-generale-privacy-policy").returncode == 0


def test_a_range_that_matches_nothing_is_a_suspect_page_not_a_version(server, monitor):
    server.site["/p"] = Page(body=RANGED.encode())
    monitor.sites(("blog", f"{server.url}/p"))
    monitor.config.write_text(monitor.config.read_text()
                              + 'select = [{ start_before = "#nope", end_before = "#end" }]\n')
    out = monitor.crawl(check=3)
    assert "matches nothing" in out.stdout + out.stderr
    assert monitor.history("blog") == []


def test_bad_ranges_are_refused_at_load(monitor):
    monitor.sites(("blog", "https://example.org/p"))
    monitor.config.write_text(monitor.config.read_text()
                              + 'select = [{ start_before = "#a" }]\n')
    bad = monitor("sites", check=2)
    assert "key 'select'" in bad.stderr and "end_before/end_after" in bad.stderr


def test_one_bad_declaration_never_stops_the_others(monitor, tmp_path):
    folder = tmp_path / "declarations"
    folder.mkdir()
    (folder / "Good.json").write_text(json.dumps({"name": "Good", "documents": {
        "Privacy Policy": {"fetch": "https://good.example/privacy", "select": "main"}}}))
    (folder / "Half range.json").write_text(json.dumps({"name": "Half range", "documents": {
        "Privacy Policy": {"fetch": "https://half.example/privacy",
                           "select": [{"startBefore": "#a"}]}}}))
    (folder / "Broken.json").write_text("{ not json")
    monitor.sites()
    out = monitor("import-ota", str(folder))
    assert "imported good-privacy-policy" in out.stdout
    assert "1 sites imported, 2 skipped" in out.stdout
    assert "half-range-privacy-policy" in out.stderr and "Broken.json" in out.stderr
    assert monitor.config.read_text().count("[[sites]]") == 1


def test_an_annex_redirected_to_a_login_page_is_suspect_not_part_of_the_policy(server, monitor):
    server.site["/p"] = Page(text=WEMET)
    server.site["/p/annex"] = Page(redirect="/users/sign_in")
    server.site["/users/sign_in"] = Page(text=BELIEVE)  # a long page, but not the annex
    monitor.sites(("combined", f"{server.url}/p"))
    monitor.config.write_text(monitor.config.read_text()
                              + f'\n[[sites.pages]]\nurl = "{server.url}/p/annex"\n')
    out = monitor.crawl(check=3)
    assert "redirected away from the policy" in out.stdout + out.stderr
    assert monitor.history("combined") == []
