"""What an upload may hold before it is refused unread (issue 20), and the refusals.

A hostile or broken file must cost bounded memory and time: a zip part that inflates a
thousandfold, a workbook part of a gigabyte of blanks, one cell of a gigabyte, a row of a million
cells.  Each limit is a setting (docs/policy.md section 12), read once per file — never per cell:
the readers' loops must not touch the filesystem.  Every refusal carries a stable reason code (the
quarantine's, docs/policy.md section 4) and a Chinese message for the unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sgs.errors import FileRefused

# Parts smaller than this are never refused for their compression ratio: deflate cannot make a
# bomb of them, and a small run of zeros (a printer-settings blob) compresses far beyond 500:1.
RATIO_FLOOR = 64 << 10
# The most bytes of XML one character of a cell can take: ``&#x10FFFF;`` (10 bytes).  A run of
# XML without a ``<`` longer than the cell limit times this cannot be a cell Excel could hold.
XML_BYTES_PER_CHAR = 10


@dataclass(frozen=True)
class ReadLimits:
    ratio: int  # a zip part's uncompressed size over its compressed size
    part_bytes: int  # a non-sheet part of a workbook, uncompressed
    cell_chars: int  # characters of one cell
    columns: int  # columns holding a value; cells of a row scanned for the header

    @property
    def run_bytes(self) -> int:
        """The longest run of XML bytes without a ``<`` a readable part can hold."""
        return self.cell_chars * XML_BYTES_PER_CHAR


def read_limits() -> ReadLimits:
    """The limits in force (settings and their ``SGS_<NAME>`` overrides), for one file."""
    from sgs.reference.settings import load_settings

    s = load_settings()
    return ReadLimits(
        ratio=s.workbook_ratio_limit,
        part_bytes=s.workbook_part_limit_mib << 20,
        cell_chars=s.cell_chars_limit,
        columns=s.columns_limit,
    )


def compression_ratio(name: str, part: str, ratio: float, limit: int) -> FileRefused:
    return FileRefused(
        "compression_ratio",
        f"文件「{name}」中的部件「{part[:60]}」解压后是压缩大小的 {ratio:,.0f} 倍，"
        f"超过 {limit} 倍的上限（疑似“压缩炸弹”），未读取。请用 Excel 打开后另存为新的 XLSX 文件再上传。",
    )


def part_too_large(name: str, part: str, size: int, limit: int) -> FileRefused:
    return FileRefused(
        "part_too_large",
        f"文件「{name}」中的部件「{part[:60]}」解压后有 {size / 2**20:,.1f} MiB，"
        f"超过 {limit >> 20} MiB 的上限（工作簿、共享字符串、样式等部件），未读取。"
        "请用 Excel 打开后另存为新的 XLSX 文件，或把数据分成几个文件上传。",
    )


def cell_too_long(name: str, where: str, limit: int) -> FileRefused:
    return FileRefused(
        "cell_too_long",
        f"文件「{name}」{where}有单元格超过 {limit:,} 个字符（Excel 单元格的上限），未读取。"
        "请检查该文件是否损坏，修正后重新导出上传。",
    )


def too_many_columns(name: str, where: str, limit: int) -> FileRefused:
    return FileRefused(
        "too_many_columns",
        f"文件「{name}」{where}有内容的列超过 {limit:,} 列（标准模板约 45 列），未读取。"
        "请删除多余的列，只保留标准模板的列后重新上传。",
    )


def header_beyond(name: str, limit: int) -> FileRefused:
    return FileRefused(
        "too_many_columns",
        f"文件「{name}」的行超过 {limit:,} 列，且前 {limit:,} 列中没有找到标准模板的表头，未读取。"
        "请删除多余的列，只保留标准模板的列后重新上传。",
    )
