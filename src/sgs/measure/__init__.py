"""Stage 3, measure: the three rates, the points and the lifecycle of reported problems."""
