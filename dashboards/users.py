"""Dashboard users: a YAML file of bcrypt hashes, roles and location scopes (no Streamlit here).

The file lives outside git (PARTSFLOW_USERS_FILE, default data/users.yaml); the repository only
holds dashboards/users.example.yaml. Layout:

    users:
      alice:
        name: Alice Example
        role: manager              # admin | executive | manager | planner | warehouse | technician
        locations: [L001, L002]    # required for manager, warehouse and technician
        password_hash: $2b$12$...
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml

PAGES = ("overview", "alerts", "stock", "forecasts", "replenishment", "policy", "health")
ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "admin": PAGES,
    "executive": ("overview", "alerts", "policy"),
    "manager": ("overview", "alerts", "stock", "forecasts", "replenishment", "policy"),
    "planner": ("forecasts", "replenishment", "policy", "health"),
    "warehouse": ("alerts", "stock"),
    "technician": ("alerts", "stock"),
}
# Roles that see their own locations only; the others see every location.
SCOPED_ROLES = frozenset({"manager", "warehouse", "technician"})
# Checked against when the user name is unknown, so both answers take as long.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=4))


class UsersFileError(ValueError):
    """The users file is missing or malformed (the message names the file and the user)."""


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str
    locations: tuple[str, ...] | None  # None: every location

    @property
    def pages(self) -> tuple[str, ...]:
        return ROLE_PAGES[self.role]

    def may_open(self, page: str) -> bool:
        return page in self.pages


@dataclass(frozen=True)
class _Entry:
    user: User
    password_hash: bytes


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def _entry(path: Path, username: str, raw: object) -> _Entry:
    where = f"{path}: user {username!r}"
    if not isinstance(raw, dict):
        raise UsersFileError(f"{where}: expected a mapping")
    role = raw.get("role")
    if role not in ROLE_PAGES:
        raise UsersFileError(f"{where}: role must be one of {', '.join(ROLE_PAGES)}, got {role!r}")
    hashed = raw.get("password_hash")
    if not isinstance(hashed, str) or not hashed.startswith("$2"):
        raise UsersFileError(f"{where}: password_hash must be a bcrypt hash ($2b$...)")
    locations: tuple[str, ...] | None = None
    if role in SCOPED_ROLES:
        locs = raw.get("locations")
        if not isinstance(locs, list) or not locs:
            raise UsersFileError(f"{where}: role {role} needs a non-empty list of locations")
        locations = tuple(str(loc) for loc in locs)
    user = User(username, str(raw.get("name") or username), role, locations)
    return _Entry(user, hashed.encode("ascii"))


def load_users(path: Path) -> dict[str, _Entry]:
    if not path.is_file():
        raise UsersFileError(
            f"No users file at {path}: run `partsflow users create-demo` or set "
            "PARTSFLOW_USERS_FILE (see dashboards/users.example.yaml)"
        )
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UsersFileError(f"{path}: not valid YAML: {exc}") from exc
    users = doc.get("users") if isinstance(doc, dict) else None
    if not isinstance(users, dict):
        raise UsersFileError(f"{path}: expected a top-level `users:` mapping")
    return {str(name): _entry(path, str(name), raw) for name, raw in users.items()}


def authenticate(path: Path, username: str, password: str) -> User | None:
    """The user when the password matches its hash, else None."""
    entry = load_users(path).get(username.strip())
    hashed = entry.password_hash if entry else _DUMMY_HASH
    ok = bcrypt.checkpw(password.encode("utf-8"), hashed)
    return entry.user if ok and entry else None


def write_users(path: Path, users: list[tuple[User, str]]) -> None:
    """Write (user, password_hash) pairs as a users file readable only by its owner."""
    doc = {
        "users": {
            u.username: {
                "name": u.name,
                "role": u.role,
                **({"locations": list(u.locations)} if u.locations is not None else {}),
                "password_hash": hashed,
            }
            for u, hashed in users
        }
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    path.chmod(0o600)


def demo_users(location_ids: list[str]) -> list[User]:
    """One user per role; the scoped ones get the first location (the manager the first two)."""
    if not location_ids:
        raise ValueError("demo users need at least one location id")
    first, managed = tuple(location_ids[:1]), tuple(location_ids[:2])
    return [
        User("admin", "Ada Admin", "admin", None),
        User("executive", "Eve Executive", "executive", None),
        User("manager", "Max Manager", "manager", managed),
        User("planner", "Pat Planner", "planner", None),
        User("warehouse", "Walt Warehouse", "warehouse", first),
        User("technician", "Tess Technician", "technician", first),
    ]


def create_demo_users(path: Path, location_ids: list[str]) -> list[tuple[User, str]]:
    """Write demo users with fresh random passwords; returns (user, password) to print once."""
    created = [(u, secrets.token_urlsafe(9)) for u in demo_users(location_ids)]
    write_users(path, [(u, hash_password(pw)) for u, pw in created])
    return created
