"""The results cache of ``mlqa check``: one JSON file under ``.mlqa_cache/``.

An entry is keyed by the file's path relative to the project root and holds
the hash of the file's bytes; the cache file's name holds a hash of the mlqa
version, the rule sources and the config that changes results. A file whose
bytes hash the same is not parsed again. Writes are atomic
(:func:`mlqa.files.write_atomic`), so concurrent pre-commit batches can only
lose an update, never corrupt the cache; an unreadable cache is ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

try:  # the blake2 module alone: importing hashlib loads OpenSSL, slow at start-up
    from _blake2 import blake2b
except ImportError:  # pragma: no cover
    from hashlib import blake2b

CACHE_DIR = ".mlqa_cache"


def save_file(root: Path | str, name: str, data: bytes) -> None:
    """Write one file of ``root/.mlqa_cache`` atomically; failures are ignored.

    The directory is made on first use, with a ``.gitignore`` of ``*`` in it
    (as ruff's and mypy's caches have). A read-only tree only loses the cache.

    Args:
        root: The project root.
        name: The file's name in the cache directory.
        data: Its content.
    """
    from mlqa.diagnostics import InputError
    from mlqa.files import write_atomic

    directory = os.path.join(root, CACHE_DIR)
    try:
        os.makedirs(directory, exist_ok=True)
        ignore = os.path.join(directory, ".gitignore")
        if not os.path.exists(ignore):
            with open(ignore, "w", encoding="utf-8") as handle:
                handle.write("# Created by mlqa\n*\n")
        write_atomic(os.path.join(directory, name), data)
    except (OSError, InputError):
        pass


def digest(data: bytes) -> str:
    """Hash file contents.

    Args:
        data: The bytes.

    Returns:
        A short hex digest.
    """
    return blake2b(data, digest_size=16).hexdigest()


class ResultCache:
    """Cached per-file results for one project and one configuration.

    Args:
        root: The project root; the cache lives in ``root/.mlqa_cache``.
        key: A string naming everything besides file contents that changes
            results (version, rule sources, config).
    """

    def __init__(self, root: Path, key: str) -> None:
        self.directory = root / CACHE_DIR
        self.path = self.directory / f"check-{digest(key.encode())}.json"
        self.entries: dict[str, Any] = {}
        self.dirty = False
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = None
        if isinstance(loaded, dict):
            self.entries = loaded

    def get(self, name: str, content_hash: str, kind: str) -> Any:
        """Return the cached result of a file, if its contents are unchanged.

        Args:
            name: The file's path relative to the root.
            content_hash: :func:`digest` of its bytes.
            kind: What was checked (rule families on), part of the key.

        Returns:
            The stored result, or None.
        """
        entry = self.entries.get(name)
        if (
            isinstance(entry, list)
            and len(entry) == 3
            and entry[:2] == [content_hash, kind]
        ):
            return entry[2]
        return None

    def put(self, name: str, content_hash: str, kind: str, result: Any) -> None:
        """Store a file's result.

        Args:
            name: The file's path relative to the root.
            content_hash: :func:`digest` of its bytes.
            kind: What was checked.
            result: JSON-serialisable result.
        """
        self.entries[name] = [content_hash, kind, result]
        self.dirty = True

    def save(self) -> None:
        """Write the cache atomically; failures (read-only tree) are ignored."""
        if not self.dirty:
            return
        root = self.directory.parent
        self.entries = {
            name: entry
            for name, entry in self.entries.items()
            if os.path.exists(name if os.path.isabs(name) else root / name)
        }
        data = json.dumps(self.entries, separators=(",", ":")).encode()
        save_file(root, self.path.name, data)
