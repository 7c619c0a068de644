"""Hypothesis profiles for the whole suite, and a helper fixture to build small test catalogs.

``HYPOTHESIS_PROFILE=dev pytest`` runs more examples; the default "ci" profile is derandomized so a
CI run is reproducible and fails the same way on a developer's machine.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings

from pricing import Catalog

# deadline=None: a 2-core machine shared with other jobs makes timings noisy; the suite's run time
# is bounded by max_examples instead. too_slow: generated catalogs are big-ish by design.
settings.register_profile(
    "ci", max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="session")
def _private_catalog_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The suite compiles catalogs into a folder of its own, never the user's ``~/.cache``: a test
    run must neither evict what ``make install`` built nor read a compiled file it did not make."""
    os.environ["INFERENCE_COST_CACHE_DIR"] = str(tmp_path_factory.mktemp("compiled-catalogs"))


@pytest.fixture
def make_catalog() -> Callable[..., Catalog]:
    """``make_catalog(text, ...)``: a ``Catalog`` from indented TOML documents, one a file.

    The files are named ``a.toml``, ``b.toml``, ... so errors can be checked for the file name.
    """

    def make(*documents: str) -> Catalog:
        names = [f"{chr(ord('a') + i)}.toml" for i in range(len(documents))]
        return Catalog.loads(*(textwrap.dedent(d) for d in documents), names=names)

    return make


@pytest.fixture(scope="session")
def spark():  # type: ignore[no-untyped-def]
    """One local Spark session for every test that needs one (starting a JVM is the slow part)."""
    from service.usage.engines import spark_session

    session = spark_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
