"""Alert notifications against a real local webhook (http.server) and SMTP server (aiosmtpd), on
DuckDB and PostgreSQL: each alert event is delivered once, failures are retried on later runs and
never fail the run, and the warning check says so while they last."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from aiosmtpd.controller import Controller

from orchestration import env
from orchestration.defs.alerts.assets import CHECK, KEY, alert_notifications
from orchestration.resources import (
    NotificationResource,
    WarehouseResource,
    notifications_from_env,
)
from orchestration.warehouse import connect
from tests.orchestration.pipeline_helpers import read_table

# --- the local servers ----------------------------------------------------------------------


class Webhook:
    """A Slack-like incoming webhook on 127.0.0.1 that records JSON POSTs; `failures_left`
    makes the next requests answer 500."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.requests = 0
        self.failures_left = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.requests += 1
                failing = hook.failures_left > 0
                if failing:
                    hook.failures_left -= 1
                else:
                    hook.posts.append(json.loads(body))
                answer = b"boom" if failing else b"ok"
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/B000"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self) -> Counter:
        """(alert_id, event) -> how many times it was posted successfully."""
        return Counter(
            tuple(b["block_id"].split(":")) for post in self.posts for b in post["blocks"][1:]
        )


class Inbox:
    """aiosmtpd handler keeping every message; `failures_left` answers 451 to the next ones."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.failures_left = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        if self.failures_left > 0:
            self.failures_left -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


# --- a small constructed alerts mart --------------------------------------------------------

SEVERITY = {
    "stockout": "critical",
    "critical_stock": "high",
    "predicted_stockout": "high",
    "late_purchase_order": "medium",
    "expiring": "medium",
    "low_stock": "low",
    "obsolete": "low",
}
RANK = {"critical": 1, "high": 2, "medium": 3, "low": 4}


@dataclass(frozen=True)
class Episode:
    alert_type: str
    part_id: str
    location_id: str
    opened_at: date
    closed_at: date | None = None
    po_id: str | None = None

    @property
    def alert_id(self) -> str:
        key = "|".join(
            str(v) for v in (self.alert_type, self.part_id, self.location_id, self.po_id)
        )
        return hashlib.md5(f"{key}|{self.opened_at}".encode()).hexdigest()

    def closed(self, day: date) -> Episode:
        return Episode(self.alert_type, self.part_id, self.location_id, self.opened_at, day)


AS_OF = date(2025, 3, 31)
LOW = Episode("low_stock", "P1", "L1", date(2025, 3, 1))
STOCKOUT = Episode("stockout", "P2", "L1", date(2025, 3, 10))
LATE_PO = Episode("late_purchase_order", "P3", "L2", date(2025, 3, 20), po_id="PO-9")
OLD = Episode("critical_stock", "P4", "L2", date(2025, 1, 1), date(2025, 1, 9))


def write_marts(url: str, episodes: list[Episode]) -> None:
    """marts.fct_alert_history and marts.mart_alerts (the open episodes) with the columns of
    docs/interfaces.md, replaced whole like a dbt build."""
    history = [
        (
            e.alert_id,
            e.alert_type,
            SEVERITY[e.alert_type],
            e.part_id,
            e.location_id,
            e.po_id,
            e.opened_at,
            e.closed_at,
            e.closed_at is None,
            ((e.closed_at or AS_OF) - e.opened_at).days,
        )
        for e in episodes
    ]
    with connect(env.Warehouse(url)) as conn, conn.transaction():
        conn.execute("create schema if not exists marts")
        conn.execute("drop table if exists marts.fct_alert_history")
        conn.execute("drop table if exists marts.mart_alerts")
        conn.execute(
            "create table marts.fct_alert_history (alert_id text, alert_type text, "
            "severity text, part_id text, location_id text, po_id text, opened_at date, "
            "closed_at date, is_open boolean, duration_days integer)"
        )
        conn.execute(
            "create table marts.mart_alerts (alert_id text, alert_type text, severity text, "
            "severity_rank integer, part_id text, location_id text, po_id text, opened_at date, "
            "days_open integer, on_hand integer, threshold integer, days integer, "
            "quantity integer, value numeric(18,4), message text)"
        )
        for row in history:
            conn.execute(
                "insert into marts.fct_alert_history values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row
            )
            if row[8]:
                conn.execute(
                    "insert into marts.mart_alerts values "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, 3, 5, null, 7, 123.4500, ?)",
                    (*row[:3], RANK[row[2]], *row[3:7], row[9], f"{row[1]} of {row[3]}"),
                )


@pytest.fixture(params=["duckdb", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/warehouse.duckdb"
    return request.getfixturevalue("pg_database_url")


def settings(**overrides: object) -> NotificationResource:
    """Fast retries for tests: a tenth of a second of backoff in all."""
    base = {"backoff_seconds": 0.02, "timeout_seconds": 5.0, "smtp_starttls": False}
    return NotificationResource(**{**base, **overrides})


@dataclass
class Run:
    result: dg.ExecuteInProcessResult

    @property
    def metadata(self) -> dict:
        events = self.result.get_asset_materialization_events()
        meta = events[0].materialization.metadata
        return {k: v.value for k, v in meta.items()}

    @property
    def check(self) -> dg.AssetCheckEvaluation:
        (evaluation,) = self.result.get_asset_check_evaluations()
        assert evaluation.asset_check_key == dg.AssetCheckKey(KEY, CHECK)
        return evaluation


def run(url: str, notifications: NotificationResource) -> Run:
    result = dg.materialize(
        [alert_notifications],
        resources={"warehouse": WarehouseResource(url=url), "notifications": notifications},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return Run(result)


def notifications_table(url: str) -> pd.DataFrame:
    return read_table(url, "ops", "alert_notifications", ["channel", "alert_id", "event"])


# --- the tests ------------------------------------------------------------------------------


def test_each_new_alert_is_sent_once_per_channel(url: str, webhook: Webhook, smtp) -> None:
    inbox, port = smtp
    write_marts(url, [LOW, STOCKOUT, LATE_PO, OLD])
    channels = settings(
        webhook_url=webhook.url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="partsflow@example.com",
        email_to="planner@example.com, buyer@example.com",
        batch_size=2,
    )
    first = run(url, channels)
    opened = {(e.alert_id, "opened") for e in (LOW, STOCKOUT, LATE_PO)}
    assert webhook.delivered() == Counter(opened)  # the closed OLD episode is not news
    assert len(webhook.posts) == 2  # 3 alerts in batches of 2, most severe first
    order = [b["block_id"] for post in webhook.posts for b in post["blocks"][1:]]
    assert order == [f"{e.alert_id}:opened" for e in (STOCKOUT, LATE_PO, LOW)]
    assert webhook.posts[0]["text"].startswith("PartsFlow: 2 new alerts")
    assert len(inbox.messages) == 2
    mailed = "".join(m.get_content() for _, m in inbox.messages)
    assert all(mailed.count(f"alert {e.alert_id}") == 1 for e in (LOW, STOCKOUT, LATE_PO))
    assert first.metadata["sent"] == 6 and first.metadata["failed"] == 0
    assert first.check.passed
    rows = notifications_table(url)
    assert len(rows) == 6
    assert set(rows["status"]) == {"sent"} and set(rows["attempts"]) == {1}
    assert rows["sent_at"].notna().all() and rows["last_error"].isna().all()
    assert json.loads(rows["payload"].iloc[0])["alert_id"] == rows["alert_id"].iloc[0]

    second = run(url, channels)
    assert second.metadata["sent"] == 0 and second.metadata["new_events"] == 0
    assert len(webhook.posts) == 2 and len(inbox.messages) == 2
    assert len(notifications_table(url)) == 6


def test_an_escalation_is_sent_once_and_closings_when_asked(url: str, webhook: Webhook) -> None:
    write_marts(url, [LOW, STOCKOUT])
    run(url, settings(webhook_url=webhook.url))
    # LOW's pair falls to critical (an escalation); STOCKOUT's pair recovers to critical stock,
    # which is a new, less severe alert: opened, not escalated.
    critical = Episode("critical_stock", "P1", "L1", date(2025, 3, 25))
    recovered = Episode("critical_stock", "P2", "L1", date(2025, 3, 28))
    episodes = [LOW.closed(critical.opened_at), critical]
    episodes += [STOCKOUT.closed(recovered.opened_at), recovered]
    write_marts(url, episodes)
    channels = settings(webhook_url=webhook.url, notify_on_close=True)
    second = run(url, channels)
    assert webhook.delivered() == Counter(
        {
            (LOW.alert_id, "opened"): 1,
            (STOCKOUT.alert_id, "opened"): 1,
            (critical.alert_id, "escalated"): 1,
            (recovered.alert_id, "opened"): 1,
            (LOW.alert_id, "closed"): 1,
            (STOCKOUT.alert_id, "closed"): 1,
        }
    )
    assert second.metadata["webhook_escalated"] == 1
    assert second.metadata["webhook_closed"] == 2
    texts = [b["text"]["text"] for b in webhook.posts[-1]["blocks"][1:]]
    assert any("Escalated critical_stock (high), was low_stock" in t for t in texts)
    payload = notifications_table(url).query("event == 'escalated'")["payload"].iloc[0]
    assert json.loads(payload)["escalated_from_id"] == LOW.alert_id

    posts = len(webhook.posts)
    run(url, channels)
    assert len(webhook.posts) == posts


def test_a_failing_webhook_never_fails_the_run_and_is_retried_later(
    url: str, webhook: Webhook
) -> None:
    write_marts(url, [LOW, STOCKOUT])
    channels = settings(webhook_url=webhook.url, attempts_per_run=2)
    webhook.failures_left = 1_000
    failing = run(url, channels)  # run() asserts the run succeeded
    assert webhook.requests == 2 and not webhook.posts  # one batch, two attempts
    rows = notifications_table(url)
    assert set(rows["status"]) == {"failed"} and set(rows["attempts"]) == {2}
    assert rows["last_error"].str.contains("HTTP 500: boom").all()
    assert rows["sent_at"].isna().all() and rows["first_attempt_at"].notna().all()
    assert failing.metadata["failed"] == 2 and failing.metadata["sent"] == 0
    assert not failing.check.passed
    assert failing.check.severity == dg.AssetCheckSeverity.WARN
    assert "2 notifications not delivered" in failing.check.description

    webhook.failures_left = 0
    healed = run(url, channels)
    assert webhook.delivered() == Counter(
        {(LOW.alert_id, "opened"): 1, (STOCKOUT.alert_id, "opened"): 1}
    )
    assert healed.check.passed and healed.metadata["sent"] == 2
    rows = notifications_table(url)
    assert set(rows["status"]) == {"sent"} and set(rows["attempts"]) == {3}

    run(url, channels)
    assert len(webhook.posts) == 1


def test_a_transient_failure_is_retried_within_the_run(url: str, webhook: Webhook) -> None:
    write_marts(url, [LOW])
    webhook.failures_left = 2
    done = run(url, settings(webhook_url=webhook.url, attempts_per_run=3))
    assert webhook.requests == 3
    assert webhook.delivered() == Counter({(LOW.alert_id, "opened"): 1})
    assert done.check.passed
    (row,) = notifications_table(url).itertuples()
    assert (row.status, row.attempts) == ("sent", 3)
    assert "HTTP 500" in row.last_error  # what went wrong on the way stays visible


def test_attempts_are_capped_so_a_dead_endpoint_is_left_alone(url: str, webhook: Webhook) -> None:
    write_marts(url, [LOW])
    webhook.failures_left = 1_000
    channels = settings(webhook_url=webhook.url, attempts_per_run=2, max_attempts=3)
    run(url, channels)
    run(url, channels)
    assert webhook.requests == 3  # 2 attempts, then the 1 left under the cap
    third = run(url, channels)
    assert webhook.requests == 3
    assert third.metadata["given_up"] == 1
    assert not third.check.passed and "1 given up after 3 attempts" in third.check.description


def test_email_content_reaches_the_smtp_server_and_failures_are_retried(url: str, smtp) -> None:
    inbox, port = smtp
    write_marts(url, [LATE_PO])
    mail = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_from": "partsflow@example.com",
        "email_to": "planner@example.com",
        "attempts_per_run": 2,
    }
    # The local server offers no STARTTLS: with it required, nothing is sent in clear text.
    refused = run(url, settings(**mail, smtp_starttls=True))
    assert not inbox.messages and not refused.check.passed
    assert "STARTTLS" in notifications_table(url)["last_error"].iloc[0]

    inbox.failures_left = 1  # a 451 answer, then the retry within the run goes through
    delivered = run(url, settings(**mail))
    assert delivered.check.passed
    ((recipients, message),) = inbox.messages
    assert recipients == ["planner@example.com"]
    assert message["From"] == "partsflow@example.com"
    assert message["Subject"] == "[PartsFlow] New late_purchase_order (medium)"
    body = message.get_content()
    assert "late_purchase_order of P3" in body  # the mart's message
    assert f"part P3 at L2, PO PO-9 · opened 2025-03-20 · alert {LATE_PO.alert_id}" in body
    (row,) = notifications_table(url).itertuples()
    assert (row.status, row.attempts) == ("sent", 4)

    run(url, settings(**mail))
    assert len(inbox.messages) == 1


def test_without_a_channel_nothing_is_sent_and_the_run_says_so(url: str) -> None:
    write_marts(url, [LOW, STOCKOUT])
    quiet = run(url, NotificationResource())
    assert quiet.metadata["channels"] == "none"
    assert quiet.metadata["summary"].startswith("nothing sent: no channel configured")
    assert quiet.check.passed
    assert notifications_table(url).empty


def test_channels_come_from_the_environment_with_secrets_as_env_vars(
    url: str, webhook: Webhook, smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp
    write_marts(url, [STOCKOUT])
    settings_env = {
        "PARTSFLOW_ALERT_WEBHOOK_URL": webhook.url,
        "PARTSFLOW_SMTP_HOST": "127.0.0.1",
        "PARTSFLOW_SMTP_PORT": str(port),
        "PARTSFLOW_SMTP_FROM": "partsflow@example.com",
        "PARTSFLOW_ALERT_EMAIL_TO": "planner@example.com",
        "PARTSFLOW_SMTP_STARTTLS": "0",
        "PARTSFLOW_ALERT_MIN_SEVERITY": "high",
    }
    for name, value in settings_env.items():
        monkeypatch.setenv(name, value)
    resource = notifications_from_env()
    # The webhook URL is a secret: the resource holds the variable's name, not its value.
    assert resource.webhook_url == dg.EnvVar("PARTSFLOW_ALERT_WEBHOOK_URL")
    assert (resource.smtp_port, resource.smtp_starttls) == (port, False)
    run(url, resource)
    assert webhook.delivered() == Counter({(STOCKOUT.alert_id, "opened"): 1})
    assert len(inbox.messages) == 1

    monkeypatch.setenv("PARTSFLOW_SMTP_PORT", "smtp")
    with pytest.raises(ValueError, match="PARTSFLOW_SMTP_PORT must be a TCP port"):
        notifications_from_env()


def test_only_alerts_at_least_as_severe_as_the_minimum_are_sent(url: str, webhook: Webhook):
    write_marts(url, [LOW, STOCKOUT, LATE_PO])
    run(url, settings(webhook_url=webhook.url, min_severity="medium"))
    assert set(webhook.delivered()) == {(STOCKOUT.alert_id, "opened"), (LATE_PO.alert_id, "opened")}


@pytest.mark.parametrize("world", ["marts_duckdb", "marts_postgres"])
def test_the_real_alert_marts_are_notified_once(
    world: str, request: pytest.FixtureRequest, webhook: Webhook
) -> None:
    url = request.getfixturevalue(world)
    open_alerts = read_table(url, "marts", "mart_alerts", ["alert_id"])
    history = read_table(url, "marts", "fct_alert_history", ["alert_id"])
    assert len(open_alerts) > 0
    try:
        first = run(url, settings(webhook_url=webhook.url))
        assert first.check.passed
        delivered = webhook.delivered()
        assert sorted(a for a, _ in delivered) == sorted(open_alerts["alert_id"])
        assert set(delivered.values()) == {1}
        escalated = {a for a, e in delivered if e == "escalated"}
        assert escalated == _escalations(open_alerts, history)
        run(url, settings(webhook_url=webhook.url))
        assert sum(webhook.delivered().values()) == len(open_alerts)
    finally:
        with connect(env.Warehouse(url)) as conn:
            conn.execute("delete from ops.alert_notifications where channel = 'webhook'")


def _escalations(open_alerts: pd.DataFrame, history: pd.DataFrame) -> set[str]:
    """The README's rule, recomputed with pandas: an open stock alert with a less severe stock
    alert of the same pair open the day before it opened."""
    stock = ["low_stock", "critical_stock", "predicted_stockout", "stockout"]
    cur = open_alerts[open_alerts["alert_type"].isin(stock)]
    prev = history[history["alert_type"].isin(stock)]
    pairs = cur.merge(prev, on=["part_id", "location_id"], suffixes=("", "_prev"))
    overlapping = (pairs["opened_at_prev"] < pairs["opened_at"]) & (
        pairs["closed_at"].isna() | (pairs["closed_at"] >= pairs["opened_at"])
    )
    worse = pairs["severity"].map(RANK) < pairs["severity_prev"].map(RANK)
    return set(pairs.loc[overlapping & worse, "alert_id"])
