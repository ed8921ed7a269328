"""Shared test helpers (plain functions and constants); the fixtures are in tests/conftest.py."""
