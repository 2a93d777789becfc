"""Binds the resources every PartsFlow asset uses."""

from __future__ import annotations

import dagster as dg

from orchestration.resources import build_resources


@dg.definitions
def resource_defs() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
