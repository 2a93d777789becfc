"""The synthetic landing-zone generator: determinism, contract conformance, realism, dirty rows.

Everything is checked from the written files (read back with pandas), not from generator internals.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.contract import CONTRACT, column_names, required_columns
from orchestration.generator import PRESETS, GeneratorConfig, generate_landing

CONFIG = GeneratorConfig(parts=80, locations=6, days=210, seed=7)
ENTITIES = tuple(CONTRACT)
TX_SIGN = {"ISSUE": -1, "TRANSFER_OUT": -1, "RECEIPT": 1, "TRANSFER_IN": 1, "RETURN": 1}
TS_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
INT_RE = r"^-?\d+$"
DEC_RE = r"^\d+(\.\d{1,4})?$"


# -- helpers --------------------------------------------------------------------------------------
def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def read_entity(root: Path, entity: str) -> pd.DataFrame:
    """All batch files of an entity as text, in file-name order, with the file name."""
    frames = []
    for path in sorted((root / entity).glob("*.csv")):
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        df["_file"] = path.name
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def signed(tx: pd.DataFrame) -> pd.Series:
    qty = tx["quantity"].astype(np.int64)
    return qty * tx["type"].map(TX_SIGN).fillna(1).astype(np.int64)


def with_pair(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(pair=df["part_id"] + "|" + df["location_id"])


# -- fixtures: one clean CSV landing, reused by most tests ----------------------------------------
@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("clean")
    return out, generate_landing(out, CONFIG)


@pytest.fixture(scope="module")
def frames(clean) -> dict[str, pd.DataFrame]:
    out, _ = clean
    return {e: read_entity(out, e) for e in ENTITIES}


# -- API and presets ------------------------------------------------------------------------------
def test_presets_and_validation():
    assert (PRESETS["demo"].parts, PRESETS["demo"].locations, PRESETS["demo"].days) == (300, 8, 730)
    assert (PRESETS["m"].parts, PRESETS["m"].locations, PRESETS["m"].days) == (2000, 20, 1095)
    assert (PRESETS["l"].parts, PRESETS["l"].locations, PRESETS["l"].days) == (10000, 50, 1095)
    assert PRESETS["demo"].start == date(2024, 1, 1) and PRESETS["demo"].seed == 42
    assert PRESETS["demo"].fmt == "csv" and PRESETS["demo"].dirty_rate == 0.0
    for bad in ({"fmt": "xlsx"}, {"days": 0}, {"dirty_rate": 1.5}):
        with pytest.raises(ValueError):
            replace(CONFIG, **bad)


def test_schema_matches_contract_module():
    # The platform's own column list (orchestration.contract) must agree with what we write.
    contract = pytest.importorskip("orchestration.contract")
    for entity in ENTITIES:
        assert column_names(entity) == contract.column_names(entity)
        assert required_columns(entity) == contract.required_columns(entity)


# -- determinism ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_config_gives_identical_files(tmp_path: Path, fmt: str):
    config = replace(CONFIG, parts=30, locations=4, days=75, fmt=fmt)
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    summary = generate_landing(a, config)
    generate_landing(b, config)
    generate_landing(c, replace(config, seed=config.seed + 1))
    ha, hb, hc = tree_hashes(a), tree_hashes(b), tree_hashes(c)
    assert ha == hb
    assert len(ha) == summary["files_written"] == sum(summary["files"].values())
    assert all(name.endswith("." + fmt) for name in ha)
    assert set(ha) == set(hc) and ha != hc
    assert (
        ha["transactions/transactions_2024-02." + fmt]
        != hc["transactions/transactions_2024-02." + fmt]
    )

    # Re-running into the same folder replaces the generator's own files (stale ones too) and
    # leaves foreign files alone.
    (a / "transactions" / "transactions_1999-01.csv").write_text("stale")
    (a / "transactions" / "notes.txt").write_text("keep me")
    generate_landing(a, config)
    again = tree_hashes(a)
    assert again.pop("transactions/notes.txt")
    assert again == hb


def test_parquet_has_native_types_and_same_content(tmp_path: Path, clean):
    out_csv, summary_csv = clean
    out = tmp_path / "pq"
    summary = generate_landing(out, replace(CONFIG, fmt="parquet"))
    assert summary["rows"] == summary_csv["rows"]
    types = {
        "stock_levels": {"as_of": pa.date32(), "on_hand": pa.int64()},
        "transactions": {
            "occurred_at": pa.timestamp("us"),
            "quantity": pa.int64(),
            "unit_cost": pa.float64(),
        },
        "purchase_orders": {"ordered_at": pa.timestamp("us"), "quantity": pa.int64()},
        "parts": {"unit_cost": pa.float64(), "lead_time_days": pa.int64()},
    }
    for entity, expected in types.items():
        path = sorted((out / entity).glob("*.parquet"))[0]
        schema = pq.read_schema(path)
        assert schema.names == column_names(entity)
        assert schema.metadata is None or b"pandas" not in schema.metadata
        for name, typ in expected.items():
            assert schema.field(name).type == typ, (entity, name)
    got = pq.read_table(out / "transactions" / "transactions_2024-03.parquet").to_pandas()
    want = pd.read_csv(out_csv / "transactions" / "transactions_2024-03.csv", keep_default_na=False)
    assert list(got["transaction_id"]) == list(want["transaction_id"])
    assert (got["occurred_at"] == pd.to_datetime(want["occurred_at"])).all()
    assert (got["quantity"] == want["quantity"]).all()


# -- contract conformance of clean output ---------------------------------------------------------
def test_files_layout_and_columns(clean, frames):
    out, summary = clean
    for entity in ENTITIES:
        files = sorted(p.name for p in (out / entity).iterdir())
        if entity in ("stock_levels", "transactions", "purchase_orders"):
            assert files == [f"{entity}_2024-{m:02d}.csv" for m in range(1, 8)]
        else:
            assert files == [f"{entity}.csv"]
        for path in (out / entity).iterdir():
            raw = path.read_bytes()
            assert raw.split(b"\n", 1)[0].decode() == ",".join(column_names(entity))
            raw.decode("utf-8")
        assert len(frames[entity]) == summary["rows"][entity]
    assert summary["injected_total"] == 0


def test_required_values_and_formats(frames):
    for entity, df in frames.items():
        for field in CONTRACT[entity]:
            col = df[field.name]
            if field.required:
                assert (col != "").all(), (entity, field.name)
            values = col[col != ""]
            patterns = {"timestamp": TS_RE, "date": DATE_RE, "int": INT_RE, "decimal": DEC_RE}
            if field.type not in patterns:
                continue
            assert values.str.match(patterns[field.type]).all(), (entity, field.name)
            if field.type in ("timestamp", "date"):
                pd.to_datetime(values, format="ISO8601")  # parses


def test_master_data_rules(frames):
    cats, sups, locs, parts = (frames[e] for e in ("categories", "suppliers", "locations", "parts"))
    # category tree: parents exist, no cycles, 2-3 levels, parts hang off leaves
    parent = dict(zip(cats["category_id"], cats["parent_category_id"], strict=True))
    assert cats["category_id"].is_unique
    depth = {}
    for cid in parent:
        seen, node = set(), cid
        while parent[node]:
            assert node not in seen, "cycle"
            seen.add(node)
            node = parent[node]
            assert node in parent
        depth[cid] = len(seen) + 1
    assert set(depth.values()) == {1, 2, 3}
    leaves = set(parent) - set(parent.values())
    assert set(parts["category_id"]) <= leaves
    # suppliers
    assert len(sups) >= 5 and sups["supplier_id"].is_unique
    lead = sups["lead_time_days"].astype(int)
    assert lead.between(3, 60).all()
    assert sups["reliability_score"].astype(float).between(0, 1).all()
    # locations: both types (~1/4 warehouses), several regions and countries
    assert set(locs["location_type"]) == {"warehouse", "service_center"}
    assert len(set(locs["region"])) >= 3 and len(set(locs["country"])) >= 5
    assert (locs["climate_zone"] != "").all()
    # parts
    assert parts["part_id"].is_unique and parts["part_number"].is_unique
    cost, price = parts["unit_cost"].astype(float), parts["unit_price"].astype(float)
    assert (cost > 0).all() and (price > cost).all()
    assert set(parts.loc[parts["supplier_id"] != "", "supplier_id"]) <= set(sups["supplier_id"])
    own_lead = parts["lead_time_days"]
    assert (own_lead == "").any() and (own_lead != "").any()
    assert (own_lead[own_lead != ""].astype(int) >= 0).all()
    assert (parts.loc[parts["supplier_id"] == "", "lead_time_days"] != "").all()
    assert (parts["shelf_life_days"] != "").any()


def test_movement_rules(frames):
    parts, locs = set(frames["parts"]["part_id"]), set(frames["locations"]["location_id"])
    sups = set(frames["suppliers"]["supplier_id"])
    tx, po, sl = frames["transactions"], frames["purchase_orders"], frames["stock_levels"]
    for df in (tx, po, sl):
        assert set(df["part_id"]) <= parts and set(df["location_id"]) <= locs
    # transactions
    assert tx["transaction_id"].is_unique
    assert set(tx["type"]) == {"ISSUE", "RECEIPT", "TRANSFER_OUT", "TRANSFER_IN", "RETURN",
                               "ADJUSTMENT"}  # fmt: skip
    qty = tx["quantity"].astype(int)
    is_adj = tx["type"] == "ADJUSTMENT"
    assert (qty[~is_adj] > 0).all() and (qty[is_adj] != 0).all()
    assert (qty[is_adj] < 0).any() and (qty[is_adj] > 0).any()
    at = pd.to_datetime(tx["occurred_at"])
    assert at.min() >= pd.Timestamp(CONFIG.start) and at.max() < pd.Timestamp(
        CONFIG.end
    ) + pd.Timedelta(days=1)
    assert (tx.loc[tx["type"] == "RECEIPT", "unit_cost"] != "").all()
    assert (tx["user_id"] != "").all()
    # transfers: every OUT has one IN with the same reference and quantity, same or next day,
    # same part, another location
    out = tx[tx["type"] == "TRANSFER_OUT"].set_index("reference")
    inn = tx[tx["type"] == "TRANSFER_IN"].set_index("reference")
    assert len(out) > 0 and out.index.is_unique and inn.index.is_unique
    assert set(out.index) == set(inn.index)
    inn = inn.loc[out.index]
    assert (out["quantity"] == inn["quantity"]).all() and (out["part_id"] == inn["part_id"]).all()
    assert (out["location_id"] != inn["location_id"]).all()
    lag = (pd.to_datetime(inn["occurred_at"]).dt.normalize()
           - pd.to_datetime(out["occurred_at"]).dt.normalize()).dt.days  # fmt: skip
    assert lag.isin([0, 1]).all()
    # returns reference an earlier issue of the same pair and never exceed it
    ret = tx[tx["type"] == "RETURN"].merge(
        tx[tx["type"] == "ISSUE"],
        left_on="reference",
        right_on="transaction_id",
        suffixes=("", "_i"),
    )
    assert len(ret) == (tx["type"] == "RETURN").sum() > 0
    assert (ret["part_id"] == ret["part_id_i"]).all() and (
        ret["occurred_at"] > ret["occurred_at_i"]
    ).all()
    assert (ret["quantity"].astype(int) <= ret["quantity_i"].astype(int)).all()
    # purchase orders: the latest row per po_id is a well-formed current state
    assert set(po["status"]) == {"OPEN", "RECEIVED", "CANCELLED"}
    assert (po["quantity"].astype(int) > 0).all()
    assert set(po.loc[po["supplier_id"] != "", "supplier_id"]) <= sups
    assert (po["_file"] == "purchase_orders_" + po["updated_at"].str[:7] + ".csv").all()
    opened = po[po["status"] == "OPEN"]
    assert (opened["updated_at"] == opened["ordered_at"]).all() and (
        opened["received_at"] == ""
    ).all()
    latest = po.sort_values(["po_id", "updated_at"]).groupby("po_id").tail(1)
    assert po.groupby("po_id").size().max() == 2
    received = latest[latest["status"] == "RECEIVED"]
    assert (received["received_at"] != "").all() and (
        received["received_at"] == received["updated_at"]
    ).all()
    assert (received["received_at"] > received["ordered_at"]).all()
    assert (latest.loc[latest["status"] != "RECEIVED", "received_at"] == "").all()
    assert (received["received_at"].str[:10] > received["expected_at"].str[:10]).any()  # some late
    # every RECEIVED po has exactly one RECEIPT with its quantity, part and location
    rec = tx[tx["type"] == "RECEIPT"].merge(
        received, left_on="reference", right_on="po_id", suffixes=("", "_po")
    )
    assert len(rec) == len(received) == (tx["type"] == "RECEIPT").sum()
    assert (rec["quantity"] == rec["quantity_po"]).all() and (
        rec["location_id"] == rec["location_id_po"]
    ).all()
    # stock levels
    assert (sl["on_hand"].astype(int) >= 0).all()
    crit, rop = sl["critical_threshold"].astype(int), sl["reorder_threshold"].astype(int)
    assert ((crit >= 0) & (crit <= rop)).all()
    assert set(sl["status"]) <= {"active", "discontinued", "quarantined"}
    share = sl["status"].value_counts(normalize=True)
    assert share["active"] > 0.9 and 0.005 < share.get("discontinued", 0) < 0.08
    assert not sl.duplicated(["as_of", "part_id", "location_id"]).any()
    days = pd.to_datetime(sl["as_of"].drop_duplicates())
    assert ((days.dt.dayofweek == 6) | (days == pd.Timestamp(CONFIG.end))).all()
    sundays = set(pd.date_range(CONFIG.start, CONFIG.end, freq="W-SUN"))
    assert set(days) == sundays | {pd.Timestamp(CONFIG.end)}
    # every stocked pair appears in every snapshot
    assert (sl.groupby("as_of").size() == sl.groupby("as_of").size().iloc[0]).all()
    # each part at 30-60% of locations on average, warehouses more often
    pairs = sl.drop_duplicates(["part_id", "location_id"]).merge(
        frames["locations"], on="location_id"
    )
    assert 0.3 <= len(pairs) / (CONFIG.parts * CONFIG.locations) <= 0.6
    by_type = (
        pairs.groupby("location_type").size() / frames["locations"].groupby("location_type").size()
    )
    assert by_type["warehouse"] > by_type["service_center"]


# -- snapshots vs ledger --------------------------------------------------------------------------
def _snapshots_and_ledger(frames):
    sl = with_pair(frames["stock_levels"])
    tx = with_pair(frames["transactions"])
    snap = sl.pivot(index="pair", columns="as_of", values="on_hand").astype(np.int64)
    snap_days = pd.to_datetime(pd.Series(snap.columns))
    tx = tx.assign(delta=signed(tx), day=pd.to_datetime(tx["occurred_at"].str[:10]))
    return snap, snap_days, tx


def test_snapshot_equals_previous_snapshot_plus_ledger_except_shrinkage(frames, clean):
    _, summary = clean
    snap, snap_days, tx = _snapshots_and_ledger(frames)
    # bucket k holds the transactions dated in (snapshot k-1, snapshot k]
    bucket = np.searchsorted(snap_days.values, tx["day"].values, side="left")
    moves = (
        tx.assign(bucket=bucket)
        .pivot_table(index="pair", columns="bucket", values="delta", aggfunc="sum", fill_value=0)
        .reindex(index=snap.index, columns=range(len(snap_days)), fill_value=0)
    )
    expected = snap.values[:, :-1] + moves.values[:, 1:]
    actual = snap.values[:, 1:]
    diff = actual - expected
    n_diff = int((diff != 0).sum())
    assert n_diff == summary["snapshot_discrepancies"] > 0
    assert (diff <= 0).all()  # unrecorded losses only
    assert n_diff / diff.size < 0.02

    # "latest snapshot + ledger since" is the stock: a running balance in timestamp order from the
    # previous snapshot never goes below zero (inflows are booked before outflows within a day).
    tx = tx.assign(bucket=bucket).sort_values(["pair", "occurred_at", "transaction_id"])
    tx = tx[tx["bucket"].between(1, len(snap_days) - 1)]
    start = snap.stack().rename("start").reset_index()
    start["bucket"] = start["as_of"].map({d: i + 1 for i, d in enumerate(snap.columns)})
    tx = tx.merge(start[["pair", "bucket", "start"]], on=["pair", "bucket"])
    running = tx.groupby(["pair", "bucket"])["delta"].cumsum() + tx["start"]
    assert (running >= 0).all()


def test_stockout_rate_from_files(frames, clean):
    _, summary = clean
    snap, snap_days, tx = _snapshots_and_ledger(frames)
    days = pd.date_range(CONFIG.start, CONFIG.end, freq="D")
    daily = tx.pivot_table(index="pair", columns="day", values="delta", aggfunc="sum", fill_value=0)
    daily = daily.reindex(index=snap.index, columns=days, fill_value=0).values
    cum = daily.cumsum(axis=1)
    snap_idx = np.searchsorted(days.values, snap_days.values)
    on_hand = np.empty_like(daily)
    # before the first snapshot: backwards from it; after: forwards from the previous one
    first = snap_idx[0]
    on_hand[:, : first + 1] = snap.values[:, [0]] - (cum[:, [first]] - cum[:, : first + 1])
    for k in range(1, len(snap_idx)):
        lo, hi = snap_idx[k - 1], snap_idx[k]
        on_hand[:, lo + 1 : hi] = snap.values[:, [k - 1]] + cum[:, lo + 1 : hi] - cum[:, [lo]]
        on_hand[:, hi] = snap.values[:, k]
    assert (on_hand >= 0).all()
    zero_days = int((on_hand == 0).sum())
    assert zero_days == summary["stockout_pair_days"]
    rate = zero_days / on_hand.size
    assert 0.003 <= rate <= 0.06, rate


def test_demand_pattern_mix_from_files(frames, clean):
    _, summary = clean
    issues = with_pair(frames["transactions"].query("type == 'ISSUE'"))
    issues = issues.assign(
        q=issues["quantity"].astype(np.int64), day=issues["occurred_at"].str[:10]
    )
    daily = issues.groupby(["pair", "day"])["q"].sum()
    per_pair = daily.groupby(level="pair").agg(n="size", s="sum", s2=lambda q: int((q * q).sum()))
    n, s, s2 = (per_pair[c].astype(np.int64) for c in ("n", "s", "s2"))
    adi_low = 100 * CONFIG.days < 132 * n  # ADI = days / demand days < 1.32
    cv2_low = 100 * (n * s2 - s * s) < 49 * s * s  # CV² < 0.49
    classes = pd.Series(
        np.select(
            [adi_low & cv2_low, adi_low & ~cv2_low, ~adi_low & cv2_low],
            ["smooth", "erratic", "intermittent"],
            "lumpy",
        )
    ).value_counts()
    for name in ("smooth", "erratic", "intermittent", "lumpy"):
        assert classes.get(name, 0) == summary["pattern_classes"][name] > 0, name
    slow = (classes["intermittent"] + classes["lumpy"]) / classes.sum()
    assert 0.5 < slow < 0.9
    # seasonality: fewer issues at weekends
    dow = pd.to_datetime(daily.reset_index()["day"]).dt.dayofweek
    per_dow = dow.value_counts().sort_index()
    assert per_dow[[5, 6]].max() < per_dow[[0, 1, 2, 3, 4]].min()


def test_tiny_and_odd_configs(tmp_path: Path):
    # one location (no transfers possible), horizon shorter than a week, start mid-week
    for i, config in enumerate(
        [
            GeneratorConfig(parts=3, locations=1, days=3, start=date(2025, 3, 5)),
            GeneratorConfig(parts=12, locations=2, days=40, start=date(2023, 12, 20), seed=1),
        ]
    ):
        out = tmp_path / str(i)
        summary = generate_landing(out, config)
        sl = read_entity(out, "stock_levels")
        assert sl["as_of"].max() == config.end.isoformat()
        assert summary["files"]["transactions"] >= 1 and summary["rows"]["parts"] == config.parts


# -- dirty rows -----------------------------------------------------------------------------------
def test_dirty_rate_injects_each_violation(tmp_path: Path, frames):
    out = tmp_path / "dirty"
    summary = generate_landing(out, replace(CONFIG, dirty_rate=0.02))
    inj = summary["injected"]
    for reason, count in inj["transactions"].items():
        assert count > 0, reason
    for entity in ("stock_levels", "purchase_orders", "parts"):
        assert sum(inj[entity].values()) > 0
    assert summary["injected_total"] == sum(sum(v.values()) for v in inj.values())
    clean_rows = {e: len(frames[e]) for e in ENTITIES}
    for entity in ENTITIES:
        assert summary["rows"][entity] == clean_rows[entity] + sum(inj[entity].values())

    tx = read_entity(out, "transactions")
    t = inj["transactions"]
    assert (tx["type"] == "SALE").sum() == t["unknown_enum"]
    unparseable = (tx["quantity"] == "abc") | (tx["occurred_at"] == "yesterday")
    assert unparseable.sum() == t["unparseable_type"]
    assert (tx["occurred_at"].str[:4] == "2099").sum() == t["future_timestamp"]
    assert (tx["occurred_at"].str.match(r"^19\d\d-")).sum() == t["ancient_timestamp"]
    assert (
        tx["part_id"].str.startswith("P-Z") | tx["location_id"].str.startswith("L-Z")
    ).sum() == t["unknown_reference"]
    ids = tx[tx["transaction_id"] != ""]
    dup = ids[ids.duplicated("transaction_id", keep=False)]
    content = [c for c in column_names("transactions")]
    identical = dup.duplicated(content, keep="first").sum()
    assert identical == t["duplicate_identical"]
    assert dup["transaction_id"].nunique() == t["duplicate_identical"] + t["duplicate_conflicting"]
    assert (dup.groupby("transaction_id")["_file"].nunique() == 2).all()  # in a later file

    sl = read_entity(out, "stock_levels")
    ok = sl["critical_threshold"].str.match(INT_RE) & sl["reorder_threshold"].str.match(INT_RE)
    above = sl[ok]["critical_threshold"].astype(int) > sl[ok]["reorder_threshold"].astype(int)
    assert above.sum() == inj["stock_levels"]["critical_above_reorder"]
    assert (sl["status"] == "lost").sum() == inj["stock_levels"]["unknown_enum"]

    # nothing else changed: without the injected rows the batches are exactly the clean ones
    kept = tx[tx["transaction_id"].str.match(r"^T-\d{10}$")]
    kept = kept.drop_duplicates("transaction_id", keep="first").reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, frames["transactions"])


def test_dirty_parquet_keeps_native_types_where_possible(tmp_path: Path):
    config = replace(CONFIG, parts=30, locations=4, days=70, fmt="parquet", dirty_rate=0.05)
    summary = generate_landing(tmp_path, config)
    for entity in ENTITIES:
        tables = [pq.read_table(p) for p in sorted((tmp_path / entity).glob("*.parquet"))]
        assert sum(t.num_rows for t in tables) == summary["rows"][entity]
        assert all(t.column_names == column_names(entity) for t in tables)
    # "abc" cannot be an int64: that file's quantity column is text, other columns stay native
    tx = pq.read_table(tmp_path / "transactions" / "transactions_2024-02.parquet")
    assert tx.schema.field("quantity").type == pa.string()
    assert "abc" in tx.column("quantity").to_pylist()
    assert tx.schema.field("unit_cost").type == pa.float64()


def test_progress_bar_runs(tmp_path: Path, capsys):
    generate_landing(tmp_path, GeneratorConfig(parts=5, locations=2, days=20), progress=True)
    assert "simulating" in capsys.readouterr().err
