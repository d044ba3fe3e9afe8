"""Which encoding a text upload is in, decided from its bytes — never from its name.

Units send UTF-8 (with or without BOM), GBK/GB18030 from Excel on a Chinese Windows, UTF-16
("Unicode text") and, from some legacy systems, Big5.  UTF-8 is tried first: GBK text is almost
never valid UTF-8.  GBK and Big5 are both double-byte encodings over much the same bytes, so
Big5 text usually *decodes* as GBK without an error — into nonsense.  The two are told apart by
which reading gives frequent Chinese characters: read as the right encoding, nearly every
character of a real file is among the common ones of its script (GB 2312 level 1 for
simplified text, Big5's 常用字 block for traditional); read as the wrong one, a large share
lands on kana, symbols, user-defined and rare characters.  Shift-JIS (Japanese) is recognised
the same way, by its kana, and refused: it cannot be read as Chinese text.
"""

from __future__ import annotations

from functools import lru_cache

from sgs.errors import FileRefused

UTF_BOMS = {b"\xef\xbb\xbf": "utf-8-sig", b"\xff\xfe": "utf-16", b"\xfe\xff": "utf-16"}
# Decoders tried for a file that is not UTF-8, in order of preference on a tie.
LEGACY = ("gb18030", "big5", "shift_jis")
CODECS = {"gb18030": "gb18030", "big5": "cp950", "shift_jis": "cp932"}
BIG5_FALLBACK = "big5hkscs"  # Hong Kong supplement: a superset of Big5 for the rare character
# Share of the non-ASCII characters that must be frequent ones before a reading is believed.
MIN_PLAUSIBLE = 0.5
# Control characters other than tab, line breaks and form feed: text files hold almost none.
_CONTROL = bytes(c for c in range(32) if c not in (9, 10, 12, 13))
_PUNCTUATION = set("，。、；：？！“”‘’（）《》〈〉【】〔〕—…·「」『』﹏～　％＃＆＊＋－／＜＝＞＠")


def decode_prefix(prefix: bytes, encoding: str, complete: bool) -> str | None:
    """Decode a file's first bytes; a multi-byte character cut at the end is not an error."""
    for cut in range(0, 1 if complete else 4):
        try:
            return prefix[: len(prefix) - cut].decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


@lru_cache(maxsize=65536)
def _frequent(ch: str) -> bool:
    """A character common in Chinese text of either script (or CJK punctuation)."""
    if ch in _PUNCTUATION or "\uff01" <= ch <= "\uff5e":
        return True
    try:
        gb = ch.encode("gb2312")
        if len(gb) == 2 and 0xB0 <= gb[0] <= 0xD7:
            return True
    except UnicodeEncodeError:
        pass
    try:
        b5 = ch.encode("big5")
        return len(b5) == 2 and 0xA4 <= b5[0] <= 0xC6
    except UnicodeEncodeError:
        return False


def _kana(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff"  # hiragana and full-width katakana only


def plausibility(text: str, japanese: bool = False) -> float:
    """Share of the non-ASCII characters of ``text`` that a real file in that script holds."""
    wide = [c for c in text if c > "\x7f"]
    if not wide:
        return 1.0
    good = sum(1 for c in wide if _frequent(c) or (japanese and _kana(c)))
    return good / len(wide)


def _binary(prefix: bytes) -> bool:
    if b"\x00" in prefix:
        return True
    sample = prefix[:65536]
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    return controls > max(4, len(sample) // 200)


def unreadable(name: str) -> FileRefused:
    return FileRefused("unreadable", f"文件「{name}」不是文本或表格文件，无法读取。")


def sniff_encoding(prefix: bytes, complete: bool, name: str) -> tuple[str, str]:
    """(encoding, decoded prefix) of a text file's first bytes, or :class:`FileRefused`."""
    for bom, encoding in UTF_BOMS.items():
        if prefix.startswith(bom):
            if encoding == "utf-16":
                # Excel's "Unicode text": NUL bytes are expected, a broken pair is not fatal here.
                return encoding, prefix.decode("utf-16", errors="ignore")
            text = decode_prefix(prefix[len(bom) :], "utf-8", complete)
            if text is not None:
                return encoding, text
    if _binary(prefix):
        raise unreadable(name)
    text = decode_prefix(prefix, "utf-8", complete)
    if text is not None:
        return "utf-8", text
    return detect_legacy(prefix, complete, name)


def detect_legacy(data: bytes, complete: bool, name: str) -> tuple[str, str]:
    """GB18030 (GBK), Big5 or Shift-JIS, whichever reading gives frequent characters."""
    readings: dict[str, tuple[float, str]] = {}
    for label in LEGACY:
        text = decode_prefix(data, CODECS[label], complete)
        if text is None and label == "big5":
            text = decode_prefix(data, BIG5_FALLBACK, complete)
        if text is not None:
            readings[label] = (plausibility(text, japanese=label == "shift_jis"), text)
    if not readings:
        raise FileRefused(
            "unreadable",
            f"无法识别文件「{name}」的编码：它既不是 UTF-8，也不是 GBK/GB18030 或 Big5 编码的文本。"
            "请在 Excel 中另存为“CSV UTF-8”后重新上传。",
        )
    best = max(readings, key=lambda k: (readings[k][0], -LEGACY.index(k)))
    score, text = readings[best]
    if score < MIN_PLAUSIBLE:
        raise FileRefused(
            "unreadable",
            f"无法把文件「{name}」读作中文文本（按 GBK、Big5 解码均为乱码）："
            "请在 Excel 中另存为“CSV UTF-8”后重新上传。",
        )
    if best == "shift_jis":
        raise FileRefused(
            "encoding_japanese",
            f"文件「{name}」是日文 Shift-JIS 编码的文本，不能作为中文数据读取："
            "请确认文件内容，用中文模板填写并另存为 UTF-8 或 GBK 编码后重新上传。",
        )
    return ("gbk" if best == "gb18030" else best), text


def codec(encoding: str) -> str:
    """The Python codec that decodes a whole file of a detected encoding.

    GB18030 decodes every GBK file identically and also the characters beyond GBK; cp950 is
    Big5 as Windows writes it (the HKSCS superset is tried when it is not enough).
    """
    return {"gbk": "gb18030", "big5": "cp950"}.get(encoding, encoding)


def decode_all(data: bytes, encoding: str, name: str) -> str:
    """A whole file's text; bytes the detected encoding cannot decode refuse the file."""
    try:
        return data.decode(codec(encoding))
    except UnicodeDecodeError as exc:
        if encoding == "big5":
            try:
                return data.decode(BIG5_FALLBACK)
            except UnicodeDecodeError:
                pass
        shown = {"gbk": "GBK/GB18030", "big5": "Big5"}.get(encoding, encoding.upper())
        raise FileRefused(
            "unreadable",
            f"文件「{name}」含有无法按 {shown} 解码的字节（第 {exc.start} 字节附近），"
            "请另存为 UTF-8 或 GBK 编码后重新上传。",
        ) from None
