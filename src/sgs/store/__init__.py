"""Stage 2, store: the DuckDB database, the landing zone, ingest with quarantine, and ledgers."""
