"""`ops.alert_notifications`: one row per alert event and channel, what was sent and how it went.

The primary key (alert_id, event, channel) is the dedup key: an event is recorded once per channel
and delivered at most once (status `sent`); `pending` rows were recorded and not tried yet,
`failed` rows are tried again on the next materialization until `attempts` reaches the cap.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from orchestration.notify import Delivery, Payload
from orchestration.warehouse import Connection, qualified

TABLE = qualified("ops", "alert_notifications")


@dataclass(frozen=True)
class Notification:
    alert_id: str
    event: str
    payload: Payload
    attempts: int


@dataclass(frozen=True)
class Outstanding:
    """Notifications of the configured channels not delivered (yet)."""

    failed: int
    pending: int
    given_up: int
    last_error: str | None

    @property
    def undelivered(self) -> int:
        return self.failed + self.pending


def ensure_table(conn: Connection) -> None:
    conn.execute("create schema if not exists ops")
    conn.execute(
        f"""create table if not exists {TABLE} (
  alert_id text not null,
  event text not null check (event in ('opened', 'escalated', 'closed')),
  channel text not null check (channel in ('webhook', 'email')),
  alert_type text not null, severity text not null, payload text not null,
  status text not null check (status in ('pending', 'sent', 'failed')),
  attempts integer not null, last_error text, created_at timestamp not null,
  first_attempt_at timestamp, last_attempt_at timestamp, sent_at timestamp,
  primary key (alert_id, event, channel))"""
    )


def record(conn: Connection, channel: str, events: Sequence[Payload]) -> int:
    """Record planned events as pending (an event already recorded is left alone)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with conn.transaction():
        for p in events:
            conn.execute(
                f"insert into {TABLE} (alert_id, event, channel, alert_type, severity, payload, "
                "status, attempts, created_at) values (?, ?, ?, ?, ?, ?, 'pending', 0, ?) "
                "on conflict do nothing",
                (
                    p["alert_id"],
                    p["event"],
                    channel,
                    p["alert_type"],
                    p["severity"],
                    json.dumps(p, sort_keys=True),
                    now,
                ),
            )
    return len(events)


def due(conn: Connection, channel: str, max_attempts: int) -> list[Notification]:
    """Undelivered notifications of `channel` with attempts left: openings before closings,
    most severe first."""
    rows = conn.fetchall(
        f"select alert_id, event, payload, attempts from {TABLE} "
        "where channel = ? and status <> 'sent' and attempts < ? "
        "order by case event when 'closed' then 1 else 0 end, "
        "case severity when 'critical' then 1 when 'high' then 2 when 'medium' then 3 else 4 end, "
        "created_at, alert_id",
        (channel, max_attempts),
    )
    return [Notification(a, e, json.loads(p), int(n)) for a, e, p, n in rows]


def record_outcome(
    conn: Connection, channel: str, batch: Sequence[Notification], delivery: Delivery
) -> None:
    with conn.transaction():
        for n in batch:
            conn.execute(
                f"update {TABLE} set status = ?, attempts = attempts + ?, "
                "last_error = coalesce(?, last_error), "
                "first_attempt_at = coalesce(first_attempt_at, ?), last_attempt_at = ?, "
                "sent_at = ? where alert_id = ? and event = ? and channel = ?",
                (
                    "sent" if delivery.delivered else "failed",
                    delivery.attempts,
                    delivery.error,
                    delivery.first_attempt_at,
                    delivery.last_attempt_at,
                    delivery.last_attempt_at if delivery.delivered else None,
                    n.alert_id,
                    n.event,
                    channel,
                ),
            )


def outstanding(conn: Connection, channels: Sequence[str], max_attempts: int) -> Outstanding:
    if not channels:
        return Outstanding(0, 0, 0, None)
    marks = ", ".join("?" for _ in channels)
    failed, pending, given_up = conn.fetchall(
        "select count(*) filter (where status = 'failed'), "
        "count(*) filter (where status = 'pending'), "
        "count(*) filter (where status <> 'sent' and attempts >= ?) "
        f"from {TABLE} where channel in ({marks})",
        (max_attempts, *channels),
    )[0]
    last = conn.fetchall(
        f"select channel, last_error from {TABLE} where channel in ({marks}) "
        "and status = 'failed' order by last_attempt_at desc limit 1",
        tuple(channels),
    )
    error = f"{last[0][0]}: {last[0][1]}" if last else None
    return Outstanding(int(failed), int(pending), int(given_up), error)
