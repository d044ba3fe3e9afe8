"""The intake stage: what arrived, from whom and when, and its bytes read into sheets.

Between the reference data and validation (``reference → intake → validate → store``): the
landing zone and its manifests, received dates and the names left alone
(:mod:`~sgs.intake.landing`), the units' hand-in door (:mod:`~sgs.intake.handin`), format and
encoding sniffing and the readers that turn CSV and workbook bytes into tables of text cells
(:mod:`~sgs.intake.readers` and the modules below it), and a ledger's sheets
(:mod:`~sgs.intake.ledgers`), and a hand-in's check kept with its arrival
(:mod:`~sgs.intake.checked`).  Nothing here judges a cell or writes to the store.

A file passes the stages once, in order (issue 22).  The conductor, :mod:`sgs.store.ingest`,
hands a round of files to intake (arrival, then reading and classifying each sheet: upload or
ledger, kind, layout — or the kept check in its place), then to validation (the round's uploads
together, each ledger), then to the store's writers, which neither read nor check anything
again.  Read statically from the conductor's ``_round`` (imports and calls as written, every
branch followed), a round makes 83 stops in 26 modules: intake at stops 2–44, validation at
46–68, the store at 70–83, each stage entered once from the conductor and none entered again
once the next has begun; its 9 climbs are returns to the conductor and from the shared modules
below the stages (errors, periods, the catalogue).  Before this structure, one ``sgs ingest``
of one file made 70 stops in 23 files with 11 climbs and 47 returns, the readers entered 8
times and the batches module 9.  ``tests/test_one_pass.py`` checks the same at run time, file
by file, and the one exception: a file whose reading no longer holds under the writer's lock
(another run stored the same bytes meanwhile) goes through the stages again in a round of its
own.
"""
