"""PostgreSQL's enum types, by alembic-postgresql-enum: a revision creates
the type before a column uses it, drops it after its last column goes, and
adds, removes or reorders values with op.sync_enum_values, whose downgrade
syncs them back. Removing a value that rows still hold fails in the
revision's transaction, so nothing changes (env.py names the value).

Imported only for PostgreSQL: it registers its comparison process-wide and
costs an import the other backends do not need. Its INFO lines (two per
enum of the models, on every run) are silenced; the revision file shows
what it found.
"""
import logging


class OtherDialects(logging.Filter):
    """Its comparison, registered process-wide, warns on every other
    dialect (a multidb repository may mix them); those warnings say nothing
    to a user."""

    def filter(self, record):
        return "only supports postgresql" not in record.getMessage()


QUIET = OtherDialects()


def enable():
    """Import alembic-postgresql-enum (it registers itself with Alembic)."""
    import alembic_postgresql_enum  # noqa: F401

    logging.getLogger("alembic.alembic_postgresql_enum").setLevel(logging.WARNING)
    logging.getLogger("alembic.alembic_postgresql_enum.compare_dispatch").addFilter(QUIET)
