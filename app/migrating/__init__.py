"""The migration safety net: what this project adds to Flask-Migrate and
Alembic, in one package that imports nothing of the web app, so that any
Flask-Script manage.py can take it in (docs/ADOPTING.md).

    flask_script_compat.py  `import flask_script` on every Python and both
                            stacks; imported first, before flask_migrate
    extension.py   Migrate: Flask-Migrate's, with everything below switched on
    env.py         what a repository's env.py runs: the lock, a transaction
                   per revision, the log, --sql, the raw alembic command;
                   multidb.py for `db init --multidb`
    lock.py        one migration at a time
    log/           the migration log: every step with its revision's
                   checksum, unfinished steps (and how far an online one
                   got), validation, `db log`
    status.py      the database's revision against the scripts' heads
    phases.py      the two phases of a release: what runs before the deploy,
                   what after it (the post_deploy branch), -x phase=...
    commands.py    db check, db createdb, db validate, db log, db lint,
                   runserver's warning
    lint/          db lint: what pending revisions would do in production
                   (built-in rules per dialect, squawk for PostgreSQL)
    table_locks.py how long upgrade and downgrade wait for a table's lock
    autogenerate/  what `db migrate` writes: enums, NOT NULL columns, renames,
                   MariaDB's operation order, the online form of each change,
                   and who answers its questions
    online/        the online operations (op.create_index_online, op.backfill,
                   ...) per dialect, and a revision that commits part by
                   part, resumed where it stopped
    database.py    connecting, errors that name the database, createdb
    errors.py      one line instead of a traceback; a revision file that
                   cannot be loaded, or fails while it runs, named with its line
    doors.py       manage.py, flask or alembic: which one runs, and its words
                   for the command a hint names
    revision_modules.py  the history loaded once per command (the configure
                   callback hands what it loaded to the command)
    templates/     what `db init` writes
"""
from . import flask_script_compat  # noqa: F401  (first: before flask_migrate loads)
from .commands import Check, CreateDb, Lint, Log, RunServer, Validate
from .errors import report_errors_in_one_line
from .extension import Migrate

# From the first import on (manage.py's first line): create_app may fail
# before Migrate is bound, e.g. when Flask-SQLAlchemy 3 refuses the URL.
report_errors_in_one_line()

__all__ = ["Check", "CreateDb", "Lint", "Log", "Migrate", "RunServer", "Validate",
           "report_errors_in_one_line"]
