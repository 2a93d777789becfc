"""The dashboard's pages: key (as in users.ROLE_PAGES), file, title and icon."""

from __future__ import annotations

from typing import NamedTuple


class PageInfo(NamedTuple):
    key: str
    path: str  # relative to dashboards/
    title: str
    icon: str


PAGES = (
    PageInfo("overview", "app_pages/overview.py", "Inventory overview", ":material/inventory_2:"),
    PageInfo("alerts", "app_pages/alerts.py", "Alerts", ":material/notifications:"),
    PageInfo("stock", "app_pages/stock.py", "Stock explorer", ":material/warehouse:"),
    PageInfo("forecasts", "app_pages/forecasts.py", "Forecasts", ":material/trending_up:"),
    PageInfo(
        "replenishment", "app_pages/replenishment.py", "Replenishment", ":material/local_shipping:"
    ),
    PageInfo("policy", "app_pages/policy.py", "Policy impact", ":material/balance:"),
    PageInfo("health", "app_pages/health.py", "Model & data health", ":material/monitor_heart:"),
)
TITLES = {p.key: p.title for p in PAGES}
