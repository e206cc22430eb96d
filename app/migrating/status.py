"""Where the database stands against the migration scripts."""
from collections import namedtuple

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

UPGRADE_COMMAND = "python manage.py db upgrade"


class MigrationStatus(namedtuple("MigrationStatus", "current heads pending")):
    """current: revisions the database is at; heads: the newest scripts;
    pending: revisions not yet applied, newest first."""

    @property
    def is_current(self):
        return not self.pending

    def warning(self):
        """The line to print when the database is behind, or None."""
        if self.is_current:
            return None
        return '{} unapplied migration(s): run "{}"'.format(
            len(self.pending), UPGRADE_COMMAND
        )


def migration_status(directory=None):
    """Read the database's revision and compare it with the scripts in `directory`.

    Needs an app context; raises SQLAlchemy errors when the database cannot be
    reached, and alembic's CommandError when the database names a revision
    that no script defines.
    """
    config = current_app.extensions["migrate"].migrate.get_config(directory)
    script = ScriptDirectory.from_config(config)
    current = current_revisions()
    pending = [
        revision.revision
        for revision in script.iterate_revisions("heads", current or "base")
    ]
    return MigrationStatus(current, script.get_heads(), pending)


def current_revisions():
    """The revisions the database is at, as recorded in alembic_version (an
    empty tuple before the first upgrade). Needs an app context."""
    engine = current_app.extensions["migrate"].db.engine
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_heads()


def schema_revision():
    """The revision the database is at, as the page footer shows it: "none"
    before the first upgrade, "unknown" when the database cannot be read (an
    error page must still render)."""
    try:
        return ", ".join(current_revisions()) or "none"
    except SQLAlchemyError:
        return "unknown"
