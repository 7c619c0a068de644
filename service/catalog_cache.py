"""Writing the compiled catalog (``pricing.compiled``) into its cache: the engine only reads it.

Best effort and atomic: a cache that cannot be written is skipped (it only saves start-up time), and a
reader never sees half a file. At most ``KEEP`` compiled files are kept, the newest.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pricing import Catalog, compiled

#: Compiled files kept; the least recently written beyond this are removed.
KEEP = 16


def save(catalog: Catalog) -> None:
    """Compile ``catalog`` into the cache unless its compiled form is there already."""
    where = compiled.cache_dir()
    if where is None or compiled.is_current(catalog.digest):
        return
    folder = Path(where)
    content = compiled.compile_models(catalog.digest, catalog.models())
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".compiling-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(content)
            os.replace(temporary, compiled.path_of(where, catalog.digest))
        except BaseException:
            os.unlink(temporary)
            raise
        kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        return
