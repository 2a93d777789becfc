"""Finding landing files and identifying batches by content."""

from __future__ import annotations

import hashlib
from pathlib import Path

SUPPORTED_SUFFIXES = (".csv", ".parquet")


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def landing_files(entity_dir: Path) -> list[Path]:
    """Batch files of one entity, in name order so loads are reproducible."""
    if not entity_dir.is_dir():
        return []
    return sorted(
        p for p in entity_dir.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
    )
