"""Personal ID numbers in text: the one definition of what is masked, and how.

Natural persons' resident ID numbers never appear in full in anything people read: reports,
feedback lists, web pages — and messages, including the reasons a file was refused, which
may quote the file.  The pattern lives here, below every stage, so that the domain's
exceptions (:mod:`sgs.errors`), the readers and the report masking all use the same one.
"""

from __future__ import annotations

import re

# An 18-character resident ID inside any text: region, a real-looking birth date, sequence and
# check.  Not preceded or followed by a letter or digit, so longer codes are left alone.
# Group 2 is the region, 3 the birth date, 4 the sequence and check.
ID_IN_TEXT = (
    r"(^|[^0-9A-Za-z])([1-9][0-9]{5})((?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01]))([0-9]{3}[0-9Xx])($|[^0-9A-Za-z])"
)
_ID_IN_TEXT_RE = re.compile(ID_IN_TEXT)
# In a quoted excerpt of a file any long run of digits may be an ID with a mistyped birth date.
_LONG_NUMBER_RE = re.compile(r"[0-9]{14,}[0-9Xx]")


def mask_ids_in_str(text: str, *, long_numbers: bool = False) -> str:
    """``text`` with every resident ID number in it masked (first 6 and last 4 kept).

    The plain-string twin of :func:`sgs.report.masking.mask_ids_in_text` (same pattern, swept
    twice: two IDs one character apart share the separator the pattern consumes).
    ``long_numbers`` also masks any run of 15 or more digits, for excerpts of a file quoted in
    a message, where a number with a mistyped birth date is still someone's ID.
    """
    masked = _ID_IN_TEXT_RE.sub(r"\1\2********\4\5", text)
    masked = _ID_IN_TEXT_RE.sub(r"\1\2********\4\5", masked)
    if long_numbers:
        masked = _LONG_NUMBER_RE.sub(
            lambda m: m[0][:6] + "*" * (len(m[0]) - 10) + m[0][-4:], masked
        )
    return masked
