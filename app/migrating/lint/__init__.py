"""`db lint`: what a revision does to a production database while the app
runs, found before it runs (the idea of squawk and strong_migrations).

    check.py         check_revisions(): rehearse, run the rules and squawk,
                     apply the suppressions
    rehearsal.py     each revision's upgrade() run offline for one dialect,
                     recording its operations and SQL at their lines
    rules.py         the built-in rules, on the operations, per dialect
    mysql.py         what InnoDB does in place and what by a table copy
    postgresql.py    what PostgreSQL changes in its catalog alone, and its
                     safe forms (CONCURRENTLY, NOT VALID, NOT NULL by CHECK)
    column_types.py  what a type change does to the values
    squawk.py        squawk on the SQL, for PostgreSQL
    suppressions.py  `# lint: allow <rule> — <reason>` in a revision
    findings.py      a finding, or the note of a squawk finding overruled,
                     printed as a line or as JSON
    new_revision.py  the lint db migrate runs on the revision it wrote

Nothing here is imported until a command lints: the other commands do not
pay for it.
"""
