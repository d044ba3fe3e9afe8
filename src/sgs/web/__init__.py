"""The credit office's download page."""
