"""`sgs serve`: the credit office's download page."""

from __future__ import annotations
