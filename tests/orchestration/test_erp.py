"""The ERP source database: COPY-upsert of landing files, change_seq, incremental reads."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from pathlib import Path

import psycopg
import pytest

from orchestration import erp
from orchestration.contract import CONTRACT, column_names
from orchestration.generator import GeneratorConfig, generate_landing
from orchestration.generator.schema import MONTHLY_ENTITIES

pytestmark = pytest.mark.postgres

SHORT = GeneratorConfig(parts=15, locations=3, days=60, seed=3)
LONG = GeneratorConfig(parts=15, locations=3, days=90, seed=3)  # same seed, a longer history


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("erp_landing")
    generate_landing(root / "short", SHORT)
    generate_landing(root / "long", LONG)
    generate_landing(root / "long_parquet", replace(LONG, fmt="parquet"))
    return {"short": root / "short", "long": root / "long", "parquet": root / "long_parquet"}


# --- expectations straight from the CSV files -------------------------------------------------


def _key(entity: str, row: tuple) -> tuple:
    names = column_names(entity)
    return tuple(row[names.index(k)] for k in erp.PRIMARY_KEYS[entity])


def _contract_text(entity: str, row: dict[str, str]) -> tuple:
    """A CSV row as read_changes returns it: '' -> None, timestamps with an explicit UTC offset."""
    out = []
    for col in CONTRACT[entity]:
        value = row[col.name] or None
        if value is not None and col.type == "timestamp":
            value += "+00:00"
        out.append(value)
    return tuple(out)


def _file_rows(root: Path, entity: str) -> list[tuple]:
    rows = []
    for path in sorted((root / entity).glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            rows += [_contract_text(entity, r) for r in csv.DictReader(fh)]
    return rows


def _state(*roots: Path) -> dict[str, dict[tuple, tuple]]:
    """What the ERP holds after delivering roots in order: last delivered wins per key, except a
    purchase order keeps its latest updated_at."""
    at = column_names("purchase_orders").index("updated_at")
    state: dict[str, dict[tuple, tuple]] = {e: {} for e in CONTRACT}
    for root in roots:
        for entity in CONTRACT:
            for row in _file_rows(root, entity):
                key, old = _key(entity, row), state[entity].get(_key(entity, row))
                if entity == "purchase_orders" and old is not None and old[at] > row[at]:
                    continue
                state[entity][key] = row
    return state


def _changes(url: str, entity: str, after: int, chunk_rows: int = 200_000):
    """{key: row} of read_changes, checking chunk shape, ordering and the reported seqs."""
    out, last = {}, after
    for columns, rows, seq in erp.read_changes(url, entity, after, chunk_rows=chunk_rows):
        assert columns == column_names(entity)
        assert rows and len(rows) <= chunk_rows and seq > last
        last = seq
        for row in rows:
            assert _key(entity, row) not in out  # one row per key: its current state
            out[_key(entity, row)] = row
    return out, last


# --- tests -------------------------------------------------------------------------------------


def test_schema_is_idempotent_and_shaped_like_the_contract(pg_database_url):
    assert erp.max_seq(pg_database_url) == 0  # no schema yet
    erp.create_schema(pg_database_url)
    erp.create_schema(pg_database_url)
    assert erp.max_seq(pg_database_url) == 0
    with psycopg.connect(pg_database_url) as conn:
        for entity, columns in CONTRACT.items():
            got = conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'erp' AND table_name = %s ORDER BY ordinal_position",
                (entity,),
            ).fetchall()
            types = {"text": "text", "int": "bigint", "decimal": "numeric", "date": "date"}
            expected = [(c.name, types.get(c.type, "timestamp with time zone")) for c in columns]
            assert got == [*expected, ("change_seq", "bigint")]
            pk = conn.execute(
                "SELECT array_agg(a.attname ORDER BY k.ord) FROM pg_index i "
                "CROSS JOIN unnest(i.indkey) WITH ORDINALITY k(attnum, ord) "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE i.indrelid = %s::regclass AND i.indisprimary",
                (f"erp.{entity}",),
            ).fetchone()[0]
            assert tuple(pk) == erp.PRIMARY_KEYS[entity]
    with pytest.raises(ValueError, match="unknown entity"):
        erp.read_changes(pg_database_url, "erp.parts; drop table x", 0)


def test_load_then_read_everything_as_contract_text(pg_database_url, landing):
    counts = erp.load_from_landing(pg_database_url, landing["short"])
    expected = _state(landing["short"])
    seen_max = 0
    for entity in CONTRACT:
        distinct = {_key(entity, r) for r in _file_rows(landing["short"], entity)}
        got, last = _changes(pg_database_url, entity, 0, chunk_rows=100)
        assert len(got) == len(distinct), entity  # one ERP row per key in the files
        assert got == expected[entity], entity
        seen_max = max(seen_max, last)
        if entity != "purchase_orders":
            assert counts[entity] == len(distinct), entity
    # A PO created in January and received in February is inserted, then updated: two upserts.
    assert len(expected["purchase_orders"]) < counts["purchase_orders"]
    assert erp.max_seq(pg_database_url) == seen_max

    # Spot-check the text forms (the comparison above already covers every value).
    tx, _ = _changes(pg_database_url, "transactions", 0)
    row = next(iter(tx.values()))
    assert row[1].endswith("+00:00") and "T" in row[1] and len(row[1]) == 25
    assert all(r[5].lstrip("-").isdigit() for r in tx.values())  # ints, no '.0'
    stock, _ = _changes(pg_database_url, "stock_levels", 0)
    assert all(len(r[0]) == 10 and r[0][4] == "-" for r in stock.values())


def test_append_returns_only_new_or_changed_rows_and_is_idempotent(pg_database_url, landing):
    erp.load_from_landing(pg_database_url, landing["short"])
    before = _state(landing["short"])
    after = _state(landing["short"], landing["long"])
    seq0 = erp.max_seq(pg_database_url)

    counts = erp.append(pg_database_url, landing["long"])
    for entity in CONTRACT:
        changed = {k: r for k, r in after[entity].items() if before[entity].get(k) != r}
        got, _ = _changes(pg_database_url, entity, seq0)
        assert got == changed, entity
        if entity == "purchase_orders":  # a PO updated in two monthly files: two upserts
            assert counts[entity] >= len(changed)
        else:
            assert counts[entity] == len(changed), entity
        full, _ = _changes(pg_database_url, entity, 0)
        assert full == after[entity], entity  # nothing lost, nothing deleted

    # Transactions: the new ids, plus the few the longer run re-rendered (generator's last day).
    tx, _ = _changes(pg_database_url, "transactions", seq0)
    new_ids = {k for k in after["transactions"] if k not in before["transactions"]}
    assert new_ids and new_ids <= set(tx)
    assert len(new_ids) == len(after["transactions"]) - len(before["transactions"])
    assert all(before["transactions"][k] != tx[k] for k in set(tx) - new_ids)
    # Purchase orders that moved on (OPEN -> RECEIVED ...) come back with their new state.
    po, _ = _changes(pg_database_url, "purchase_orders", seq0)
    moved = {k for k in po if k in before["purchase_orders"]}
    assert moved and all(po[k] != before["purchase_orders"][k] for k in moved)
    assert not _changes(pg_database_url, "categories", seq0)[0]  # master data unchanged

    # The same delivery again: no updates, no new change_seq.
    seq1 = erp.max_seq(pg_database_url)
    assert erp.append(pg_database_url, landing["long"]) == dict.fromkeys(CONTRACT, 0)
    assert erp.max_seq(pg_database_url) == seq1
    assert all(not _changes(pg_database_url, e, seq1)[0] for e in CONTRACT)

    # An older delivery never takes a purchase order back in time.
    assert erp.append(pg_database_url, landing["short"])["purchase_orders"] == 0


def test_append_since_only_delivers_later_months(pg_database_url, landing):
    files = erp.landing_files(landing["long"], since=date(2024, 3, 1))
    months = {p.name for _, p in files if "_2024-" in p.name}
    assert months == {f"{e}_2024-03.csv" for e in MONTHLY_ENTITIES}
    assert {e for e, _ in files} == set(CONTRACT)  # master files always go along

    erp.load_from_landing(pg_database_url, landing["short"])
    before = _state(landing["short"])
    seq0 = erp.max_seq(pg_database_url)
    counts = erp.append(pg_database_url, landing["long"], since=date(2024, 3, 1))
    march = {
        _key("transactions", r)
        for r in _file_rows(landing["long"], "transactions")
        if r[1].startswith("2024-03")
    }
    assert counts["transactions"] == len(march)
    assert set(_changes(pg_database_url, "transactions", seq0)[0]) == march
    assert not march & set(before["transactions"])


def test_parquet_delivery_loads_the_same_values_as_csv(pg_database_url, landing):
    erp.load_from_landing(pg_database_url, landing["parquet"])
    expected = _state(landing["long"])
    for entity in CONTRACT:
        assert _changes(pg_database_url, entity, 0)[0] == expected[entity], entity


def test_trigger_bumps_change_seq_only_on_real_changes(pg_database_url, landing):
    erp.load_from_landing(pg_database_url, landing["short"])
    seq0 = erp.max_seq(pg_database_url)
    with psycopg.connect(pg_database_url, autocommit=True) as conn:
        conn.execute("UPDATE erp.parts SET unit_cost = unit_cost")  # touches, changes nothing
        assert erp.max_seq(pg_database_url) == seq0
        conn.execute("UPDATE erp.parts SET unit_price = 1.50 WHERE part_id = %s", ("P-000001",))
    got, last = _changes(pg_database_url, "parts", seq0)
    assert list(got) == [("P-000001",)] and got[("P-000001",)][6] == "1.5"
    assert last == erp.max_seq(pg_database_url) > seq0


def test_loose_csv_empty_strings_are_null(pg_database_url, tmp_path):
    folder = tmp_path / "suppliers"
    folder.mkdir()
    (folder / "suppliers.csv").write_bytes(
        "\ufeffNAME,Supplier_ID,extra,reliability_score\n"
        'Acme,NULL,x,0.50\n"Comma, Inc",S 2,,\n"",S-3,y,1\n'.encode()
    )
    assert erp.load_from_landing(pg_database_url, tmp_path)["suppliers"] == 3
    got, _ = _changes(pg_database_url, "suppliers", 0)
    assert got == {
        ("NULL",): ("NULL", "Acme", None, "0.5"),
        ("S 2",): ("S 2", "Comma, Inc", None, None),
        ("S-3",): ("S-3", None, None, "1"),
    }
