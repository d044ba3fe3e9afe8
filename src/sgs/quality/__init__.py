"""Batch-level checks with Great Expectations and their offline Data Docs."""
