"""The spark engine: same rows as the Python engine, exact settings, no float in its plan, and once on
a real standalone cluster (a master and two workers on loopback, started and stopped here)."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings

from pricing.usage_query import pricing_query
from pricing.usage_tables import compile_tables
from service.usage import UsageJob, price_usage
from service.usage.engines import SPARK_EXACT_CONF, SPARK_JAVA_OPTIONS, spark_price_arrays
from tests.test_usage_engines import case_rows, price_file
from tests.usage_rows import CATALOG, read_rows, usage_rows, write_parquet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from spark_cluster import loopback_env, standalone_cluster  # noqa: E402


def spark_price(rows: list[dict[str, Any]], folder: Path, session: Any) -> list[dict[str, Any]]:
    source = write_parquet(rows, folder / "in.parquet")
    out = folder / "out-spark.parquet"
    price_usage(UsageJob(source=source, engine="spark", out=out, spark_session=session), CATALOG)
    return read_rows(out)


@settings(max_examples=2)
@given(usage_rows(max_size=60))
def test_spark_prices_every_row_as_the_python_engine(spark: Any, rows: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        python = price_file([dict(r) for r in rows], "python", Path(folder))
        priced = spark_price([dict(r) for r in rows], Path(folder), spark)
    assert priced == python


def test_every_case_prices_the_same_on_spark(spark: Any, tmp_path: Path) -> None:
    rows = case_rows()
    assert spark_price([dict(r) for r in rows], tmp_path, spark) == price_file([dict(r) for r in rows],
                                                                               "python", tmp_path)


def test_spark_is_exact_ansi_no_precision_loss_no_float_in_plan(spark: Any) -> None:
    for key, value in SPARK_EXACT_CONF.items():
        assert spark.conf.get(key) == value
    tables = compile_tables(CATALOG, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC))
    spark_price_arrays(spark, tables)
    spark.sql("SELECT CAST(0 AS BIGINT) AS q_row_no, 'gpt-4o' AS q_model, CAST(1736000000000000 AS BIGINT) AS q_at_us, "
              "CAST(10 AS BIGINT) AS q_input_tokens, CAST(0 AS BIGINT) AS q_cached_input_tokens, "
              "CAST(0 AS BIGINT) AS q_cache_write_tokens, CAST(0 AS BIGINT) AS q_cache_write_1h_tokens, "
              "CAST(5 AS BIGINT) AS q_output_tokens, CAST(1 AS BIGINT) AS q_requests, FALSE AS q_batch"
              ).createOrReplaceTempView("usage_input")
    frame = spark.sql(pricing_query(tables, "spark"))
    kinds = [f.dataType.simpleString() for f in frame.schema.fields]
    assert not [k for k in kinds if re.search("double|float", k)], kinds
    assert "decimal(38,12)" in kinds
    plan = spark.sql("EXPLAIN EXTENDED " + pricing_query(tables, "spark")).collect()[0][0]
    assert "element_at" in plan  # prices looked up by position in the price arrays, as on DuckDB
    assert not re.search(r"double|float", plan, re.IGNORECASE)
    assert frame.collect()[0]["total"] is not None
    # ANSI: a decimal overflow is an error, never NULL.
    with pytest.raises(Exception, match=r"(?i)overflow|cannot be represented|NUMERIC_VALUE_OUT_OF_RANGE"):
        spark.sql("SELECT CAST(99999999999999999999999999999999999999 AS DECIMAL(38,0)) * "
                  "CAST(10 AS DECIMAL(38,0)) AS x").collect()


def test_the_session_compiles_the_query_s_huge_generated_method(spark: Any) -> None:
    # The pricing stage's generated code is over HotSpot's 8,000-byte limit: without the option
    # the JVM interprets it (slower by 1.3-3x).
    runtime = spark._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    assert SPARK_JAVA_OPTIONS in list(runtime.getInputArguments())
    assert SPARK_JAVA_OPTIONS in spark.sparkContext.getConf().get("spark.executor.extraJavaOptions").split()


# -- a standalone cluster on loopback ---------------------------------------------------------------


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """A Spark master and two one-core workers bound to 127.0.0.1; stopped (by pid) afterwards."""
    with standalone_cluster(tmp_path, workers=2, cores=1, memory="1g") as url:
        yield url


def test_a_two_worker_standalone_cluster_prices_as_the_python_engine(cluster: str, tmp_path: Path) -> None:
    rows = case_rows() * 20
    source = write_parquet([dict(r) for r in rows], tmp_path / "in.parquet")
    expected = price_file([dict(r) for r in rows], "python", tmp_path)
    out = tmp_path / "cluster.parquet"
    done = subprocess.run(
        [sys.executable, "-m", "service", "usage", "price", str(source), "--engine", "spark",
         "--spark-master", cluster, "--out", str(out), "--json"],
        cwd=ROOT, env=loopback_env(), capture_output=True, text=True, timeout=400)
    assert done.returncode == 1, done.stderr[-2000:]  # some case rows are unpriceable by design
    assert pq.read_table(out).to_pylist() == expected
    assert '"engine":"spark"' in done.stdout
