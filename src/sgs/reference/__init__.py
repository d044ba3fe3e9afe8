"""Reference data the office edits: the standard's catalogue, units, events, settings, holidays and the workday calendar."""
