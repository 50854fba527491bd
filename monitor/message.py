"""Render one alert as the channels want it: a subject, plain text, HTML, Slack blocks.

Rendering is pure: an alert's stored payload (site, URL, versions, dates, classification) and,
for a change, its word-level diff (`changed_places`, read from the store at delivery time) go in;
a `Message` comes out. Everything that comes from a policy page is escaped for each format:
`html.escape` for e-mail, `&`, `<`, `>` for Slack (so `<!channel>` or `<http://x|y>` arrive as
text), and Apprise gets plain text.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from monitor.clock import short
from monitor.records import ChangeNotice, Finding, category_label

MAX_FINDINGS = 10  # in Slack and in the text of a message; the rest is counted
MAX_PLACES = 8  # changed places shown with their diff in e-mail
MAX_QUOTE = 600  # characters of one finding's before/after
MAX_EQUAL = 160  # unchanged text kept inside a diff, around the edit
SLACK_TEXT = 3000  # Slack's limit for a section's text
SLACK_HEADER = 150  # and for a header's

Op = tuple[int, str]
Place = tuple[str, list[Op]]  # (section heading, word-level ops)


@dataclass(frozen=True)
class Message:
    """One alert, rendered."""

    key: str
    subject: str
    text: str
    html: str
    slack: dict[str, Any] = field(default_factory=dict)


def changed_places(before: str, after: str) -> list[Place]:
    """The changed places between two versions, each as its section and word-level ops."""
    from monitor.differ import align, diff_words

    places: list[Place] = []
    for hunk in align(before, after).hunks[:MAX_PLACES]:
        section = (hunk.removed or hunk.added)[0].section
        ops = diff_words(" ".join(u.text for u in hunk.removed),
                         " ".join(u.text for u in hunk.added))
        places.append((section, [(op, squeeze(text) if op == 0 else text) for op, text in ops]))
    return places


def render(key: str, kind: str, payload: dict[str, Any], places: list[Place] | None = None
           ) -> Message:
    """The `Message` for one alert."""
    if kind == "change":
        return change_message(key, ChangeNotice.from_json(payload), places or [])
    lines = NOTICES[kind](payload)
    subject, body = lines[0], lines[1:]
    return Message(key=key, subject=subject, text="\n".join(body) + "\n",
                   html=notice_html(body), slack=notice_slack(subject, body, payload.get("url")))


# --- a change ---

def change_message(key: str, p: ChangeNotice, places: list[Place]) -> Message:
    return Message(key=key, subject=change_subject(p), text=change_text(p, places),
                   html=change_html(p, places), slack=change_slack(p))


def change_subject(p: ChangeNotice) -> str:
    verdict = labels(p) or ("major" if p.major else "minor")
    return f"[policy change] {p.site}: {verdict}"


def labels(p: ChangeNotice) -> str:
    """The change's categories in words: 'Data recipients, Contact channels'."""
    return ", ".join(category_label(c) for c in p.categories)


def judged(p: ChangeNotice) -> str:
    """Who judged the change, and whether the judging was cut short."""
    who = " ".join(x for x in (p.classifier, p.classifier_version) if x)
    line = f"Judged by the {who} classifier." if who else ""
    if p.incomplete:
        line += " Judging was cut short (watchdog): look at the whole diff."
    return line.strip()


def versions_line(p: ChangeNotice) -> str:
    return (f"version {p.from_version} ({short(p.from_date)}) -> "
            f"version {p.to_version} ({short(p.to_date)})")


def command(p: ChangeNotice) -> str:
    return f"monitor diff {p.site} --from {p.from_version} --to {p.to_version}"


def verdict(p: ChangeNotice) -> str:
    if p.major:
        return "MAJOR change: " + (labels(p) or "unclassified")
    return "minor change"


def sentences(f: Finding) -> tuple[list[tuple[bool, str]], list[tuple[bool, str]]]:
    """A finding's sentences before and after, as runs with the changed words flagged (a
    sentence added or removed as a whole is one unflagged run)."""
    from monitor.differ import marked

    before, after = clip(f.before), clip(f.after)
    if before and after:
        return marked(before, after)
    return ([(False, before)] if before else []), ([(False, after)] if after else [])


def runs_text(runs: list[tuple[bool, str]], mark: tuple[str, str]) -> str:
    return "".join(f"{mark[0]}{t}{mark[1]}" if changed and t.strip() else t
                   for changed, t in runs)


def glance(f: Finding, limit: int = 160) -> str:
    """One line for one finding, what a person reads first: its category, and the words that
    changed ('old -> new') or the sentence added or removed."""
    before, after = sentences(f)
    if f.before and f.after:
        old = " ".join(t.strip() for changed, t in before if changed and t.strip())
        new = " ".join(t.strip() for changed, t in after if changed and t.strip())
        what = f"{clip(old, limit // 2)} -> {clip(new, limit // 2)}" if old or new else \
            clip(f.after, limit)
    else:
        what = clip(f.after or f.before, limit)
    kind = {"added": "new", "removed": "removed", "changed": "changed"}.get(f.kind, f.kind)
    if not f.category:
        return f"The text was largely {f.kind}"
    return f"{category_label(f.category)}, {kind}: {what}"


def change_text(p: ChangeNotice, places: list[Place]) -> str:
    lines = [f"{p.site}: the privacy policy changed ({verdict(p)})"]
    lines += [f"- {glance(f)}" for f in p.findings[:MAX_FINDINGS]]
    lines += ["", p.url, versions_line(p), *([f"The change: {p.link}"] if p.link else []), "",
              f"Findings ({total(p)}):"]
    for f in p.findings[:MAX_FINDINGS]:
        lines.append(f"* {finding_title(f)}")
        before, after = sentences(f)
        lines += [f"  before: {runs_text(before, ('[-', '-]'))}"] if before else []
        lines += [f"  after:  {runs_text(after, ('{+', '+}'))}"] if after else []
    lines += more(p)
    lines += ["", judged(p)] if judged(p) else []
    if places:
        lines += ["", "What changed, word by word ([-removed-] {+added+}):"]
        for section, ops in places:
            lines += [f"@@ {section} @@" if section else "@@", "  " + ops_text(ops)]
    lines += ["", f"To see more: {p.link} (or {command(p)})" if p.link
              else f"To see more: {command(p)}"]
    return "\n".join(lines) + "\n"


def finding_title(f: Finding) -> str:
    where = f" (in '{f.section}')" if f.section else ""
    if not f.category:  # the classifier's "text replaced" finding belongs to no category
        return f"the policy's text was {f.kind}{where}"
    return f"{category_label(f.category)} - {f.kind}{where}"


def total(p: ChangeNotice) -> int:
    """How many findings the change has (the payload keeps the first ones only)."""
    return max(p.findings_total, len(p.findings))


def more(p: ChangeNotice) -> list[str]:
    extra = total(p) - MAX_FINDINGS
    return [f"... and {extra} more findings"] if extra > 0 else []


def ops_text(ops: list[Op]) -> str:
    return "".join(t if op == 0 else (f"[-{t}-]" if op < 0 else f"{{+{t}+}}") for op, t in ops)


def change_html(p: ChangeNotice, places: list[Place]) -> str:
    e = html.escape
    parts = [f"<h2>{e(p.site)}: the privacy policy changed ({e(verdict(p))})</h2>",
             "<ul>" + "".join(f"<li>{e(glance(f))}</li>" for f in p.findings[:MAX_FINDINGS])
             + "</ul>",
             f'<p><a href="{e(p.url)}">{e(p.url)}</a><br>{e(versions_line(p))}'
             + (f'<br><a href="{e(p.link)}">See the change</a>' if p.link else "") + "</p>",
             f"<h3>Findings ({total(p)})</h3><ul>"]
    for f in p.findings[:MAX_FINDINGS]:
        parts.append(f"<li><b>{e(finding_title(f))}</b>")
        before, after = sentences(f)
        if before:
            parts.append(f'<br>before: <span style="color:#555">{runs_html(before, DEL)}</span>')
        if after:
            parts.append(f"<br>after: <span>{runs_html(after, INS)}</span>")
        parts.append("</li>")
    parts.append("</ul>" + "".join(f"<p>{e(m)}</p>" for m in more(p)))
    if judged(p):
        parts.append(f'<p style="color:#555">{e(judged(p))}</p>')
    if places:
        parts.append("<h3>What changed</h3>")
        for section, ops in places:
            parts.append(f"<p><i>{e(section)}</i><br>{ops_html(ops)}</p>")
    parts.append(f'<p>To see more: <a href="{e(p.link)}">{e(p.link)}</a></p>' if p.link else
                 f"<p>To see more: <code>{e(command(p))}</code></p>")
    return page("\n".join(parts))


DEL = ('<del style="background:#fdd;color:#900">', "</del>")
INS = ('<ins style="background:#dfd;color:#060;text-decoration:none;font-weight:bold">',
       "</ins>")


def runs_html(runs: list[tuple[bool, str]], tag: tuple[str, str]) -> str:
    return "".join(f"{tag[0]}{html.escape(t)}{tag[1]}" if changed and t.strip()
                   else html.escape(t) for changed, t in runs)


def ops_html(ops: list[Op]) -> str:
    out = []
    for op, text in ops:
        if op == 0:
            out.append(html.escape(text))
        elif op < 0:
            out.append(f"{DEL[0]}{html.escape(text)}{DEL[1]}")
        else:
            out.append(f"{INS[0]}{html.escape(text)}{INS[1]}")
    return "".join(out)


def change_slack(p: ChangeNotice) -> dict[str, Any]:
    findings = p.findings
    summary = (f"*<{slack_url(p.url)}|{slack(p.site)}>*: {slack(verdict(p))}\n"
               + "".join(f"• {slack(glance(f))}\n" for f in findings[:MAX_FINDINGS])
               + f"{slack(versions_line(p))}"
               + (f"\n<{slack_url(p.link)}|See the change>" if p.link else ""))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"Policy change: {p.site}"
                                         + (f" ({labels(p)})" if labels(p) else ""),
                                         SLACK_HEADER)},
        section(summary)]
    for f in findings[:MAX_FINDINGS]:
        lines = [f"*{slack(finding_title(f))}*"]
        before, after = sentences(f)
        lines += [f">before: {runs_slack(before, '~')}"] if before else []
        lines += [f">after: {runs_slack(after, '*')}"] if after else []
        blocks.append(section("\n".join(lines)))
    tail = more(p) + ([judged(p)] if judged(p) else []) + [
        f"To see more: <{slack_url(p.link)}|the change page>" if p.link
        else f"To see more: `{slack(command(p))}`"]
    blocks.append({"type": "context", "elements": [mrkdwn("\n".join(tail))]})
    return {"text": slack(change_subject(p)), "blocks": blocks}


def runs_slack(runs: list[tuple[bool, str]], mark: str) -> str:
    """Changed words wrapped in `mark` (~struck~ or *bold*), spaces kept outside the marks."""
    out = []
    for changed, t in runs:
        core = t.strip()
        if changed and core:
            lead, trail = t[:len(t) - len(t.lstrip())], t[len(t.rstrip()):]
            out.append(f"{lead}{mark}{slack(core)}{mark}{trail}")
        else:
            out.append(slack(t))
    return "".join(out)


# --- fetch trouble and tests ---

def down_lines(p: dict[str, Any]) -> list[str]:
    return [f"[policy monitor] {p['site']}: cannot fetch the policy",
            f"{p['site']}: the policy page could not be fetched, or did not look like the "
            f"policy, {p['failures']} times in a row (since {short(p.get('since'))}).",
            p["url"], f"Last error: {p.get('error') or '-'}",
            "You will get one more message when it works again."]


def recovered_lines(p: dict[str, Any]) -> list[str]:
    return [f"[policy monitor] {p['site']}: fetching works again",
            f"{p['site']}: the policy page was fetched again at {short(p.get('at'))}, after "
            f"failures since {short(p.get('since'))}.", p["url"]]


def test_lines(p: dict[str, Any]) -> list[str]:
    return ["[policy monitor] test message",
            f"This is a test of the '{p['channel']}' channel of Policy Monitor, sent at "
            f"{short(p.get('at'))}. If you read it, alerts will reach you here."]


NOTICES = {"down": down_lines, "recovered": recovered_lines, "test": test_lines}


def notice_html(lines: list[str]) -> str:
    return page("\n".join(f"<p>{html.escape(line)}</p>" for line in lines))


def notice_slack(subject: str, lines: list[str], url: str | None) -> dict[str, Any]:
    body = "\n".join(slack(line) for line in lines if line != url)
    if url:
        body += f"\n<{slack_url(url)}|{slack(url)}>"
    return {"text": slack(subject), "blocks": [
        {"type": "header", "text": plain(subject.removeprefix("[policy monitor] "),
                                         SLACK_HEADER)}, section(body)]}


# --- helpers ---

def page(body: str) -> str:
    return f'<!doctype html><html><body style="font-family:sans-serif">\n{body}\n</body></html>\n'


def slack(text: str) -> str:
    """Slack's escaping: only &, < and > are control characters in mrkdwn text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_url(url: str) -> str:
    return slack(url).replace("|", "%7C")


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": cut(text, SLACK_TEXT)}


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit)}


def cut(text: str, limit: int) -> str:
    """At most `limit` characters; never inside an `&...;` entity."""
    if len(text) <= limit:
        return text
    text = text[:limit - 1]
    amp = text.rfind("&")
    if amp != -1 and ";" not in text[amp:]:
        text = text[:amp]
    return text + "…"


def clip(text: str, limit: int = MAX_QUOTE) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def squeeze(text: str) -> str:
    """Unchanged text around an edit, its middle cut when long."""
    if len(text) <= MAX_EQUAL:
        return text
    half = MAX_EQUAL // 2
    return f"{text[:half]} … {text[-half:]}"
