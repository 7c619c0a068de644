"""``catalog check``'s warnings about shutdowns, stale routes and aliases shared across providers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pricing import Catalog
from pricing.lint import lint
from service.cli import main

TODAY = date(2026, 12, 1)

ACME = """\
provider = "acme"

[[models]]
id = "old"
shutdown = 2026-10-01T00:00:00Z
shutdown_source = "https://acme.example/deprecations"
{old_extra}

[[models.periods]]
from = 2026-01-01T00:00:00Z
{until}
source = "https://acme.example/pricing"
checked = 2026-11-28
input = 1
output = 2

[[models]]
id = "new"
aliases = ["{alias}"]

[[models.periods]]
from = 2026-01-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2026-11-28
input = 1
output = 3
"""

BOLT = """\
provider = "bolt"

[[models]]
id = "bolt-1"
aliases = ["shared-name"]

[[models.periods]]
from = 2026-01-01T00:00:00Z
source = "https://bolt.example/pricing"
checked = 2026-11-28
input = 5
output = 5
"""

ROUTE = """
[[models.routes]]
from = {at}
to = "new"
source = "https://acme.example/deprecations"
checked = {checked}
"""


def findings(*, until: str = "", old_extra: str = "", alias: str = "new-latest", today: date = TODAY) -> list[str]:
    text = ACME.format(until=until, old_extra=old_extra, alias=alias)
    return [str(f) for f in lint(Catalog.loads(text, BOLT), today)]


def shutdown_warnings(messages: list[str]) -> list[str]:
    return [m for m in messages if "shut down" in m]


def test_a_period_open_after_a_passed_shutdown_is_flagged() -> None:
    [message] = shutdown_warnings(findings())
    assert message.startswith("acme/old: periods[0] (from 2026-01-01): the model was shut down on 2026-10-01 ")
    assert "https://acme.example/deprecations" in message
    assert "this period is open-ended: end it there (until = 2026-10-01T00:00:00+00:00)" in message


def test_a_period_running_past_the_shutdown_is_flagged() -> None:
    [message] = shutdown_warnings(findings(until="until = 2026-10-01T00:00:00.000001Z"))
    assert "runs until 2026-10-01T00:00:00.000001+00:00" in message


def test_a_period_ending_at_the_shutdown_is_fine() -> None:
    assert shutdown_warnings(findings(until="until = 2026-10-01T00:00:00Z")) == []


def test_a_shutdown_still_to_come_is_not_flagged_yet() -> None:
    assert shutdown_warnings(findings(today=date(2026, 9, 30))) == []
    assert len(shutdown_warnings(findings(today=date(2026, 10, 1)))) == 1


def test_a_route_from_the_shutdown_on_is_fine_and_a_later_one_is_not() -> None:
    on_time = ROUTE.format(at="2026-10-01T00:00:00Z", checked="2026-11-28")
    assert shutdown_warnings(findings(old_extra=on_time)) == []
    late = ROUTE.format(at="2026-10-01T00:00:00.000001Z", checked="2026-11-28")
    assert len(shutdown_warnings(findings(old_extra=late))) == 1


def test_a_route_checked_long_ago_is_flagged() -> None:
    stale = ROUTE.format(at="2026-10-01T00:00:00Z", checked="2026-01-01")
    messages = [m for m in findings(old_extra=stale) if "routes[0]" in m]
    assert messages == ["acme/old: routes[0] (from 2026-10-01): checked 334 days ago (2026-01-01); "
                        "check it against https://acme.example/deprecations"]


def test_an_alias_of_another_providers_model_is_flagged() -> None:
    assert [m for m in findings() if "alias" in m] == []
    [message] = [m for m in findings(alias="shared-name") if m.startswith("acme/new: aliases")]
    assert message == ("acme/new: aliases[0]: alias 'shared-name' is also a name of bolt/bolt-1 (the bare name "
                       "is ambiguous: users must write provider/name); is it the same model, and the name the "
                       "provider's API accepts?")
    # The other side is flagged too, and an alias equal to another provider's id counts.
    assert any(m.startswith("bolt/bolt-1: aliases[0]: alias 'shared-name'") for m in findings(alias="shared-name"))
    [by_id] = [m for m in findings(alias="bolt-1") if m.startswith("acme/new: aliases")]
    assert "alias 'bolt-1' is also a name of bolt/bolt-1 (the bare name means bolt/bolt-1)" in by_id


def test_catalog_check_prints_the_new_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "acme.toml").write_text(ACME.format(until="", old_extra="", alias="shared-name"))
    (tmp_path / "bolt.toml").write_text(BOLT)
    assert main(["catalog", "check", str(tmp_path), "--today", "2026-12-01"]) == 0
    out = capsys.readouterr().out
    assert "warning: acme/old: periods[0] (from 2026-01-01): the model was shut down on 2026-10-01" in out
    assert "warning: acme/new: aliases[0]: alias 'shared-name'" in out
    assert "3 warning(s)" in out
    assert main(["catalog", "check", str(tmp_path), "--today", "2026-12-01", "--strict"]) == 1
