"""What a notification looks like on the wire: e-mail text and headers, webhook body.

Pure functions over an outbox row's payload (the snapshot taken when it was queued), so a
retry days later renders the same mail with the same Message-ID. E-mails thread: the
first mail of a ticket has the Message-ID ``<REF@domain>`` and every later one answers it
(In-Reply-To/References). The channels in ``agent/tickets/channels/`` send what these build.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from agent.line.secrets import REDACTOR
from agent.tickets.model import OutboxMessage
from agent.tickets.outbox import EVENTS

_LONDON: Final = ZoneInfo("Europe/London")


def subject(payload: Mapping[str, Any]) -> str:
    """``[FR-2026-000123] P2 Major System Failure — Acme Ltd, Bolton`` (+ what happened)."""
    if payload["event"] == "engineer_action":
        return (f"[{payload['ref']}] ENGINEER ACTION: PBX MAY BE HALF-PROGRAMMED — "
                f"{payload['customer']}")
    text = (f"[{payload['ref']}] {payload['priority']} {payload['title']} — "
            f"{payload['customer']}")
    event = payload["event"]
    if event == "opened":
        return text
    if event == "escalated":
        return f"{text} (escalated to {str(payload.get('level', '')).replace('_', ' ')})"
    return f"{text} ({EVENTS.get(event, event)})"


def thread_ids(message: OutboxMessage, domain: str) -> tuple[str, str | None]:
    """This mail's Message-ID and the thread root it answers (None for the first mail)."""
    root = f"<{message.ref}@{domain}>"
    if message.seq == 1:
        return root, None
    return f"<{message.ref}.{message.seq}@{domain}>", root


def render_email(message: OutboxMessage, *, sender: str, to: Sequence[str],
                 domain: str) -> EmailMessage:
    payload = message.payload
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Subject"] = subject(payload)
    mail["Date"] = format_datetime(message.created_at.astimezone(UTC))
    message_id, root = thread_ids(message, domain)
    mail["Message-ID"] = message_id
    if root is not None:
        mail["In-Reply-To"] = root
        mail["References"] = root
    mail["X-Pbxdiag-Ref"] = message.ref
    mail["X-Pbxdiag-Event"] = message.event
    mail.set_content(REDACTOR.scrub(email_body(payload)))
    return mail


def email_body(payload: Mapping[str, Any]) -> str:
    """Plain text a support engineer can act on from a phone."""
    if payload["event"] == "engineer_action":
        return action_body(payload)
    lines = [f"{payload['ref']}: {payload['priority']} {payload['title']} "
             f"({payload['fault_class']} fault)",
             f"Event:      {EVENTS.get(payload['event'], payload['event'])}"
             + (f" — {payload['detail']}" if payload.get("detail") else ""),
             f"Customer:   {payload['customer']} [{payload['site_id']}]",
             f"Contract:   {payload['contract']} ({payload['calendar']})",
             f"State:      {payload['state']}" + (" (flapping)" if payload.get("flapping")
                                                  else ""),
             f"Summary:    {payload['summary']}",
             f"Rule:       {payload['rule']}",
             f"Opened:     {_when(payload['opened_at'])}",
             f"Response:   due {_when(payload['response_due'])}"]
    for label, key in (("Parts", "parts_due"), ("Remote", "remote_access_due")):
        if payload.get(key):
            lines.append(f"{label + ':':<11} due {_when(payload[key])}")
    lines += [f"Escalate:   {e['level'].replace('_', ' ')} at {_when(e['due'])}"
              for e in payload.get("escalations", [])]
    if payload.get("non_covered"):
        lines.append(f"Cover:      {payload['non_covered']} — the visit may be chargeable")
    if payload.get("visit"):
        visit = payload["visit"]
        lines.append(f"Visit:      {visit['date']}, {visit['engineer']}, parts: "
                     f"{', '.join(visit['parts']) or 'none listed'}")
    lines.append(f"Seen:       {payload['occurrences']} time(s), "
                 f"last {_when(payload['last_seen'])}")
    lines += ["", "Evidence:", *(f"  - {item}" for item in payload.get("evidence", []))]
    if payload.get("answers"):
        lines += ["", "Front-line answers:",
                  *(f"  {k}: {v}" for k, v in sorted(payload["answers"].items()))]
    if payload.get("transcript_excerpt"):
        lines += ["", "Transcript excerpt (redacted):",
                  *(f"  | {line}" for line in payload["transcript_excerpt"].splitlines())]
    if payload.get("transcript"):
        lines += ["", f"Full transcript: {payload['transcript']}"]
    return "\n".join(lines) + "\n"


def action_body(payload: Mapping[str, Any]) -> str:
    """An engineer action: not a customer fault, no SLA clock — check the PBX by hand."""
    return "\n".join([
        f"{payload['ref']}: engineer action needed — the PBX MAY BE HALF-PROGRAMMED",
        f"Customer:   {payload['customer']} [{payload['site_id']}]",
        f"Run:        {payload['run_id']}",
        f"At:         {_when(payload['at'])}",
        "",
        "A programming change could not be verified or rolled back. Check the setting on",
        "the PBX by hand before anything else is done on this site. This is not a customer",
        "fault and has no SLA clock.",
        "",
        f"What happened: {payload['detail']}",
    ]) + "\n"


def webhook_body(message: OutboxMessage) -> bytes:
    return json.dumps(message.payload, sort_keys=True, ensure_ascii=False).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact body bytes with the shared secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def webhook_headers(message: OutboxMessage, body: bytes, secret: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "pbxdiag",
               "X-Pbxdiag-Event": message.event,
               # Stable across retries: a receiver drops a delivery it has seen.
               "X-Pbxdiag-Delivery": message.event_id}
    if secret is not None:
        headers["X-Pbxdiag-Signature"] = sign(body, secret)
    return headers


def _when(iso: str) -> str:
    return f"{datetime.fromisoformat(iso).astimezone(_LONDON):%a %d %b %Y %H:%M %Z}"
