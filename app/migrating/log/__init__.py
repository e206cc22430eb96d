"""The migration log: one row per revision step a database went through,
with the revision's checksum, so that who ran what, when, for how long and
with what result can be read back (`db log`), and an applied revision whose
file changed or went away is caught before the next upgrade (`db validate`).
The idea of Flyway's schema history and `validate`, for Alembic.

    table.py       the migration_log table; creating it, adopting a database
                   that has none (baseline rows), carrying over the marks of
                   the older unfinished_migrations table
    checksum.py    a revision's checksum: its code, not its formatting
    steps.py       writing a row for each upgrade, downgrade and stamp, online
                   and in --sql scripts
    unfinished.py  steps that started and never finished: the refusal and
                   the way out (`db stamp`)
    validation.py  recorded checksums against the files; `db validate --accept`
    report.py      `db log`, as text or JSON
"""
