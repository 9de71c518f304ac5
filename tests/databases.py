"""A fresh, real PostgreSQL database per test, dropped afterwards: the benchmark's helper, shared."""

from bench.perf.services import fresh_postgres_database

__all__ = ["fresh_postgres_database"]
