"""Importers: one module per export format, sharing readers and checks, listed in registry.py."""
