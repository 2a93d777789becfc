"""Sending alert notifications: a Slack-compatible webhook and SMTP e-mail, stdlib only.

No Dagster and no warehouse here: a channel takes a batch of alert payloads (plain dicts, see
orchestration/defs/alerts/events.py) and delivers them as one message or raises. `deliver` retries
a batch a few times with a short backoff and reports the outcome instead of raising, so a dead
endpoint can never fail the pipeline run.
"""

from __future__ import annotations

import http.client
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

Payload = dict[str, Any]

# Slack allows 50 blocks per message: a header plus one section per alert.
MAX_WEBHOOK_BATCH = 45
SEVERITY_ICON = {
    "critical": ":red_circle:",
    "high": ":large_orange_circle:",
    "medium": ":large_yellow_circle:",
    "low": ":white_circle:",
}
EVENT_WORD = {"opened": "new", "escalated": "escalated", "closed": "closed"}


class DeliveryError(Exception):
    """The endpoint answered, but not with success (e.g. HTTP 500)."""


# What an unreachable or failing endpoint raises (smtplib and ssl errors are OSErrors). Anything
# else is a bug in PartsFlow and is raised.
TRANSPORT_ERRORS = (OSError, http.client.HTTPException, DeliveryError)


def headline(p: Payload) -> str:
    """`New stockout (critical)`, `Escalated critical_stock (high), was low_stock`."""
    text = f"{EVENT_WORD[p['event']].capitalize()} {p['alert_type']} ({p['severity']})"
    if p["event"] == "escalated":
        text += f", was {p['escalated_from']}"
    return text


def summary(payloads: Sequence[Payload]) -> str:
    """`2 new alerts, 1 escalated alert`."""
    counts = Counter(p["event"] for p in payloads)
    parts = [
        f"{counts[e]} {EVENT_WORD[e]} alert{'s' if counts[e] > 1 else ''}"
        for e in EVENT_WORD
        if counts[e]
    ]
    return ", ".join(parts)


def _details(p: Payload) -> str:
    where = f"part {p['part_id']} at {p['location_id']}"
    if p.get("po_id"):
        where += f", PO {p['po_id']}"
    return f"{where} · opened {p['opened_at']} · alert {p['alert_id']}"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(payloads: Sequence[Payload]) -> dict[str, Any]:
    """A Slack incoming-webhook body: `text` (the notification fallback) and `blocks`."""
    title = f"PartsFlow: {summary(payloads)}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}}
    ]
    for p in payloads:
        text = (
            f"{SEVERITY_ICON.get(p['severity'], '')} *{_slack_escape(headline(p))}*\n"
            f"{_slack_escape(p['message'])}\n_{_slack_escape(_details(p))}_"
        )
        blocks.append(
            {
                "type": "section",
                # Unique within the message: an alert has one row per event and channel.
                "block_id": f"{p['alert_id']}:{p['event']}"[:255],
                "text": {"type": "mrkdwn", "text": text[:3000]},
            }
        )
    lines = [f"{headline(p)}: {p['message']}" for p in payloads]
    return {"text": "\n".join([title, *lines]), "blocks": blocks}


def email_message(
    payloads: Sequence[Payload], sender: str, recipients: Sequence[str]
) -> EmailMessage:
    """One plain-text e-mail for the batch, most severe first as given."""
    msg = EmailMessage()
    topic = headline(payloads[0]) if len(payloads) == 1 else summary(payloads)
    msg["Subject"] = f"[PartsFlow] {topic}"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="partsflow")
    body = [f"PartsFlow: {summary(payloads)}", ""]
    for p in payloads:
        body += [headline(p), f"  {p['message']}", f"  {_details(p)}", ""]
    msg.set_content("\n".join(body))
    return msg


class Channel(Protocol):
    name: ClassVar[str]

    def send(self, payloads: Sequence[Payload]) -> None: ...


@dataclass(frozen=True)
class WebhookChannel:
    """JSON POST to a Slack-compatible incoming webhook; any 2xx answer is success."""

    url: str
    timeout: float = 10.0
    name: ClassVar[str] = "webhook"

    def send(self, payloads: Sequence[Payload]) -> None:
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise DeliveryError("the webhook URL must start with http:// or https://")
        request = urllib.request.Request(
            self.url,
            data=json.dumps(slack_message(payloads)).encode(),
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read(1024)
        except urllib.error.HTTPError as exc:
            answer = exc.read(200).decode("utf-8", "replace").strip()
            # The URL is a secret (Slack's carries the token): never put it in the message.
            raise DeliveryError(f"HTTP {exc.code}: {answer or exc.reason}") from None


@dataclass(frozen=True)
class EmailChannel:
    """One e-mail per batch through an SMTP server, optionally upgraded with STARTTLS."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 10.0
    name: ClassVar[str] = "email"

    def send(self, payloads: Sequence[Payload]) -> None:
        message = email_message(payloads, self.sender, self.recipients)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


@dataclass(frozen=True)
class Delivery:
    """How sending a batch went; `error` is the last failure seen, also when a retry worked."""

    delivered: bool
    attempts: int
    error: str | None
    first_attempt_at: datetime
    last_attempt_at: datetime


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__


def deliver(
    channel: Channel,
    payloads: Sequence[Payload],
    attempts: int,
    backoff_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Send one batch, trying up to `attempts` times (backoff doubling after each failure)."""
    first = _now()
    error = None
    for attempt in range(1, attempts + 1):
        started = _now()
        try:
            channel.send(payloads)
            return Delivery(True, attempt, error, first, started)
        except TRANSPORT_ERRORS as exc:
            error = describe(exc)
        if attempt < attempts:
            sleep(backoff_seconds * 2 ** (attempt - 1))
    return Delivery(False, attempts, error, first, started)
