"""`sgs points` and `sgs feedback`: the scoring and the units' problem lists."""

from __future__ import annotations
