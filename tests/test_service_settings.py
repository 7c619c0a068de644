"""The service's settings: one Struct, read from the environment and options through msgspec.convert, every
bound named in a one-line error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from service.api.settings import FIELDS, Settings, SettingsError, env_name, settings_env, settings_from_env


def test_defaults_and_the_environment() -> None:
    assert settings_from_env({}) == Settings()
    s = settings_from_env({"INFERENCE_COST_PORT": " 9000 ", "INFERENCE_COST_ACCESS_LOG": "yes",
                           "INFERENCE_COST_REQUEST_TIMEOUT": "2.5", "INFERENCE_COST_LOG_LEVEL": "DEBUG",
                           "INFERENCE_COST_MAX_BATCH": "100", "INFERENCE_COST_CATALOG": "  "})
    assert (s.port, s.access_log, s.request_timeout, s.log_level, s.max_batch, s.catalog) == (
        9000, True, 2.5, "debug", 100, None)


def test_an_option_beats_its_variable() -> None:
    assert settings_from_env({"INFERENCE_COST_PORT": "9000"}, port=9100).port == 9100
    assert settings_from_env({"INFERENCE_COST_PORT": "9000"}, port=None).port == 9000


@pytest.mark.parametrize(("env", "options", "message"), [
    ({"INFERENCE_COST_PORT": "eighty"}, {}, "INFERENCE_COST_PORT: expected a whole number, got 'eighty'"),
    ({"INFERENCE_COST_MAX_BATCH": "1e9"}, {}, "INFERENCE_COST_MAX_BATCH: expected a whole number"),
    ({"INFERENCE_COST_MAX_BATCH": "20000"}, {}, "INFERENCE_COST_MAX_BATCH: must be between 1 and 10000, got 20000"),
    ({"INFERENCE_COST_ACCESS_LOG": "maybe"}, {}, "INFERENCE_COST_ACCESS_LOG: expected true or false"),
    ({"INFERENCE_COST_LOG_FORMAT": "xml"}, {}, "INFERENCE_COST_LOG_FORMAT: must be one of auto, json, text"),
    ({"INFERENCE_COST_REQUEST_TIMEOUT": "soon"}, {}, "INFERENCE_COST_REQUEST_TIMEOUT: expected a number"),
    ({}, {"max_body_bytes": 10}, "max body bytes must be between 1024 and 8388608, got 10"),
    ({}, {"workers": 0}, "workers must be between 1 and 512, got 0"),
    ({}, {"max_concurrent": 0}, "max concurrent must be between 1 and 100000, got 0"),
])
def test_a_bad_setting_is_named_with_its_bounds(env: dict[str, str], options: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings_from_env(env, **options)
    assert str(err.value).startswith(message), str(err.value)


def test_settings_round_trip_through_the_environment_workers_read() -> None:
    s = Settings(port=1234, workers=3, catalog="/x", access_log=True, request_timeout=1.5, max_batch=7)
    assert settings_from_env(settings_env(s)) == s
    assert set(settings_env(Settings(catalog="/x"))) == {env_name(f) for f in FIELDS}


def test_serve_refuses_a_limit_out_of_bounds_in_one_line() -> None:
    proc = subprocess.run([sys.executable, "-m", "service.cli", "serve", "--max-concurrent", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == "inference-cost: error: max concurrent must be between 1 and 100000, got 0\n"
