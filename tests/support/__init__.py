"""Shared test helpers: a throwaway PostgreSQL server, database creation, API helpers."""
