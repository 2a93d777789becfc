"""Finding landing files and identifying batches by content."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
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


def new_files(paths: Iterable[Path], known: set[str]) -> Iterator[tuple[Path, str]]:
    """(path, digest) of each file whose content is not in `known` (which it extends), so a file
    delivered twice, under any names, is a batch once.

    Hashing runs one file ahead in a thread (hashlib releases the GIL), overlapping the load.
    """
    paths = list(paths)
    with ThreadPoolExecutor(max_workers=1) as pool:
        for path, digest in zip(paths, pool.map(file_hash, paths), strict=True):
            if digest not in known:
                known.add(digest)
                yield path, digest
