"""`sgs report`: the monthly bulletin workbook (月通报)."""

from __future__ import annotations
