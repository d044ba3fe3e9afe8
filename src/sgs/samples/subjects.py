"""Who the sample records are about: companies, shops and people of Changzhi.

Each subject class (法人及非法人组织, 个体工商户, 自然人) gets a pool of about a third as many
subjects as it has rows, and rows draw from their pool with repetition, because companies come
back for several permits; a subject's codes and names therefore repeat consistently across its
records.  Codes are valid (right check characters, real division codes), built as arrays by
:mod:`sgs.samples.codes`.  Which classes a row may take comes from its permit type or violation,
which the generator has chosen; here the class is drawn and the subject fields filled in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import numpy as np
import polars as pl

from sgs.reference.catalogue import load_catalogue
from sgs.samples import codes as sc
from sgs.samples import vocab
from sgs.samples.columns import choose, concat_text, null_unless, repeat, take
from sgs.samples.facts import to_days

Rng = np.random.Generator
# Subject mix (legal, individual, natural) before a permit type or violation restricts it.
SUBJECT_WEIGHTS = {"L": 0.55, "I": 0.25, "N": 0.2}
SUBJECT_LETTERS = "LIN"
# Subject fields without the kind prefix, in template order.
# fmt: off
SUBJECT_FIELDS = (
    "XDR_MC", "XDR_LB", "XDR_SHXYM", "XDR_GSZC", "XDR_ZZJG", "XDR_SWDJ", "XDR_SYDW", "XDR_SHZZ",
    "FRDB", "FR_ZJLX", "FR_ZJHM", "XDR_ZJLX", "XDR_ZJHM",
)
# fmt: on
ID_CARD = "身份证"
# Average number of records per subject: companies come back for several permits.
RECORDS_PER_SUBJECT = 3


def subject_classes(rng: Rng, flags: np.ndarray, flag_values: Sequence[str]) -> np.ndarray:
    """A subject class per row, among the letters its permit type / violation allows."""
    subject = np.empty(len(flags), dtype=np.int8)
    for f, letters in enumerate(flag_values):
        rows = np.flatnonzero(flags == f)
        classes = [SUBJECT_LETTERS.index(c) for c in letters]
        w = [SUBJECT_WEIGHTS[c] for c in letters]
        subject[rows] = np.asarray(classes)[choose(rng, len(classes), len(rows), w)]
    return subject


def _person_names(rng: Rng, m: int) -> pl.Series:
    surname = take(list(vocab.SURNAMES), rng.integers(0, len(vocab.SURNAMES), m))
    chars = list(vocab.GIVEN_CHARS)
    first = take(chars, rng.integers(0, len(chars), m))
    second = null_unless(rng.random(m) < 0.7, take(chars, rng.integers(0, len(chars), m)))
    return pl.select(pl.concat_str([surname, first, second], ignore_nulls=True)).to_series()


def _birth_days(rng: Rng, m: int, latest: int) -> np.ndarray:
    """Birth dates in 1950–2004, and at least 18 years before the earliest decision."""
    hi = min(to_days(date(2004, 12, 31)), latest)
    lo = min(to_days(date(1950, 1, 1)), hi - 365)
    return rng.integers(lo, hi + 1, m)


def _region_matrix(codes: Sequence[str], index: np.ndarray) -> sc.Matrix:
    return sc.to_matrix(list(codes), 6)[index]


def _county_regions(rng: Rng, county: np.ndarray) -> sc.Matrix:
    """One of each county's division codes (old or new)."""
    flat = [c for _, codes in vocab.COUNTIES for c in codes]
    offsets = np.cumsum([0] + [len(codes) for _, codes in vocab.COUNTIES])[:-1]
    counts = np.asarray([len(codes) for _, codes in vocab.COUNTIES])
    pick = offsets[county] + rng.integers(0, 1 << 30, len(county)) % counts[county]
    return _region_matrix(flat, pick)


def _legal_pool(rng: Rng, m: int, birth_latest: int) -> pl.DataFrame:
    """法人及非法人组织: companies (91), cooperatives (93), public institutions (12), NGOs (52)."""
    sub = choose(rng, 4, m, (0.8, 0.07, 0.06, 0.07))
    heads = sc.to_matrix(["91", "93", "12", "52"], 2)[sub]
    place = choose(rng, 3, m, (0.55, 0.15, 0.30))  # city / province / county
    place[sub == 1] = 2  # cooperatives are village businesses
    county = rng.integers(0, len(vocab.COUNTIES), m)
    region = _county_regions(rng, county)
    city_level = (place == 0) & (rng.random(m) < 0.5)
    region[city_level | (place == 1)] = sc.to_matrix([vocab.CITY_REGION], 6)[0]
    region[(place == 1) & (rng.random(m) < 0.5)] = sc.to_matrix([vocab.PROVINCE_REGION], 6)[0]
    org = sc.org_codes(rng, m)
    uscc = sc.to_series(sc.usccs(heads, region, org))

    county_name = take([c for c, _ in vocab.COUNTIES], county)
    city_prefix = take(vocab.COMPANY_PREFIXES, rng.integers(0, len(vocab.COMPANY_PREFIXES), m))
    prefix = pl.select(
        pl.when(pl.Series(place == 2))
        .then(county_name)
        .when(pl.Series(place == 1))
        .then(pl.lit("山西"))
        .otherwise(city_prefix)
    ).to_series()
    trade = take(vocab.TRADE_NAMES, rng.integers(0, len(vocab.TRADE_NAMES), m))

    def draw(values: Sequence[str]) -> pl.Series:
        return take(values, rng.integers(0, len(values), m))

    company = concat_text(prefix, trade, draw(vocab.INDUSTRIES), draw(vocab.COMPANY_FORMS))
    coop = concat_text(county_name, trade, draw(vocab.COOP_KINDS))
    owner = pl.select(
        pl.when(pl.Series(rng.random(m) < 0.4)).then(pl.lit("长治市")).otherwise(county_name)
    ).to_series()
    institution = concat_text(owner, draw(vocab.PUBLIC_INSTITUTIONS))
    social = concat_text(owner, trade, draw(vocab.SOCIAL_ORGS))
    s = pl.Series(sub)
    name = pl.select(
        pl.when(s == 0)
        .then(company)
        .when(s == 1)
        .then(coop)
        .when(s == 2)
        .then(institution)
        .otherwise(social)
    ).to_series()

    org_text = sc.to_series(org)
    hyphen = concat_text(org_text.str.slice(0, 8), "-", org_text.str.slice(8, 1))
    zzjg = pl.select(pl.when(pl.Series(rng.random(m) < 1 / 3)).then(hyphen).otherwise(org_text))
    legacy_tax = concat_text(sc.to_series(region), org_text)
    swdj = pl.select(pl.when(pl.Series(rng.random(m) < 0.5)).then(uscc).otherwise(legacy_tax))
    sydw = concat_text(sc.to_series(region), sc.to_series(sc.random_chars(rng, sc.DIGITS, m, 6)))
    shzz = concat_text("晋长民证字第", sc.to_series(sc.random_chars(rng, sc.DIGITS, m, 4)), "号")
    gszc = sc.to_series(sc.registration_numbers(rng, region))
    return _subject_frame(
        rng,
        m,
        birth_latest,
        XDR_MC=name,
        XDR_LB=repeat(load_catalogue().subject_types["legal"], m),
        XDR_SHXYM=uscc,
        XDR_GSZC=null_unless(np.isin(sub, (0, 1)) & (rng.random(m) < 0.2), gszc),
        XDR_ZZJG=null_unless(rng.random(m) < 0.15, zzjg.to_series()),
        XDR_SWDJ=null_unless(rng.random(m) < 0.05, swdj.to_series()),
        XDR_SYDW=null_unless((sub == 2) & (rng.random(m) < 0.3), sydw),
        XDR_SHZZ=null_unless((sub == 3) & (rng.random(m) < 0.3), shzz),
        FRDB=_person_names(rng, m),
        fr_share=0.3,
    )


def _individual_pool(rng: Rng, m: int, birth_latest: int) -> pl.DataFrame:
    """个体工商户: shops with a 92 credit code; 法定代表人 holds the operator."""
    county = rng.integers(0, len(vocab.COUNTIES), m)
    region = _county_regions(rng, county)
    org = sc.org_codes(rng, m)
    uscc = sc.to_series(sc.usccs(sc.constant("92", m), region, org))
    operator = _person_names(rng, m)
    surname = operator.str.slice(0, 1)
    trade = take(vocab.TRADE_NAMES, rng.integers(0, len(vocab.TRADE_NAMES), m))
    style = pl.Series(choose(rng, 3, m, (0.6, 0.2, 0.2)))
    shop_name = pl.select(
        pl.when(style == 0)
        .then(trade)
        .when(style == 1)
        .then(pl.concat_str([surname, pl.lit("记")]))
        .otherwise(pl.concat_str([pl.lit("老"), surname]))
    ).to_series()
    shop = take(vocab.SHOP_KINDS, rng.integers(0, len(vocab.SHOP_KINDS), m))
    name = concat_text(take([c for c, _ in vocab.COUNTIES], county), shop_name, shop)
    gszc = sc.to_series(sc.registration_numbers(rng, region))
    return _subject_frame(
        rng,
        m,
        birth_latest,
        XDR_MC=name,
        XDR_LB=repeat(load_catalogue().subject_types["individual"], m),
        XDR_SHXYM=uscc,
        XDR_GSZC=null_unless(rng.random(m) < 0.1, gszc),
        FRDB=operator,
        fr_share=0.2,
    )


def _natural_pool(rng: Rng, m: int, birth_latest: int) -> pl.DataFrame:
    """自然人: a name and a resident ID born in 长治; no codes, no 法定代表人."""
    regions = _region_matrix(vocab.PERSON_REGIONS, rng.integers(0, len(vocab.PERSON_REGIONS), m))
    ids = sc.to_series(sc.resident_ids(rng, regions, _birth_days(rng, m, birth_latest)))
    return _subject_frame(
        rng,
        m,
        birth_latest,
        XDR_MC=_person_names(rng, m),
        XDR_LB=repeat(load_catalogue().natural_type, m),
        XDR_ZJLX=repeat(ID_CARD, m),
        XDR_ZJHM=ids,
        fr_share=0.0,
    )


def _subject_frame(
    rng: Rng, m: int, birth_latest: int, fr_share: float, **columns: pl.Series
) -> pl.DataFrame:
    """All subject fields (nulls where a pool has none), with the legal representative's ID."""
    if fr_share:
        has_id = rng.random(m) < fr_share
        regions = _region_matrix(
            vocab.PERSON_REGIONS, rng.integers(0, len(vocab.PERSON_REGIONS), m)
        )
        ids = sc.to_series(sc.resident_ids(rng, regions, _birth_days(rng, m, birth_latest)))
        columns["FR_ZJLX"] = null_unless(has_id, repeat(ID_CARD, m))
        columns["FR_ZJHM"] = null_unless(has_id, ids)
    null = pl.Series([None] * m, dtype=pl.String)
    return pl.DataFrame({f: columns.get(f, null).alias(f) for f in SUBJECT_FIELDS})


def subject_columns(rng: Rng, subject: np.ndarray, birth_latest: int) -> pl.DataFrame:
    """Subject fields per row, drawn with repetition from a pool per subject class."""
    makers = (_legal_pool, _individual_pool, _natural_pool)
    pools, offsets, sizes = [], [], []
    total = 0
    for cls, make in enumerate(makers):
        rows = int((subject == cls).sum())
        m = math.ceil(rows / RECORDS_PER_SUBJECT)
        offsets.append(total)
        sizes.append(max(m, 1))
        if m:
            pools.append(make(rng, m, birth_latest))
            total += m
    if not pools:
        return pl.DataFrame({f: pl.Series([], dtype=pl.String) for f in SUBJECT_FIELDS})
    pool = pl.concat(pools)
    offsets_a, sizes_a = np.asarray(offsets), np.asarray(sizes)
    pick = offsets_a[subject] + rng.integers(0, 1 << 40, len(subject)) % sizes_a[subject]
    return pool[pick]
