"""The body of ``sgs sample``: generate one upload, write it, and keep its expected findings.

It sits on top of both :mod:`sgs.samples.generator` and :mod:`sgs.samples.writers` so that
neither depends on the other; the CLI imports only this.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sgs.reference.catalogue import Kind
from sgs.samples.generator import Sample, generate
from sgs.samples.writers import write_upload


def main_sample(
    kind: Kind,
    n: int,
    out: str | Path,
    seed: int = 0,
    defect_rate: float = 0.0,
    unit: str | None = None,
    headers: str = "chinese",
    encoding: str = "utf-8",
    title: str | None = None,
    *,
    start: date = date(2026, 1, 1),
    end: date = date(2026, 10, 31),
    received: date | None = None,
    defects_out: str | Path | None = None,
) -> Sample:
    """Generate and write one sample upload: the body of ``sgs sample``.

    ``defects_out`` (CSV) saves the expected findings; it is not written next to ``out`` by
    default because ``out`` may be in a landing folder, where any file is taken as an upload.
    """
    sample = generate(
        kind,
        n,
        seed=seed,
        defect_rate=defect_rate,
        unit=unit,
        start=start,
        end=end,
        received=received,
    )
    write_upload(sample.frame, out, headers=headers, encoding=encoding, title=title)
    if defects_out is not None:
        Path(defects_out).parent.mkdir(parents=True, exist_ok=True)
        sample.defects.write_csv(defects_out)
    return sample
