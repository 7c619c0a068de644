"""A compiled form of a loaded catalog, so a process need not parse and check the TOML again.

The TOML stays the one source of truth. A compiled file holds the loader's output (the validated
models) as JSON, and is keyed by the TOML's digest and by the loader's own code: a catalog or
loader that changed is compiled afresh. Reading one is never blind: the file must name the digest
and code it was made for, its payload must hash to the checksum it records, and it is decoded into
the typed Structs; anything else and the TOML is loaded instead (and the file rewritten).

The cache lives in ``$INFERENCE_COST_CACHE_DIR`` (``off`` disables it), else
``$XDG_CACHE_HOME/inference-cost`` or ``~/.cache/inference-cost``. A cache that cannot be written is
skipped silently: it only saves time.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import msgspec

from pricing.schema import Model

CACHE_ENV = "INFERENCE_COST_CACHE_DIR"
#: Compiled files kept; the least recently written beyond this are removed.
KEEP = 16
_HERE = Path(__file__).parent
#: The modules whose code decides what a catalog loads to: a change in any of them recompiles.
_CODE_FILES = ("schema.py", "loader.py", "catalog.py", "compiled.py")


class _Header(msgspec.Struct, frozen=True):
    digest: str
    code: str
    checksum: str


_HEADER = msgspec.json.Decoder(_Header)
_MODELS = msgspec.json.Decoder(list[Model])
_ENCODER = msgspec.json.Encoder()


def cache_dir() -> Path | None:
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "inference-cost"


@functools.cache
def code_key() -> str:
    h = hashlib.sha256()
    for name in _CODE_FILES:
        h.update((_HERE / name).read_bytes())
    return h.hexdigest()[:16]


def _path(folder: Path, digest: str) -> Path:
    return folder / f"{digest.removeprefix('sha256:')}-{code_key()}.json"


def read(digest: str) -> list[Model] | None:
    """The models compiled from the catalog of ``digest`` by this code, or None (absent, stale, damaged)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        data = _path(folder, digest).read_bytes()
        head, _, payload = data.partition(b"\n")
        header = _HEADER.decode(head)
        if (header.digest, header.code) != (digest, code_key()):
            return None
        if hashlib.sha256(payload).hexdigest() != header.checksum:
            return None
        return _MODELS.decode(payload)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None


def write(digest: str, models: Sequence[Model]) -> None:
    """Compile ``models`` (loaded from the catalog of ``digest``) into the cache, atomically; best effort."""
    folder = cache_dir()
    if folder is None:
        return
    payload = _ENCODER.encode(list(models))
    head = _ENCODER.encode(_Header(digest=digest, code=code_key(), checksum=hashlib.sha256(payload).hexdigest()))
    import tempfile  # only when compiling: keeps `import pricing` light

    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".compiling-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(head + b"\n" + payload)
            os.replace(temporary, _path(folder, digest))
        except BaseException:
            os.unlink(temporary)
            raise
        compiled = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in compiled[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        return
