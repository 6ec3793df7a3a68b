"""Where edit SQL runs: DuckDB in-process (default) or Apache Spark.

Edits are written once in DuckDB's SQL dialect. The DuckDB backend runs them as they are;
the Spark backend transpiles each statement with sqlglot (``read='duckdb', write='spark'``).
Both backends expose the same four operations the engine needs: register an Arrow table
under a name, materialise a query as a named table, run a query into Arrow, and close.

The reference store is a DuckDB file; each backend sees the reference tables the engine
uses as ``ref_<table>`` views with fixed column types (:data:`REF_COLUMNS`), so a store that
lacks a table (no MUE file imported yet) yields an empty view, not a broken edit.
"""

from __future__ import annotations

import functools
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

#: reference tables the engine reads, with the columns and types it relies on
#: (docs/refdata-store.md is the contract; types are cast here so both engines agree)
REF_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "hcpcs": [
        ("release", "VARCHAR"), ("release_effective", "DATE"), ("code", "VARCHAR"), ("kind", "VARCHAR"),
        ("long_description", "VARCHAR"), ("short_description", "VARCHAR"), ("pricing_indicator", "VARCHAR"),
        ("coverage_code", "VARCHAR"), ("add_date", "DATE"), ("effective_date", "DATE"),
        ("termination_date", "DATE"), ("is_drug", "BOOLEAN"), ("unit_amount", "DECIMAL(18,3)"),
        ("unit_uom", "VARCHAR"),
    ],
    "asp_pricing": [
        ("release", "VARCHAR"), ("effective_from", "DATE"), ("effective_to", "DATE"), ("hcpcs", "VARCHAR"),
        ("dosage", "VARCHAR"), ("payment_limit", "DECIMAL(18,3)"), ("coinsurance_pct", "DECIMAL(9,3)"),
    ],
    "ndc_crosswalk": [
        ("release", "VARCHAR"), ("effective_from", "DATE"), ("effective_to", "DATE"), ("hcpcs", "VARCHAR"),
        ("ndc11", "VARCHAR"), ("drug_name", "VARCHAR"), ("hcpcs_dosage", "VARCHAR"),
        ("package_size", "DECIMAL(18,3)"), ("package_quantity", "DECIMAL(18,3)"),
        ("billing_units", "DECIMAL(18,3)"), ("billing_units_per_package", "DECIMAL(18,3)"),
    ],
    "mue": [
        ("release", "VARCHAR"), ("effective_from", "DATE"), ("effective_to", "DATE"), ("setting", "VARCHAR"),
        ("hcpcs", "VARCHAR"), ("mue_value", "DECIMAL(18,3)"), ("mai", "VARCHAR"),
    ],
    # CMS OPPS Addendum B (reclaim.edits.opps): the status indicator of 837I lines
    "opps_addendum_b": [
        ("release", "VARCHAR"), ("effective_from", "DATE"), ("effective_to", "DATE"), ("hcpcs", "VARCHAR"),
        ("status_indicator", "VARCHAR"), ("apc", "VARCHAR"), ("payment_rate", "DECIMAL(18,3)"),
    ],
    "icd10": [
        ("release", "VARCHAR"), ("effective_from", "DATE"), ("effective_to", "DATE"), ("code", "VARCHAR"),
        ("short_description", "VARCHAR"), ("billable", "BOOLEAN"), ("source_format", "VARCHAR"),
    ],
    # MCD billing-and-coding articles (RC604): which codes, diagnoses, contractors, states
    "coverage_articles": [
        ("release", "VARCHAR"), ("article_id", "VARCHAR"), ("article_version", "VARCHAR"), ("display_id", "VARCHAR"),
        ("title", "VARCHAR"), ("effective_date", "DATE"), ("end_date", "DATE"),
    ],
    "coverage_hcpcs": [("release", "VARCHAR"), ("article_id", "VARCHAR"), ("article_version", "VARCHAR"),
                       ("hcpcs", "VARCHAR")],
    "coverage_icd10": [("release", "VARCHAR"), ("article_id", "VARCHAR"), ("article_version", "VARCHAR"),
                       ("icd10", "VARCHAR")],
    "coverage_contractors": [("release", "VARCHAR"), ("article_id", "VARCHAR"), ("article_version", "VARCHAR"),
                             ("contractor_id", "VARCHAR"), ("contractor_type_id", "VARCHAR"),
                             ("contractor_version", "VARCHAR")],
    "coverage_jurisdictions": [("release", "VARCHAR"), ("contractor_id", "VARCHAR"), ("contractor_type_id", "VARCHAR"),
                               ("contractor_version", "VARCHAR"), ("state_id", "VARCHAR"), ("term_date", "DATE")],
    "coverage_states": [("release", "VARCHAR"), ("state_id", "VARCHAR"), ("state_abbrev", "VARCHAR")],
}


#: the input tables the engine reads (the rest of the model's tables stay where they were loaded)
INPUT_TABLES = ("claims", "lines", "diagnoses", "files")


@dataclass
class LoadedInput:
    """What :meth:`DuckDBBackend.load` / :meth:`SparkBackend.load` read: row counts per table,
    the files and the problems met reading them (small Arrow tables)."""

    counts: dict[str, int]
    files: pa.Table
    read_issues: pa.Table


def _loaded(con: duckdb.DuckDBPyConnection, prefix: str, counts: dict[str, int]) -> LoadedInput:
    return LoadedInput(
        counts=counts,
        files=con.execute(f'SELECT * FROM "{prefix}files"').to_arrow_table(),
        read_issues=con.execute(f'SELECT * FROM "{prefix}read_issues"').to_arrow_table(),
    )


def _sql_str(value: Any) -> str:
    return str(value).replace("'", "''")


def ref_select(table: str, available: dict[str, set[str]], source: str) -> str:
    """SELECT giving ``ref_<table>`` its contract columns from ``source`` (a DuckDB name),
    casting each; a column or table the store lacks becomes typed NULLs / no rows."""
    cols = available.get(table)
    parts = []
    for name, kind in REF_COLUMNS[table]:
        expr = f"TRY_CAST({name} AS {kind})" if cols and name in cols else f"CAST(NULL AS {kind})"
        if name == "ndc11" and cols and name in cols:
            expr = f"replace(CAST({name} AS VARCHAR), '-', '')"  # 11 digits, whatever the store kept
        parts.append(f"{expr} AS {name}")
    if cols is None:
        return f"SELECT {', '.join(parts)} WHERE false"
    return f"SELECT {', '.join(parts)} FROM {source}.{table}"


def store_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, set[str]]:
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_catalog = ?", [catalog]
    ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def attach_store(con: duckdb.DuckDBPyConnection, store: Any, name: str = "refstore") -> dict[str, set[str]]:
    """Attach the reference store read-only as catalog ``name``; return its tables/columns.

    ``store`` is a ``RefStore`` (anything with ``attach(con, schema=...)``), a path to the
    DuckDB file, or None (no reference data: every ref view is empty)."""
    if store is None:
        return {}
    if hasattr(store, "attach"):
        store.attach(con, schema=name)
    else:
        con.execute(f"ATTACH '{store!s}' AS {name} (READ_ONLY)")
    return store_tables(con, name)


class DuckDBBackend:
    name = "duckdb"

    def __init__(self, store: Any, threads: int | None = None):
        self.con = duckdb.connect()
        # tables larger than memory spill here (10M claim lines and their facts take GBs)
        self._spill = tempfile.TemporaryDirectory(prefix="reclaim-check-")
        self.con.execute(f"SET temp_directory = '{_sql_str(self._spill.name)}'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self._disabled: set[str] = set()
        available = attach_store(self.con, store)
        self.ref_tables = {t for t in REF_COLUMNS if t in available}
        for table in REF_COLUMNS:
            self.con.execute(f"CREATE TEMP VIEW ref_{table} AS {ref_select(table, available, 'refstore')}")

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)
        if name.removeprefix("history_") in INPUT_TABLES and table.num_rows:
            # DuckDB 1.5 cannot push a join's bloom filter into a scan of a registered Arrow
            # table ("Pushdown Filter Type BLOOM_FILTER is not currently supported in PyArrow
            # Scans", e.g. RC204's per-day sums over patient_lines with Arrow history): off while
            # in-memory claims are read (files and Parquet are DuckDB scans and keep it)
            self._disabled.add("join_filter_pushdown")

    def load(self, paths: Iterable[Path | str], prefix: str = "", progress=None) -> LoadedInput:
        """Claim files streamed into this connection's tables ``{prefix}claims``, ``{prefix}lines``...
        (:func:`reclaim.claims.io.load_into`: X12 block by block; Parquet files stay where they
        are, read through views, so each query scans only the columns it uses)."""
        from ..claims.io import load_into

        counts = load_into(self.con, paths, "claims", prefix=prefix, progress=progress, parquet_views=True)
        return _loaded(self.con, prefix, counts)

    def _run(self, sql: str, written_order: bool, fetch: bool) -> pa.Table | None:
        """``written_order``: join in the order the SQL is written (hash tables built on the
        right side of each join): DuckDB cannot estimate an Arrow scan and would otherwise build
        its hash tables on the million-line side."""
        disabled = sorted(self._disabled | ({"join_order"} if written_order else set()))
        if disabled:
            self.con.execute(f"SET disabled_optimizers = '{','.join(disabled)}'")
        try:
            result = self.con.execute(sql)
            return result.to_arrow_table() if fetch else None
        finally:
            if disabled:
                self.con.execute("RESET disabled_optimizers")

    def materialize(self, name: str, sql: str, written_order: bool = False) -> None:
        self._run(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", written_order, fetch=False)

    def view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    def query(self, sql: str, written_order: bool = False) -> pa.Table:
        return self._run(sql, written_order, fetch=True)  # type: ignore[return-value]

    def close(self) -> None:
        self.con.close()
        self._spill.cleanup()


_SPARK_LOCK = threading.Lock()
_SPARK = None


def spark_session():
    """One Spark session per process, reused by every check, on the ``spark_master`` setting
    (default ``local[2]``, tuned small for one machine; a cluster URL uses the cluster's own
    memory and partition settings)."""
    global _SPARK
    with _SPARK_LOCK:
        if _SPARK is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError as exc:  # pragma: no cover - depends on the install
                from ..errors import ReclaimError

                raise ReclaimError(
                    "the Spark engine needs pyspark", hint="pip install 'reclaim[spark]' (and Java 17)"
                ) from exc
            from ..config import load as load_settings

            master = load_settings().spark_master
            builder = SparkSession.builder.master(master).appName("reclaim-check")
            if master.startswith("local"):
                # local mode: the driver is the executor; 2g ran out of execution memory on the
                # catalog's final join once the OPPS and coverage joins were added (seen in CI-like runs)
                builder = builder.config("spark.driver.memory", "4g").config("spark.sql.shuffle.partitions", "4")
            _SPARK = (
                builder
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.ansi.enabled", "false")
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .getOrCreate()
            )
            _SPARK.sparkContext.setLogLevel("ERROR")
        return _SPARK


@functools.lru_cache(maxsize=256)
def to_spark_sql(sql: str) -> str:
    """DuckDB-dialect SQL -> Spark SQL (the one place dialects meet). Cached: the catalog's ~40
    statements take seconds to transpile, and a long-lived process (the web app) checks often."""
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


class SparkBackend:
    name = "spark"

    def __init__(self, store: Any):
        self.spark = spark_session()
        self._views: list[str] = []
        self._cached: list[Any] = []
        self._staging: tempfile.TemporaryDirectory | None = None  # Parquet handed to Spark by load()
        # reference tables are small: read them once through DuckDB, hand them to Spark as Arrow
        con = duckdb.connect()
        try:
            available = attach_store(con, store)
            self.ref_tables = {t for t in REF_COLUMNS if t in available}
            for table in REF_COLUMNS:
                self.register(f"ref_{table}", con.execute(ref_select(table, available, "refstore")).to_arrow_table())
        finally:
            con.close()

    def register(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)
        self._views.append(name)

    def load(self, paths: Iterable[Path | str], prefix: str = "", progress=None) -> LoadedInput:
        """Claim files read as on DuckDB (:func:`reclaim.claims.io.load_into`, into a DuckDB
        database that spills to disk), then handed to Spark as Parquet files it reads itself:
        the claims never pass through the driver's Python or JVM heap."""
        from ..claims.io import load_into

        if self._staging is None:
            self._staging = tempfile.TemporaryDirectory(prefix="reclaim-spark-")
        folder = Path(self._staging.name)
        con = duckdb.connect()
        try:
            con.execute(f"SET temp_directory = '{_sql_str(folder / 'spill')}'")
            counts = load_into(con, paths, "claims", prefix=prefix, progress=progress)
            for table in INPUT_TABLES:
                target = folder / f"{prefix}{table}.parquet"
                con.execute(f'COPY "{prefix}{table}" TO \'{_sql_str(target)}\' (FORMAT parquet)')
                self.spark.read.parquet(str(target)).createOrReplaceTempView(f"{prefix}{table}")
                self._views.append(f"{prefix}{table}")
            return _loaded(con, prefix, counts)
        finally:
            con.close()

    def materialize(self, name: str, sql: str, written_order: bool = False) -> None:
        # computed now, once, and cut from its lineage: every edit that reads it then plans and
        # runs against stored rows. A lazy cache() left the final union of 27 edit plans to
        # analyse and compute the shared tables itself (checking 26 lines took ~160 s, now ~27 s)
        df = self.spark.sql(to_spark_sql(sql)).localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        self._cached.append(df)
        self._views.append(name)

    def view(self, name: str, sql: str) -> None:
        self.spark.sql(to_spark_sql(sql)).createOrReplaceTempView(name)
        self._views.append(name)

    def query(self, sql: str, written_order: bool = False) -> pa.Table:
        return self.spark.sql(to_spark_sql(sql)).toArrow()

    def close(self) -> None:
        for df in self._cached:
            df.unpersist()
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        if self._staging is not None:
            self._staging.cleanup()


def make_backend(engine: str, store: Any):
    if engine == "duckdb":
        return DuckDBBackend(store)
    if engine == "spark":
        return SparkBackend(store)
    from ..errors import ReclaimError

    raise ReclaimError(f"unknown engine {engine!r}", hint="use duckdb or spark")
