"""The intake stage: what arrived, from whom and when, and its bytes read into sheets.

Between the reference data and validation (``reference → intake → validate → store``): the
landing zone and its manifests, received dates and the names left alone
(:mod:`~sgs.intake.landing`), the units' hand-in door (:mod:`~sgs.intake.handin`), format and
encoding sniffing and the readers that turn CSV and workbook bytes into tables of text cells
(:mod:`~sgs.intake.readers` and the modules below it), and a ledger's sheets
(:mod:`~sgs.intake.ledgers`).  Nothing here judges a cell or writes to the store.
"""
