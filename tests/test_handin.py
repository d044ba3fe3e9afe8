"""Hand-in (issue 12, item 4, the store side): a unit's file put into the landing zone under a
safe name that never overwrites, its type taken from its bytes, received on the office's date;
then ingested by the real `sgs ingest` and listed in the unit's history with its outcome."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import threading
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support import warm_sgs
from support.upload_files import (
    csv_bytes,
    permits_csv,
    records,
    table,
    write_xls,
    write_xlsx,
)

from sgs.config import PROJECT_ROOT
from sgs.errors import FileRefused, LandingError
from sgs.intake.handin import hand_in, sanitise_name
from sgs.store.handins import history

UNIT = "111404000448224608"  # 长治市行政审批服务管理局
UNIT_NAME = "长治市行政审批服务管理局"
DAY = date(2026, 11, 5)


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "data"


def landed(root: Path) -> list[str]:
    """Every file below raw/, relative to it (the scratch folder's too)."""
    raw = root / "raw"
    return sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file())


# ----------------------------------------------------------------------------- names


def test_a_name_already_there_gets_a_number_and_nothing_is_overwritten(root) -> None:
    contents = [permits_csv(n) for n in (1, 2, 3)]
    receipts = [
        hand_in(root, UNIT, "行政许可_11月.csv", io.BytesIO(c), received=DAY) for c in contents
    ]
    assert [r.file for r in receipts] == ["行政许可_11月.csv", "行政许可_11月 (2).csv", "行政许可_11月 (3).csv"]  # fmt: skip
    for r, c in zip(receipts, contents, strict=True):
        assert r.path == f"raw/{UNIT}/2026-11-05/{r.file}"
        assert r.received == "2026-11-05" and r.unit_code == UNIT
        assert (root / r.path).read_bytes() == c
        assert r.sha256 == hashlib.sha256(c).hexdigest()
    assert landed(root) == sorted(f"{UNIT}/2026-11-05/{r.file}" for r in receipts)  # no scratch


def test_concurrent_hand_ins_of_one_name_all_land(root) -> None:
    contents = [permits_csv(n) for n in range(1, 9)]
    receipts: list = [None] * len(contents)
    start = threading.Barrier(len(contents))

    def send(i: int) -> None:
        start.wait()
        receipts[i] = hand_in(root, UNIT, "同名.csv", io.BytesIO(contents[i]), received=DAY)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(contents))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = {r.file for r in receipts}
    assert names == {"同名.csv", *(f"同名 ({n}).csv" for n in range(2, 9))}
    for r, c in zip(receipts, contents, strict=True):
        assert (root / r.path).read_bytes() == c  # each name holds the bytes its receipt says


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../x.csv", "x.csv"),
        ("..\\..\\x.csv", "x.csv"),
        ("/etc/passwd", "passwd.csv"),
        ("C:\\Users\\张三\\桌面\\行政许可.csv", "行政许可.csv"),
        ("行政\x00许可\r\n_10月\x1b.csv", "行政许可_10月.csv"),
        ('a<b>c:d"e|f?g*h.csv', "abcdefgh.csv"),
        ("..", "上报文件.csv"),
        ("", "上报文件.csv"),
        ("   .csv", "上报文件.csv"),
        (".hidden.csv", "hidden.csv"),
        ("~$行政许可.csv", "行政许可.csv"),
        ("行政许可. . .csv", "行政许可.csv"),
        ("CON.csv", "_CON.csv"),
        ("台账_2026.10", "台账_2026.10.csv"),  # ".10" is no extension: kept
        ("行政许可.xlsx", "行政许可.csv"),  # the extension is the bytes' type
        ("\u202e行政许可gpj.exe", "行政许可gpj.csv"),  # a direction override removed
    ],
)
def test_names_are_sanitised(name, expected) -> None:
    assert sanitise_name(name, "csv") == expected


def test_a_long_name_is_cut_keeping_its_extension_and_fits_a_file_system() -> None:
    name = sanitise_name("长" * 300 + ".xlsx", "xlsx")
    assert name.endswith(".xlsx")
    assert len(name) <= 120 and len(name.encode("utf-8")) <= 200
    assert name == "长" * 65 + ".xlsx"  # 65 × 3 bytes + 5 ≤ 200 < 66 × 3 + 5
    assert sanitise_name("a" * 300 + ".csv", "csv") == "a" * 116 + ".csv"  # 120 characters


def test_a_path_in_the_name_never_leaves_the_unit_folder(root) -> None:
    r = hand_in(root, UNIT, "../../../../evil.csv", io.BytesIO(permits_csv()), received=DAY)
    assert r.path == f"raw/{UNIT}/2026-11-05/evil.csv"
    assert landed(root) == [f"{UNIT}/2026-11-05/evil.csv"]
    assert sorted(p.name for p in root.parent.iterdir()) == ["data"]


# ----------------------------------------------------------------------------- units


def test_the_unit_comes_from_the_registry(root) -> None:
    r = hand_in(root, UNIT_NAME, "a.csv", io.BytesIO(permits_csv()), received=DAY)
    assert r.unit_code == UNIT and r.path.startswith(f"raw/{UNIT}/")
    for bad in ("../..", "..", "9999", "", "/tmp"):
        with pytest.raises(LandingError, match="未找到上报单位"):
            hand_in(root, bad, "a.csv", io.BytesIO(permits_csv()), received=DAY)
    assert landed(root) == [f"{UNIT}/2026-11-05/a.csv"]


# ----------------------------------------------------------------------------- types


def test_the_type_comes_from_the_bytes(root, tmp_path) -> None:
    rows = table("permit", records("permit", 2))
    xlsx = write_xlsx(tmp_path / "p.xlsx", rows)
    xls = write_xls(tmp_path / "p.xls", rows)
    gbk = tmp_path / "p.csv"
    gbk.write_bytes(csv_bytes(rows, "gbk"))
    cases = {"表一.xlsx": xlsx, "表二.xls": xls, "表三.csv": gbk}
    got = {name: hand_in(root, UNIT, name, path, received=DAY).file for name, path in cases.items()}
    assert got == {"表一.xlsx": "表一.xlsx", "表二.xls": "表二.xls", "表三.csv": "表三.csv"}
    # named as something else: the extension follows the bytes
    assert hand_in(root, UNIT, "表四.csv", xlsx, received=DAY).file == "表四.xlsx"
    assert hand_in(root, UNIT, "表五.xlsx", xls, received=DAY).file == "表五.xls"
    assert hand_in(root, UNIT, "表六.xls", gbk, received=DAY).file == "表六.csv"
    for name in ("表一.xlsx", "表二.xls", "表三.csv"):
        assert (root / "raw" / UNIT / "2026-11-05" / name).read_bytes() == cases[name].read_bytes()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(64)


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("照片.png", PNG, "不是 XLSX、XLS 或 CSV 文件"),
        ("行政许可.xlsx", PNG, "不是 XLSX、XLS 或 CSV 文件"),
        ("setup.exe", EXE, "不是 XLSX、XLS 或 CSV 文件"),
        ("行政许可.csv", EXE, "不是 XLSX、XLS 或 CSV 文件"),
        ("资料.zip", _zip({"a.csv": b"x,y\n"}), "是压缩包（ZIP），不是 Excel 工作簿"),
        ("文档.xlsx", _zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"}), "不是 Excel 工作簿"),
        ("截断.xlsx", b"PK\x03\x04" + bytes(100), "不是 Excel 工作簿"),
        ("空.csv", b"", "是空文件"),
    ],
)  # fmt: skip
def test_anything_else_is_refused_and_leaves_nothing(root, name, data, says) -> None:
    with pytest.raises(FileRefused, match=says) as refused:
        hand_in(root, UNIT, name, io.BytesIO(data), received=DAY)
    assert name in refused.value.message
    assert landed(root) == []
    assert not (root / "raw" / UNIT).exists()


# ----------------------------------------------------------------------------- the office's date


def test_received_is_today_at_the_office_whatever_the_machine_zone(tmp_path) -> None:
    """In a subprocess on UTC, an office zone whose date is not UTC's right now."""
    zone = "Etc/GMT-14" if datetime.now(UTC).hour >= 11 else "Etc/GMT+12"
    src = tmp_path / "p.csv"
    src.write_bytes(permits_csv())
    code = (
        "import json, sys; from pathlib import Path; from sgs.intake.handin import hand_in;"
        "r = hand_in(Path(sys.argv[1]), sys.argv[2], 'p.csv', sys.argv[3]);"
        "print(json.dumps(r.as_dict()))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    env.update(TZ="UTC", SGS_OFFICE_TIMEZONE=zone)
    run = subprocess.run(
        [str(PROJECT_ROOT / ".venv/bin/python"), "-c", code, str(tmp_path / "data"), UNIT, str(src)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    receipt = json.loads(run.stdout)
    office = datetime.now(ZoneInfo(zone)).date().isoformat()
    assert office != datetime.now(UTC).date().isoformat()
    assert receipt["received"] == office
    assert receipt["path"] == f"raw/{UNIT}/{office}/p.csv"


# ----------------------------------------------------------------------------- ingest and history


def sgs_ingest(root: Path) -> dict[str, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    run = warm_sgs.run(["ingest", str(root / "raw"), "--json"],
                       env={**env, "SGS_DATA_DIR": str(root)})  # fmt: skip
    assert run.returncode in (0, 1), run.stderr
    raw = (root / "raw").resolve()
    return {
        Path(o["path"]).relative_to(raw).as_posix(): o
        for o in map(json.loads, run.stdout.splitlines())
    }


def test_a_handed_in_file_is_ingested_and_its_outcome_is_in_the_history(root) -> None:
    good = permits_csv(3)
    hand_in(root, UNIT, "好.csv", io.BytesIO(good), received=date(2026, 11, 2))
    hand_in(root, UNIT, "错.csv", io.BytesIO(permits_csv(4, broken=2)), received=date(2026, 11, 3))
    hand_in(root, UNIT, "缺列.csv", io.BytesIO(b"\xe5\x90\x8d\xe7\xa7\xb0,x\r\n1,2\r\n"), received=date(2026, 11, 4))  # fmt: skip
    hand_in(root, UNIT, "好.csv", io.BytesIO(good), received=date(2026, 11, 4))  # the same again
    hand_in(root, "11140400041270234C", "别人的.csv", io.BytesIO(permits_csv(2)), received=DAY)

    before = history(root, UNIT)
    assert [(e["received"], e["file"], e["outcome_zh"]) for e in before] == [
        ("2026-11-04", "缺列.csv", "待入库"),
        ("2026-11-04", "好.csv", "待入库"),
        ("2026-11-03", "错.csv", "待入库"),
        ("2026-11-02", "好.csv", "待入库"),
    ]
    assert not (root / "curated" / "sgs.duckdb").exists()  # reading the history made no store

    out = sgs_ingest(root)
    day = f"{UNIT}/2026-11-0"
    assert out[f"{day}3/错.csv"]["status"] == "stored" and out[f"{day}3/错.csv"]["errors"] == 2
    assert out[f"{day}4/缺列.csv"]["status"] == "quarantined"
    assert out[f"{day}4/好.csv"]["status"] == "skipped"

    after = {(e["received"], e["file"]): e for e in history(root, UNIT)}
    assert len(after) == 4  # another unit's file is not in this unit's history
    first = after[("2026-11-02", "好.csv")]
    assert (first["outcome"], first["errors"], first["rows"], first["same_as"]) == ("stored", 0, 3, None)  # fmt: skip
    assert first["batch_id"] == out[f"{day}2/好.csv"]["batch_id"]
    again = after[("2026-11-04", "好.csv")]
    assert (again["outcome"], again["batch_id"], again["same_as"]) == ("stored", first["batch_id"], "好.csv")  # fmt: skip
    bad = after[("2026-11-03", "错.csv")]
    assert (bad["outcome"], bad["outcome_zh"], bad["errors"], bad["rows"]) == ("stored_with_errors", "已入库（有错误）", 2, 4)  # fmt: skip
    refused = after[("2026-11-04", "缺列.csv")]
    assert refused["outcome_zh"] == "已隔离"
    assert refused["reason"] == out[f"{day}4/缺列.csv"]["reason"] and refused["message"]
    assert first["sha256"] == hashlib.sha256(good).hexdigest() == again["sha256"]
    assert first["size"] == len(good)

    # a file handed in after the run waits for the next one
    hand_in(root, UNIT, "新.csv", io.BytesIO(permits_csv(1)), received=date(2026, 11, 6))
    newest = history(root, UNIT)[0]
    assert (newest["file"], newest["outcome"]) == ("新.csv", "pending")
