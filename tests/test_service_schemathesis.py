"""The service as a real process against its own OpenAPI document (schemathesis): a short, seeded run of
generated requests, every operation; no 5xx, and every response conforms to the document."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.test_service_serve import free_port, serving, stop, wait_healthy


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    with serving("--port", str(port)) as proc:
        wait_healthy(proc, port, 60)
        yield proc, port
        stop(proc, port)


def test_the_service_keeps_to_its_openapi_document(running: tuple[subprocess.Popen[str], int]) -> None:
    # schemathesis' own pytest integration (from_fixture) does not run under this pytest; its
    # strategies do, one seeded hypothesis run per operation.
    schema = schemathesis.openapi.from_url(f"http://127.0.0.1:{running[1]}/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def conforms(case: Any) -> None:
            # Every check but "a schema-valid request is accepted": the catalog decides what has a
            # price (a model, an instant, a batch rate), and rules across fields (cached tokens within
            # the prompt) are not JSON Schema's; those requests get the 404/422 the document lists.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        conforms()
