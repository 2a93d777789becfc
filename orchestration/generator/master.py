"""Master data: the category tree, suppliers, locations and parts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.generator.schema import make_table

# Top level > group > leaf. A group with no leaves is itself a leaf, so the tree mixes 2 and 3
# levels, as real part catalogues do.
TAXONOMY: dict[str, dict[str, tuple[str, ...]]] = {
    "Engine": {
        "Filters": ("Oil filters", "Air filters", "Fuel filters"),
        "Gaskets and seals": (),
        "Ignition": ("Spark plugs", "Ignition coils"),
        "Belts and chains": (),
    },
    "Brakes": {
        "Brake pads": (),
        "Brake discs": (),
        "Brake hydraulics": ("Brake hoses", "Master cylinders"),
    },
    "Electrical": {
        "Batteries": (),
        "Sensors": ("Temperature sensors", "Pressure sensors", "Position sensors"),
        "Lighting": ("Bulbs", "LED modules"),
        "Fuses and relays": (),
    },
    "Hydraulics": {"Pumps": (), "Valves": ("Control valves", "Relief valves"), "Cylinders": ()},
    "Drivetrain": {
        "Bearings": ("Ball bearings", "Roller bearings"),
        "Gearbox parts": (),
        "Couplings": (),
    },
    "Cooling": {"Radiators": (), "Thermostats": (), "Fans": ()},
    "Body and cabin": {"Mirrors": (), "Wipers": (), "Seats": ()},
}

REGION_OF: dict[str, str] = {
    "DE": "EMEA", "FR": "EMEA", "GB": "EMEA", "NL": "EMEA",
    "US": "Americas", "CA": "Americas", "BR": "Americas",
    "JP": "APAC", "AU": "APAC", "SG": "APAC",
}  # fmt: skip
# Spread order: the first locations cover every region and many countries even for small configs.
COUNTRY_ORDER = ("DE", "US", "JP", "FR", "CA", "AU", "GB", "BR", "SG", "NL")
COUNTRY_WEIGHTS = (0.16, 0.2, 0.08, 0.1, 0.07, 0.06, 0.1, 0.08, 0.05, 0.1)
CITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "DE": (("Hamburg", "temperate"), ("München", "continental"), ("Frankfurt", "temperate")),
    "FR": (("Lyon", "temperate"), ("Marseille", "mediterranean"), ("Lille", "temperate")),
    "GB": (("Manchester", "temperate"), ("Birmingham", "temperate"), ("Glasgow", "cold")),
    "NL": (("Rotterdam", "temperate"), ("Eindhoven", "temperate")),
    "US": (("Chicago", "continental"), ("Houston", "subtropical"), ("Phoenix", "arid")),
    "CA": (("Toronto", "continental"), ("Calgary", "cold"), ("Montréal", "cold")),
    "BR": (("São Paulo", "subtropical"), ("Recife", "tropical"), ("Curitiba", "subtropical")),
    "JP": (("Osaka", "subtropical"), ("Nagoya", "subtropical"), ("Sapporo", "cold")),
    "AU": (("Sydney", "subtropical"), ("Perth", "mediterranean"), ("Darwin", "tropical")),
    "SG": (("Singapore", "tropical"),),
}
SOUTHERN = ("BR", "AU")  # yearly seasonality is shifted by half a year there

SUPPLIER_STEMS = (
    "Nordwerk", "Atlas", "Meridian", "Pacific", "Rheintal", "Bluewater", "Kestrel", "Orion",
    "Sakura", "Vanguard", "Helix", "Ironbridge", "Lusitania", "Polar", "Summit", "Tasman",
)  # fmt: skip
SUPPLIER_KINDS = ("Components", "Industrial Supply", "Parts", "Technik", "Hydraulics", "Motion")
SUPPLIER_LEGAL = ("GmbH", "Ltd", "Inc.", "S.A.", "B.V.", "K.K.", "Pty Ltd")
VARIANTS = ("standard", "heavy duty", "compact", "high temperature", "OEM", "premium")
SHELF_LIVES = (180, 365, 730, 1095, 1825)


@dataclass(frozen=True)
class Master:
    """Master tables plus the per-part / per-location arrays the simulation needs."""

    tables: dict[str, pa.Table]
    part_ids: pa.Array
    part_cost: np.ndarray  # float64
    part_top: np.ndarray  # index of the part's top-level category (shared seasonality)
    part_supplier: np.ndarray  # int64 index into supplier_ids, -1 for no supplier
    part_lead: np.ndarray  # effective lead time in days (own, else the supplier's)
    part_reliability: np.ndarray  # the supplier's reliability (0.9 without supplier)
    supplier_ids: pa.Array
    loc_ids: pa.Array
    loc_country: tuple[str, ...]
    loc_is_warehouse: np.ndarray  # bool
    loc_scale: np.ndarray  # demand size multiplier
    loc_south: np.ndarray  # bool


def _ids(prefix: str, n: int, width: int) -> list[str]:
    width = max(width, len(str(n)))
    return [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]


def _categories() -> tuple[pa.Table, list[int], list[str]]:
    ids: list[str] = []
    names: list[str] = []
    parents: list[str | None] = []
    leaves: list[int] = []
    tops: list[str] = []

    def add(name: str, parent: str | None, top: str) -> str:
        ids.append(f"C-{len(ids) + 1:03d}")
        names.append(name)
        parents.append(parent)
        tops.append(top)
        return ids[-1]

    for top, groups in TAXONOMY.items():
        top_id = add(top, None, top)
        for group, leaf_names in groups.items():
            group_id = add(group, top_id, top)
            if not leaf_names:
                leaves.append(len(ids) - 1)
            for leaf in leaf_names:
                add(leaf, group_id, top)
                leaves.append(len(ids) - 1)
    table = make_table(
        "categories", {"category_id": ids, "name": names, "parent_category_id": parents}
    )
    return table, leaves, tops


def _suppliers(rng: np.random.Generator, n: int) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    combos = len(SUPPLIER_STEMS) * len(SUPPLIER_KINDS)
    order = rng.permutation(combos)
    names = []
    for i in range(n):
        c = int(order[i % combos])
        name = (
            f"{SUPPLIER_STEMS[c % len(SUPPLIER_STEMS)]} {SUPPLIER_KINDS[c // len(SUPPLIER_STEMS)]}"
        )
        suffix = f" {i // combos + 1}" if i >= combos else ""
        names.append(f"{name}{suffix} {SUPPLIER_LEGAL[int(rng.integers(len(SUPPLIER_LEGAL)))]}")
    # Lead times are right-skewed (most suppliers deliver in 1-3 weeks, a few from overseas).
    lead = np.clip(np.rint(rng.lognormal(np.log(14.0), 0.6, n)), 3, 60).astype(np.int64)
    reliability = np.round(np.clip(rng.beta(9.0, 2.0, n), 0.35, 1.0), 4)
    table = make_table(
        "suppliers",
        {
            "supplier_id": _ids("S-", n, 4),
            "name": names,
            "lead_time_days": lead,
            "reliability_score": reliability,
        },
    )
    return table, lead, reliability


def _locations(rng: np.random.Generator, n: int) -> tuple[pa.Table, list[str], np.ndarray]:
    countries = [COUNTRY_ORDER[i] for i in range(min(n, len(COUNTRY_ORDER)))]
    if n > len(COUNTRY_ORDER):
        extra = rng.choice(len(COUNTRY_ORDER), n - len(COUNTRY_ORDER), p=COUNTRY_WEIGHTS)
        countries += [COUNTRY_ORDER[int(i)] for i in extra]
    is_wh = np.zeros(n, dtype=bool)
    is_wh[rng.choice(n, max(1, round(n / 4)), replace=False)] = True
    seen: dict[tuple[str, bool], int] = {}
    names, climates = [], []
    for i, country in enumerate(countries):
        k = seen.get((country, bool(is_wh[i])), 0)
        seen[(country, bool(is_wh[i]))] = k + 1
        city, climate = CITIES[country][k % len(CITIES[country])]
        label = "Warehouse" if is_wh[i] else "Service Center"
        number = f" {k // len(CITIES[country]) + 1}" if k >= len(CITIES[country]) else ""
        names.append(f"{city} {label}{number}")
        climates.append(climate)
    table = make_table(
        "locations",
        {
            "location_id": _ids("L-", n, 3),
            "name": names,
            "region": [REGION_OF[c] for c in countries],
            "country": countries,
            "location_type": ["warehouse" if w else "service_center" for w in is_wh],
            "climate_zone": climates,
        },
    )
    return table, countries, is_wh


def build_master(rng: np.random.Generator, parts: int, locations: int) -> Master:
    cat_table, leaves, tops = _categories()
    cat_ids = cat_table.column("category_id").to_pylist()
    cat_names = cat_table.column("name").to_pylist()
    n_sup = max(5, round(0.05 * parts))
    sup_table, sup_lead, sup_rel = _suppliers(rng, n_sup)
    loc_table, countries, is_wh = _locations(rng, locations)

    # Parts: a few popular leaf categories hold most parts; suppliers are Zipf-like too.
    leaf_w = rng.dirichlet(np.full(len(leaves), 2.0))
    leaf = rng.choice(len(leaves), parts, p=leaf_w)
    sup_w = 1.0 / np.arange(1, n_sup + 1) ** 0.8
    supplier = rng.choice(n_sup, parts, p=sup_w / sup_w.sum()).astype(np.int64)
    no_supplier = rng.random(parts) < 0.02
    supplier[no_supplier] = -1
    cost = np.round(np.clip(rng.lognormal(np.log(35.0), 1.3, parts), 0.5, 25000.0), 2)
    price = np.round(cost * rng.uniform(1.2, 2.2, parts), 2)
    price = np.maximum(price, np.round(cost + 0.01, 2))
    own_lead = np.clip(np.rint(rng.lognormal(np.log(18.0), 0.6, parts)), 3, 60).astype(np.int64)
    has_own_lead = no_supplier | (rng.random(parts) < 0.3)
    shelf = np.array(SHELF_LIVES)[rng.integers(0, len(SHELF_LIVES), parts)]
    has_shelf = rng.random(parts) < 0.15
    variant = rng.integers(0, len(VARIANTS), parts)
    model = rng.integers(100, 10000, parts)
    number = 100000 + rng.permutation(900000)[:parts] if parts <= 900000 else np.arange(parts)

    leaf_cat = [leaves[int(j)] for j in leaf]
    descriptions = [
        f"{cat_names[c]} {VARIANTS[int(v)]} model {int(m)}"
        for c, v, m in zip(leaf_cat, variant, model, strict=True)
    ]
    part_numbers = [
        f"{tops[c][:3].upper()}-{int(num)}" for c, num in zip(leaf_cat, number, strict=True)
    ]
    sup_ids = sup_table.column("supplier_id").combine_chunks()
    part_ids = pa.array(_ids("P-", parts, 6))
    parts_table = make_table(
        "parts",
        {
            "part_id": part_ids,
            "part_number": part_numbers,
            "description": descriptions,
            "category_id": [cat_ids[c] for c in leaf_cat],
            "supplier_id": pa.array(
                [None if s < 0 else sup_ids[int(s)].as_py() for s in supplier], pa.string()
            ),
            "unit_cost": cost,
            "unit_price": price,
            "lead_time_days": pa.array(own_lead, mask=~has_own_lead),
            "shelf_life_days": pa.array(shelf, mask=~has_shelf),
        },
    )
    effective_lead = np.where(has_own_lead, own_lead, sup_lead[np.maximum(supplier, 0)])
    reliability = np.where(supplier >= 0, sup_rel[np.maximum(supplier, 0)], 0.9)
    loc_scale = rng.lognormal(0.0, 0.35, locations) * np.where(is_wh, 1.6, 1.0)
    return Master(
        tables={
            "categories": cat_table,
            "suppliers": sup_table,
            "locations": loc_table,
            "parts": parts_table,
        },
        part_ids=part_ids,
        part_cost=cost,
        part_top=np.unique(np.array([tops[c] for c in leaf_cat]), return_inverse=True)[1],
        part_supplier=supplier,
        part_lead=effective_lead.astype(np.int64),
        part_reliability=reliability,
        supplier_ids=sup_ids,
        loc_ids=loc_table.column("location_id").combine_chunks(),
        loc_country=tuple(countries),
        loc_is_warehouse=is_wh,
        loc_scale=loc_scale,
        loc_south=np.array([c in SOUTHERN for c in countries]),
    )
