"""The reproducible sample generator and its defect oracle."""
