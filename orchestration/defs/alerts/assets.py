"""The alert notification asset: new, escalated (and optionally closed) alerts to the channels.

Sending never fails the run: an endpoint that does not answer leaves its notifications `failed`
in ops.alert_notifications, they are retried on the next materialization (up to the attempt
cap), and the warning check `notifications_delivered` fails until they went through.
"""

from collections import Counter

import dagster as dg

from orchestration.defs.alerts.events import closing_events, escalations, opening_events
from orchestration.defs.alerts.store import (
    Outstanding,
    due,
    ensure_table,
    outstanding,
    record,
    record_outcome,
)
from orchestration.notify import Channel, deliver
from orchestration.resources import NotificationResource, WarehouseResource

OWNER = "team:data-engineering"
KEY = dg.AssetKey(["ops", "alert_notifications"])
CHECK = "notifications_delivered"


def _send(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    notifications: NotificationResource,
    channel: Channel,
) -> Counter:
    """Deliver the channel's due notifications in batches; the outcome of each batch is stored
    as soon as it is known (a short connection per batch: DuckDB allows one writer)."""
    with warehouse.connect() as conn:
        todo = due(conn, channel.name, notifications.max_attempts)
    size = notifications.batch_limit(channel)
    if todo:
        batches = -(-len(todo) // size)
        context.log.info(f"{channel.name}: {len(todo)} notifications due, {batches} message(s)")
    counts: Counter = Counter()
    for start in range(0, len(todo), size):
        batch = todo[start : start + size]
        left = notifications.max_attempts - max(n.attempts for n in batch)
        delivery = deliver(
            channel,
            [n.payload for n in batch],
            min(notifications.attempts_per_run, left),
            notifications.backoff_seconds,
        )
        with warehouse.connect() as conn:
            record_outcome(conn, channel.name, batch, delivery)
        counts["sent" if delivery.delivered else "failed"] += len(batch)
        if not delivery.delivered:
            context.log.warning(
                f"{channel.name}: {len(batch)} notifications not delivered after "
                f"{delivery.attempts} attempts: {delivery.error}"
            )
    return counts


def _check(state: Outstanding, names: list[str], max_attempts: int) -> dg.AssetCheckResult:
    if not names:
        description = "No notification channel configured: nothing to deliver."
    elif state.undelivered:
        description = (
            f"{state.undelivered} notifications not delivered ({state.given_up} given up after "
            f"{max_attempts} attempts); last error: {state.last_error}"
        )
    else:
        description = f"Every notification delivered ({', '.join(names)})."
    return dg.AssetCheckResult(
        check_name=CHECK,
        passed=state.undelivered == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "failed": state.failed,
            "pending": state.pending,
            "given_up": state.given_up,
            "last_error": state.last_error or "none",
        },
    )


@dg.asset(
    key=KEY,
    deps=[dg.AssetKey(["marts", "mart_alerts"]), dg.AssetKey(["marts", "fct_alert_history"])],
    group_name="alerts",
    owners=[OWNER],
    kinds={"python"},
    check_specs=[
        dg.AssetCheckSpec(
            CHECK, asset=KEY, description="Warns while alert notifications are not delivered."
        )
    ],
)
def alert_notifications(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    notifications: NotificationResource,
) -> dg.MaterializeResult:
    """New and escalated alerts sent to the webhook and e-mail once each; failures retried later."""
    channels, problems = notifications.channels()
    for problem in problems:
        context.log.warning(problem)
    names = [c.name for c in channels]
    events: Counter = Counter()
    with warehouse.connect() as conn:
        ensure_table(conn)
        escalated = escalations(conn) if channels else {}
        for name in names:
            planned = opening_events(conn, name, notifications.min_severity, escalated)
            if notifications.notify_on_close:
                planned += closing_events(conn, name)
            record(conn, name, planned)
            events.update(f"{name}_{p['event']}" for p in planned)
    counts: Counter = Counter()
    for channel in channels:
        sent = _send(context, warehouse, notifications, channel)
        counts.update({f"{channel.name}_{k}": v for k, v in sent.items()})
        counts.update(sent)
    with warehouse.connect() as conn:
        state = outstanding(conn, names, notifications.max_attempts)
    summary = (
        f"sent {counts['sent']}, failed {counts['failed']} via {', '.join(names)}"
        if channels
        else "nothing sent: no channel configured (PARTSFLOW_ALERT_WEBHOOK_URL, PARTSFLOW_SMTP_*)"
    )
    context.log.info(summary)
    return dg.MaterializeResult(
        metadata={
            "summary": summary,
            "channels": ", ".join(names) or "none",
            "sent": counts["sent"],
            "failed": counts["failed"],
            "undelivered": state.undelivered,
            "given_up": state.given_up,
            "new_events": sum(events.values()),
            **dict(sorted(events.items())),
            **{k: v for k, v in sorted(counts.items()) if k not in ("sent", "failed")},
            **({"problems": "; ".join(problems)} if problems else {}),
        },
        check_results=[_check(state, names, notifications.max_attempts)],
    )
