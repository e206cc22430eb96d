"""Migrate: Flask-Migrate's extension with the safety net switched on, a
drop-in for `from flask_migrate import Migrate`."""
import flask_migrate

from . import templates
from .commands import flask_check, flask_createdb, flask_lint, flask_log, flask_validate
from .database import bind_engines, prepare_engine
from .errors import refuse_broken_revisions, report_errors_in_one_line
from .lint import new_revision


class Migrate(flask_migrate.Migrate):
    """Flask-Migrate's Migrate, which also:

    - compares column types and writes batch operations (SQLite needs them to
      alter or drop a column) unless told otherwise (compare_type,
      render_as_batch);
    - makes `db init` write repositories that run this package's env;
    - lints each revision `db migrate` writes (lint/new_revision.py);
    - prepares the app's engines for migrating (database.prepare_engine);
    - adds `flask db-check`, `flask db-createdb`, `flask db-validate`,
      `flask db-log` and `flask db-lint`;
    - makes expected failures end in one line (errors.py), and a broken
      revision file stop every db command in one line naming it.

    Bind it after Flask-SQLAlchemy: `Migrate(app, db)`, or
    `migrate.init_app(app, db)` after `db.init_app(app)`.
    """

    def __init__(self, app=None, db=None, directory="migrations", **kwargs):
        kwargs.setdefault("compare_type", True)
        kwargs.setdefault("render_as_batch", True)
        super().__init__(app, db, directory, **kwargs)
        self.configure(templates.configure)
        self.configure(new_revision.configure)
        self.configure(refuse_broken_revisions)

    def init_app(self, app, db=None, directory=None, **kwargs):
        super().init_app(app, db, directory, **kwargs)
        with app.app_context():
            for engine in bind_engines(self.db).values():
                prepare_engine(engine)
        app.cli.add_command(flask_check)
        app.cli.add_command(flask_createdb)
        app.cli.add_command(flask_validate)
        app.cli.add_command(flask_log)
        app.cli.add_command(flask_lint)
        report_errors_in_one_line()
