"""What each destination is sent about a ticket change: the PSA's e-mail (plain text and
HTML), the signed JSON event, a Slack message (blocks) or a Teams message (an Adaptive Card).

The words are in ``voice_prompts.handoff``; here they are laid out. Any change or timeline
event gets a readable line: its own sentence when it has one, else its name and details,
so changes added later flow through without a word here.
"""
from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

import voice_prompts
from core import phones
from core.config import Config
from dispatch.handoff.models import HandoffEvent
from dispatch.handoff.recordings import SignedLink, signed
from dispatch.runtime import Runtime
from dispatch.tickets.models import Ticket
from dispatch.tickets.numbers import format_number

# Details that name staff by id, shown by name; details kept out of the lines people read.
STAFF_KEYS = ("by", "staff", "to", "owner")
HIDDEN_KEYS = ("sid", "url", "message_sid", "call_sid")
HIDDEN_EVENTS = ("handoff_",)  # the hand-off's own notes on the timeline
MAX_TRANSCRIPT_CHARS = {"slack": 2800, "teams": 4000}
EMAIL_POLICY = SMTP.clone(cte_type="7bit", max_line_length=998)

_ticket_view: Callable[[Ticket, Runtime], dict] | None = None


def use_ticket_view(view: Callable[[Ticket, Runtime], dict]) -> None:
    """Have webhooks carry tickets as ``view(ticket, runtime)`` shows them: the JSON API's shape,
    handed in by the composition root."""
    global _ticket_view
    _ticket_view = view


def _say(key: str, **values) -> str:
    return voice_prompts.say(key, **values)


@dataclass(frozen=True)
class Facts:
    """A ticket as the MSP's tools read it, in words."""

    number: str
    priority: str
    kind: str
    who: str
    caller: str
    client: str | None
    contact: str | None
    status: str
    owner: str | None
    response_due: str | None
    resolution_due: str | None
    verified: str
    recording: str | None  # its length, "1:15"
    link: SignedLink | None
    link_until: str | None
    transcript: str | None
    created_at: str
    timeline: list[tuple[str, str]]

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) of every fact that has a value, in reading order."""
        rows = [("handoff_label_caller", self.caller), ("handoff_label_client", self.client),
                ("handoff_label_contact", self.contact), ("handoff_label_priority", self.priority),
                ("handoff_label_status", self.status),
                ("handoff_label_owner", self.owner),
                ("handoff_label_response_due", self.response_due),
                ("handoff_label_resolution_due", self.resolution_due),
                ("handoff_label_verified", self.verified),
                ("handoff_label_recording", self.recording_words)]
        return [(_say(label), value) for label, value in rows if value]

    @property
    def recording_words(self) -> str:
        if not self.recording:
            return _say("handoff_no_recording")
        if self.link is None or not self.link.absolute:
            return self.recording
        return f"{self.recording}, {self.link.url} ({self.until})"

    @property
    def until(self) -> str:
        return _say("handoff_recording_until", until=self.link_until) if self.link else ""


def when(moment: datetime | None, config: Config) -> str | None:
    """'Tue 24 Nov 2026, 03:02 EST', in the company's time zone."""
    if moment is None:
        return None
    return moment.astimezone(config.timezone).strftime("%a %d %b %Y, %H:%M %Z")


def _short_when(moment: datetime, config: Config) -> str:
    return moment.astimezone(config.timezone).strftime("%a %d %b %H:%M")


def facts(runtime: Runtime, ticket: Ticket) -> Facts:
    config = runtime.config
    number = format_number(config.ticket_prefix, ticket.id)
    client = ticket.client.name if ticket.client else None
    contact = ticket.contact.name if ticket.contact else None
    if ticket.caller == phones.ANONYMOUS:
        caller = _say("handoff_who_withheld")
    else:
        caller = ticket.caller
    if client and contact:
        who = _say("handoff_who_client_contact", client=client, contact=contact)
    else:
        who = client or caller
    if ticket.verified_method:
        method = _say(f"handoff_method_{ticket.verified_method}") if ticket.verified_method in ("pin", "callback") \
            else ticket.verified_method
        verified = _say("handoff_verified", method=method, at=when(ticket.verified_at, config))
    else:
        verified = _say("handoff_not_verified")
    owner = ticket.owner
    seconds = ticket.recording_seconds or 0
    recording = _say("handoff_recording_length", minutes=seconds // 60, seconds=seconds % 60) \
        if ticket.recording_sid else None
    link = signed(runtime, ticket)
    return Facts(
        number=number, priority=ticket.priority, kind=kind_words(ticket.kind), who=who, caller=caller,
        client=client, contact=contact, status=ticket.status,
        owner=_staff_name(config, owner) if owner else None,
        response_due=when(ticket.response_due, config),
        resolution_due=when(ticket.resolution_due, config),
        verified=verified, recording=recording, link=link,
        link_until=when(link.expires, config) if link else None, transcript=ticket.transcript,
        created_at=when(ticket.created_at, config),
        timeline=[(_short_when(e.at, config), event_line(config, e.event, e.detail or {}))
                  for e in ticket.timeline if not e.event.startswith(HIDDEN_EVENTS)])


def kind_words(kind: str) -> str:
    try:
        return _say(f"handoff_kind_{kind}")
    except KeyError:
        return kind.replace("_", " ").capitalize()


def _staff_name(config: Config, staff_id) -> str:
    person = config.staff.get(staff_id) if isinstance(staff_id, str) else None
    return person.name if person else str(staff_id)


def _value(config: Config, key: str, value) -> str:
    if isinstance(value, list):
        return ", ".join(_value(config, key, item) for item in value)
    if key in STAFF_KEYS:
        return _staff_name(config, value)
    if key == "channel" and value in ("sms", "voice"):
        return _say(f"handoff_channel_{value}")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and "T" in value:
        try:
            return when(datetime.fromisoformat(value), config) or value
        except ValueError:
            pass
    return str(value)[:200]


def _via(value) -> str:
    if not value:
        return ""
    try:
        return _say(f"handoff_via_{value}")
    except KeyError:
        return _say("handoff_via_other", via=value)


def event_line(config: Config, name: str, detail: dict) -> str:
    """One readable line for a ticket change or timeline event, whatever its name and details."""
    shown = {key: _value(config, key, value) for key, value in detail.items()
             if key not in HIDDEN_KEYS and value is not None}
    shown["via"] = _via(detail.get("via"))
    try:
        return _say(f"handoff_event_{name}", **shown)
    except (KeyError, IndexError, ValueError):
        pass
    details = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in shown.items()
                        if key != "via" and value != "") + (shown["via"] if detail.get("via") else "")
    title = name.replace("_", " ").capitalize()
    return _say("handoff_generic", name=title, details=details) if details else title


def subject(made: Facts, change: str | None = None) -> str:
    """``[CS-000123] P1 Emergency voicemail — Acme Corp (Jane Doe)``; a later change puts its
    line after the tag, so each e-mail of a ticket says what it is about and keeps the tag."""
    values = {"number": made.number, "priority": made.priority, "kind": made.kind, "who": made.who}
    if change is None:
        text = _say("handoff_subject", **values)
    else:
        text = _say("handoff_subject_update", change=change, **values)
    return " ".join(text.split())[:300]  # one line, whatever a name or a detail held


# -- e-mail -----------------------------------------------------------------------------------

def message_id(event_public_id: str, sender: str) -> str:
    """The Message-ID of an event's e-mail: the same at every attempt, so a server that got it once
    (and a PSA that threads by it) knows it again."""
    return f"<{event_public_id}@{sender.rpartition('@')[2]}>"


def email(runtime: Runtime, event: HandoffEvent, ticket: Ticket, recipients: tuple[str, ...], sender: str,
          thread_root: str | None) -> EmailMessage:
    """The e-mail of ``event``; ``thread_root`` is the public id of the ticket's first e-mailed event
    (None when this is it): later e-mails answer it (In-Reply-To, References)."""
    config = runtime.config
    made = facts(runtime, ticket)
    at = when(event.at, config)
    created = event.change == "created"
    change = None if created else event_line(config, event.change, event.detail or {})
    message = EmailMessage(policy=EMAIL_POLICY)
    message["Subject"] = subject(made, change)
    message["From"] = formataddr((config.company_name, sender))
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(event.at.astimezone(config.timezone))
    message["Message-ID"] = message_id(event.public_id, sender)
    if thread_root and thread_root != event.public_id:
        root = message_id(thread_root, sender)
        message["In-Reply-To"] = root
        message["References"] = root
    message["X-Support-Line-Ticket"] = made.number
    message["X-Support-Line-Event"] = f"{event.name} {event.public_id}"
    if created:
        intro = _say("handoff_intro_created", number=made.number, priority=made.priority, kind=made.kind,
                     who=made.who, at=at)
    else:
        intro = _say("handoff_intro_update", number=made.number, change=change, at=at)
    footer = _say("handoff_footer", company=config.company_name)
    message.set_content(_email_text(made, intro, footer, created), cte="quoted-printable")
    message.add_alternative(_email_html(made, intro, footer, created), subtype="html", cte="quoted-printable")
    return message


def _email_text(made: Facts, intro: str, footer: str, full: bool) -> str:
    rows = made.lines()
    width = max(len(label) for label, _ in rows) + 2
    lines = [intro, ""] + [f"{label + ':':<{width}}{value}" for label, value in rows]
    if full:
        lines += ["", _say("handoff_label_transcript") + ":", _quote(made.transcript)]
        lines += ["", _say("handoff_label_timeline") + ":"] + [f"  {at}  {text}" for at, text in made.timeline]
    return "\n".join(lines + ["", "-- ", footer]) + "\n"


def _quote(transcript: str | None) -> str:
    if not transcript:
        return "  " + _say("handoff_no_transcript")
    return "\n".join("  " + line for line in transcript.splitlines() or [""])


def _email_html(made: Facts, intro: str, footer: str, full: bool) -> str:
    e = html.escape
    cell = 'style="padding:3px 12px 3px 0;vertical-align:top;text-align:left"'
    rows = []
    for label, value in made.lines():
        if label == _say("handoff_label_recording") and made.link and made.link.absolute:
            value_html = (f'{e(made.recording)}, <a href="{e(made.link.url)}">{e(_say("handoff_play"))}</a> '
                          f'<span style="color:#666">({e(made.until)})</span>')
        else:
            value_html = e(value)
        rows.append(f"<tr><th {cell}>{e(label)}</th><td {cell}>{value_html}</td></tr>")
    parts = ['<!DOCTYPE html><html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">',
             f"<p><strong>{e(intro)}</strong></p>", f'<table style="border-collapse:collapse">{"".join(rows)}</table>']
    if full:
        said = e(made.transcript) if made.transcript else f'<em>{e(_say("handoff_no_transcript"))}</em>'
        parts.append(f'<h3 style="font-size:15px">{e(_say("handoff_label_transcript"))}</h3>'
                     f'<blockquote style="margin:0 0 0 4px;padding-left:10px;border-left:3px solid #ccc;'
                     f'white-space:pre-wrap">{said}</blockquote>')
        timeline = "".join(f"<tr><td {cell}>{e(at)}</td><td {cell}>{e(text)}</td></tr>" for at, text in made.timeline)
        parts.append(f'<h3 style="font-size:15px">{e(_say("handoff_label_timeline"))}</h3>'
                     f'<table style="border-collapse:collapse;font-size:13px">{timeline}</table>')
    parts.append(f'<p style="color:#777;font-size:12px">{e(footer)}</p></body></html>')
    return "\n".join(parts) + "\n"


# -- webhooks ---------------------------------------------------------------------------------

def json_event(runtime: Runtime, event: HandoffEvent, ticket: Ticket) -> str:
    """The signed webhook's body: ``{"id", "event", "at", "ticket", "change"}``."""
    if _ticket_view is None:
        raise RuntimeError("no ticket view: the composition root hands one in (wiring.build)")
    body = {"id": event.public_id, "event": event.name, "at": event.at.isoformat(),
            "ticket": _ticket_view(ticket, runtime),
            "change": {"name": event.change, **(event.detail or {})}}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def slack(runtime: Runtime, event: HandoffEvent, ticket: Ticket) -> str:
    """A Slack incoming webhook's message: the new ticket in blocks, or one line for a change."""
    made = facts(runtime, ticket)
    s = _slack_escape
    if event.change != "created":
        change = event_line(runtime.config, event.change, event.detail or {})
        line = f"*{made.number}* {s(change)}: {s(made.priority)} {s(made.kind)}, {s(made.who)}"
        return json.dumps({"text": subject(made, change),
                           "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": _clip(line, 2900)}}]},
                          ensure_ascii=False)
    fields = [{"type": "mrkdwn", "text": _clip(f"*{s(label)}*\n{s(value)}", 1900)}
              for label, value in made.lines() if label != _say("handoff_label_recording")][:10]
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": _clip(
                  f"{made.number} · {made.priority} {made.kind}", 150)}},
              {"type": "section", "fields": fields}]
    said = made.transcript or _say("handoff_no_transcript")
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "> " + _clip(
        s(said), MAX_TRANSCRIPT_CHARS["slack"]).replace("\n", "\n> ")}})
    if made.link and made.link.absolute:
        blocks.append({"type": "actions", "elements": [{"type": "button", "text": {
            "type": "plain_text", "text": _say("handoff_play")}, "url": made.link.url}]})
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": s(
            f"{made.recording} · {made.until}")}]})
    return json.dumps({"text": subject(made), "blocks": blocks}, ensure_ascii=False)


def teams(runtime: Runtime, event: HandoffEvent, ticket: Ticket) -> str:
    """A Microsoft Teams workflow's message: an Adaptive Card of the new ticket, or of the change."""
    made = facts(runtime, ticket)
    title = {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": True,
             "text": f"{made.number} · {made.priority} {made.kind}"}
    if event.change != "created":
        change = event_line(runtime.config, event.change, event.detail or {})
        body = [title, {"type": "TextBlock", "wrap": True, "text": f"{change} — {made.who}"}]
        actions = []
    else:
        facts_set = [{"title": label, "value": value} for label, value in made.lines()
                     if label != _say("handoff_label_recording")]
        body = [title, {"type": "FactSet", "facts": facts_set},
                {"type": "TextBlock", "wrap": True, "text": _clip(made.transcript or _say("handoff_no_transcript"),
                                                                  MAX_TRANSCRIPT_CHARS["teams"])}]
        actions = []
        if made.link and made.link.absolute:
            body.append({"type": "TextBlock", "wrap": True, "isSubtle": True, "size": "Small",
                         "text": f"{made.recording} · {made.until}"})
            actions = [{"type": "Action.OpenUrl", "title": _say("handoff_play"), "url": made.link.url}]
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body, **({"actions": actions} if actions else {})}
    return json.dumps({"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]},
        ensure_ascii=False)
