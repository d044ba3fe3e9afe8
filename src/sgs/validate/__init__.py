"""Stage 1, validate: read an upload, normalise it, prepare shared work, run every rule, report the errors."""
