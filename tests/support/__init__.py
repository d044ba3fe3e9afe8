"""Helpers shared by the tests: independent oracles, builders of stores and files.

Imported as ``support.<module>`` (pytest puts ``tests/`` on the path); nothing here is a test.
"""
