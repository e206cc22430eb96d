"""Where the database stands against the migration scripts."""
from collections import namedtuple

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from . import doors, phases
from .database import bound_migrate

# The fix the app's own pages name (health.py): the manage.py door's words,
# since no command line is in use there.
UPGRADE_COMMAND = "python manage.py db upgrade"


class MigrationStatus(namedtuple("MigrationStatus", "current heads pending after_deploy")):
    """current: revisions the database is at; heads: the newest scripts;
    pending: revisions not yet applied, newest first; after_deploy: those of
    them that run after the deploy (phases.py)."""

    @property
    def is_current(self):
        return not self.pending

    @property
    def is_ready(self):
        """Whether the app may serve: nothing is pending but what runs after
        the deploy (which the deployed release does not need)."""
        return len(self.after_deploy) == len(self.pending)

    def warning(self):
        """The line to print when the database is behind, or None."""
        if self.is_current:
            return None
        if self.is_ready:
            return phases.pending_after_deploy_line(
                len(self.pending), doors.command("upgrade", x="phase=" + phases.AFTER))
        return '{} unapplied migration(s): run "{}"'.format(
            len(self.pending), doors.command("upgrade"))


def migration_status(directory=None):
    """Read the database's revision and compare it with the scripts in `directory`.

    Needs an app context; raises SQLAlchemy errors when the database cannot be
    reached, and alembic's CommandError when the database names a revision
    that no script defines.
    """
    _, script = repository(directory)
    return status_of(script, current_revisions())


def repository(directory=None):
    """(alembic Config, ScriptDirectory) of the bound app's repository in
    `directory` (Flask-Migrate's default when None)."""
    config = bound_migrate().migrate.get_config(directory)
    return config, ScriptDirectory.from_config(config)


def status_of(script, current):
    """The MigrationStatus of a database at the revisions `current`."""
    pending = [revision.revision for revision in pending_revisions(script, current)]
    return MigrationStatus(current, script.get_heads(), pending,
                           phases.pending_after_deploy(script, pending))


def pending_revisions(script, current):
    """The Scripts a database at the revisions `current` has not applied,
    newest first. (Alembic walks from the heads down to `current` only when
    `current` lies below every head, which the post_deploy branch of
    phases.py, on a base of its own, does not.) A database at every head
    has applied every revision: no walk over the history then."""
    if current and set(current) == set(script.get_heads()):
        return []
    applied = {revision.revision for revision in script.iterate_revisions(current, "base")} \
        if current else set()
    return [revision for revision in script.iterate_revisions("heads", "base")
            if revision.revision not in applied]


def current_revisions():
    """The revisions the database is at, as recorded in alembic_version (an
    empty tuple before the first upgrade). Needs an app context."""
    engine = bound_migrate().db.engine
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
