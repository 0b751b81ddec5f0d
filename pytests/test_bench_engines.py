"""The engines benchmark's report (make bench-engines) on hand-made figures: each engine's
build as a multiple of DuckDB's at the same profile, and the rows of an engine that was
skipped or failed. No build runs here; the benchmark itself is not part of the suite."""

from __future__ import annotations

from audience.bench_engines import build_to_duckdb, markdown

MIB = 2**20


def figures() -> dict:
    return {
        "as_of_date": "2026-06-30",
        "seed": 3,
        "machine": {"cpus": 2, "python": "3.11.7", "duckdb": "2.0.0", "postgresql": "15.1", "dbt-core": "1.12.0"},
        "skipped": {"spark": "Java is not installed"},
        "profiles": [
            {
                "profile": "S",
                "customers": 1000,
                "raw_rows": 12345,
                "engines": {
                    "duckdb": {"build": {"seconds": 40.0, "peak_rss_bytes": 200 * MIB}},
                    "postgres": {
                        "load": {"seconds": 2.0, "peak_rss_bytes": 100 * MIB},
                        "build": {"seconds": 100.0, "peak_rss_bytes": 300 * MIB},
                    },
                    "spark": {"skipped": "Java is not installed"},
                },
            },
            {
                "profile": "demo",
                "customers": 10000,
                "raw_rows": 123456,
                "engines": {
                    "duckdb": {"build": {"seconds": 60.0, "peak_rss_bytes": 400 * MIB}},
                    "postgres": {
                        "load": {"seconds": 8.0, "peak_rss_bytes": 120 * MIB},
                        "failed": "build",
                        "log": "bench/engines/demo/postgres/build.log",
                    },
                    "spark": {"skipped": "Java is not installed"},
                },
            },
        ],
    }


def test_each_build_is_a_multiple_of_duckdbs_at_its_profile() -> None:
    measured = figures()["profiles"]
    assert build_to_duckdb(measured[0]["engines"], "postgres") == 2.5  # 100 s / 40 s
    assert build_to_duckdb(measured[0]["engines"], "duckdb") == 1.0
    assert build_to_duckdb(measured[1]["engines"], "postgres") is None


def test_the_report_has_a_row_per_profile_and_engine() -> None:
    report = markdown(figures())
    assert "| S | DuckDB | 12,345 | – | 40.0 s | 1.00× | 200 MiB |" in report
    assert "| S | PostgreSQL | 12,345 | 2.0 s (100 MiB) | 100.0 s | 2.50× | 300 MiB |" in report
    assert "| S | Spark (local) | 12,345 | skipped | – | – | – |" in report
    assert "| demo | PostgreSQL | 123,456 | 8.0 s (120 MiB) | build failed | – | – |" in report
    assert "Spark (local) skipped: Java is not installed" in report
