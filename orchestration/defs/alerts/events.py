"""Which alert events to notify, read from the alert marts: new, escalated and closed alerts.

An alert id is one episode of one condition (marts.fct_alert_history), so "severity went up" is
always a new episode: an open stock alert (low_stock, critical_stock, predicted_stockout,
stockout) is **escalated** when a less severe stock alert of the same part and location was still
open the day before it opened (the stock levels are exclusive, so low -> critical closes low_stock
on the day critical_stock opens); otherwise it is **opened**. An alert gets one of the two, never
both. **closed** is sent only for alerts whose opening was notified on that channel.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from orchestration.defs.alerts.store import TABLE
from orchestration.notify import Payload
from orchestration.warehouse import Connection

SEVERITY_RANK = {"critical": 1, "high": 2, "medium": 3, "low": 4}
STOCK_ALERTS = ("low_stock", "critical_stock", "predicted_stockout", "stockout")
OPENING_EVENTS = ("opened", "escalated")

OPEN_COLUMNS = (
    "alert_id, alert_type, severity, part_id, location_id, po_id, opened_at, days_open, on_hand, "
    "threshold, days, quantity, value, message"
)
CLOSED_COLUMNS = (
    "alert_id, alert_type, severity, part_id, location_id, po_id, opened_at, closed_at, "
    "duration_days"
)
_STOCK = ", ".join("?" for _ in STOCK_ALERTS)
_NOTIFIED = f"select 1 from {TABLE} n where n.alert_id = {{alias}}.alert_id and n.channel = ?"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _payloads(columns: str, rows: list[tuple]) -> list[Payload]:
    names = [c.strip() for c in columns.split(",")]
    return [{n: _jsonable(v) for n, v in zip(names, row, strict=True)} for row in rows]


def escalations(conn: Connection) -> dict[str, Payload]:
    """Open stock alert id -> the less severe stock alert it escalated from (the most severe
    of them when several were open): `{"escalated_from": type, "escalated_from_id": id}`."""
    rows = conn.fetchall(
        f"""select cur.alert_id, cur.severity, prev.alert_type, prev.severity, prev.alert_id
from marts.mart_alerts cur
inner join marts.fct_alert_history prev
    on prev.part_id = cur.part_id and prev.location_id = cur.location_id
where cur.alert_type in ({_STOCK}) and prev.alert_type in ({_STOCK})
    and prev.opened_at < cur.opened_at
    and (prev.closed_at is null or prev.closed_at >= cur.opened_at)""",
        (*STOCK_ALERTS, *STOCK_ALERTS),
    )
    found: dict[str, Payload] = {}
    for new_id, new_severity, old_type, old_severity, old_id in sorted(
        rows, key=lambda r: (SEVERITY_RANK[r[3]], r[2], r[4])
    ):
        if SEVERITY_RANK[old_severity] > SEVERITY_RANK[new_severity] and new_id not in found:
            found[new_id] = {"escalated_from": old_type, "escalated_from_id": old_id}
    return found


def opening_events(
    conn: Connection, channel: str, min_severity: str, escalated: dict[str, Payload]
) -> list[Payload]:
    """Open alerts at least `min_severity` whose opening was not yet recorded for `channel`."""
    rows = conn.fetchall(
        f"select {OPEN_COLUMNS} from marts.mart_alerts a "
        f"where not exists ({_NOTIFIED.format(alias='a')} and n.event in ('opened', 'escalated')) "
        "order by severity_rank, opened_at, alert_id",
        (channel,),
    )
    limit = SEVERITY_RANK[min_severity]
    events = []
    for p in _payloads(OPEN_COLUMNS, rows):
        if SEVERITY_RANK[p["severity"]] > limit:
            continue
        source = escalated.get(p["alert_id"])
        events.append({**p, "event": "escalated" if source else "opened", **(source or {})})
    return events


def closing_events(conn: Connection, channel: str) -> list[Payload]:
    """Closed alerts whose opening was notified on `channel` and whose closing was not."""
    rows = conn.fetchall(
        f"select {CLOSED_COLUMNS} from marts.fct_alert_history h where not h.is_open "
        f"and exists ({_NOTIFIED.format(alias='h')} and n.event in ('opened', 'escalated')) "
        f"and not exists ({_NOTIFIED.format(alias='h')} and n.event = 'closed') "
        "order by h.closed_at, h.alert_id",
        (channel, channel),
    )
    events = []
    for p in _payloads(CLOSED_COLUMNS, rows):
        where = f"part {p['part_id']} at {p['location_id']}"
        if p["po_id"]:
            where += f", PO {p['po_id']}"
        message = (
            f"Closed {p['alert_type']}: {where} (opened {p['opened_at']}, closed "
            f"{p['closed_at']} after {p['duration_days']} days)."
        )
        events.append({**p, "event": "closed", "message": message})
    return events
