"""A compiled form of a loaded catalog, so a process need not parse and check the TOML again.

The TOML stays the one source of truth. A compiled file holds the loader's output (the validated
models) as JSON, and is keyed by the TOML's digest and by the loader's own code: a catalog or
loader that changed is compiled afresh. Reading one is never blind: the file must name the digest
and code it was made for, its payload must hash to the checksum it records, and it is decoded into
the typed Structs; anything else and the TOML is loaded instead. This module only reads compiled
files and says what one holds (``compile_models``): writing them is the shell's job
(``service/catalog_cache.py``, run by ``make install`` and by every load the service and CLI make).

The cache lives in ``$INFERENCE_COST_CACHE_DIR`` (``off`` disables it), else
``$XDG_CACHE_HOME/inference-cost`` or ``~/.cache/inference-cost``.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Sequence

import msgspec

from pricing.schema import Model

CACHE_ENV = "INFERENCE_COST_CACHE_DIR"
_HERE = os.path.dirname(__file__)
#: The modules whose code decides what a catalog loads to: a change in any of them recompiles.
_CODE_FILES = ("schema.py", "loader.py", "catalog.py", "compiled.py")


class _Header(msgspec.Struct, frozen=True):
    digest: str
    code: str
    checksum: str


_HEADER = msgspec.json.Decoder(_Header)
_MODELS = msgspec.json.Decoder(list[Model])
_ENCODER = msgspec.json.Encoder()


def cache_dir() -> str | None:
    """The folder compiled files live in, or None when the cache is off."""
    # Plain strings and os.path, not pathlib, here and below: this runs at every start-up.
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off") else configured
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "inference-cost")


@functools.cache
def code_key() -> str:
    h = hashlib.sha256()
    for name in _CODE_FILES:
        with open(os.path.join(_HERE, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def _path(folder: str, digest: str) -> str:
    return os.path.join(folder, f"{digest.removeprefix('sha256:')}-{code_key()}.json")


def _payload(digest: str) -> bytes | None:
    """The checked payload of the compiled file for ``digest`` (header and checksum match), or None."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        with open(_path(folder, digest), "rb") as f:
            data = f.read()
        head, _, payload = data.partition(b"\n")
        header = _HEADER.decode(head)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    if (header.digest, header.code) != (digest, code_key()):
        return None
    if hashlib.sha256(payload).hexdigest() != header.checksum:
        return None
    return payload


def read(digest: str) -> list[Model] | None:
    """The models compiled from the catalog of ``digest`` by this code, or None (absent, stale, damaged)."""
    payload = _payload(digest)
    if payload is None:
        return None
    try:
        return _MODELS.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None


def is_current(digest: str) -> bool:
    """Whether the cache holds an intact compiled file for ``digest`` made by this code: what ``read``
    checks short of decoding the models (the decoding is most of its cost)."""
    return _payload(digest) is not None


def path_of(folder: str, digest: str) -> str:
    """Where the compiled form of the catalog of ``digest``, made by this code, lives in ``folder``."""
    return _path(folder, digest)


def compile_models(digest: str, models: Sequence[Model]) -> bytes:
    """The compiled file's content for ``models``, loaded from the catalog of ``digest``: a header line
    naming the digest, this code's version and the payload's checksum, then the payload."""
    payload = _ENCODER.encode(list(models))
    head = _ENCODER.encode(_Header(digest=digest, code=code_key(), checksum=hashlib.sha256(payload).hexdigest()))
    return head + b"\n" + payload
