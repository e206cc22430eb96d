"""The Alembic environment of a repository written by `db init --multidb`:
one history for the app's default database and every bind of
SQLALCHEMY_BINDS. Each revision has upgrade_<bind>() and downgrade_<bind>()
('' names the default database); a run opens a transaction on every
database and commits them all at the end, or none.

Flask-Migrate 2.7's own multidb template fails on Flask-SQLAlchemy 3 (it calls
get_engine(app, bind), and it finds each bind's tables in db.metadata, which
3.x splits into db.metadatas, so autogenerate would propose dropping them),
and on SQLAlchemy 2 (str(url) hides the password). This one works with both
Flask-SQLAlchemy 2.5 and 3.1 (database.bind_engines and bind_metadata).
"""
from contextlib import ExitStack

from alembic import context
from alembic.util import CommandError
from flask import current_app
from sqlalchemy.engine import make_url

from .database import bind_engines, bind_metadata, connect
from .env import (
    configure, include_name, logger, revision_errors_explained, run_with)
from .templates import MISSING_BINDS


def bind_names():
    """'' for the default database, then the name of each bind."""
    binds = current_app.config.get("SQLALCHEMY_BINDS")
    if not binds:
        raise CommandError(MISSING_BINDS)
    return [""] + list(binds)


def run():
    """Run the alembic command that loaded env.py, on every database."""
    run_with(run_offline, run_online)


def run_offline():
    """--sql: the SQL of each database in turn, on stdout."""
    extension = current_app.extensions["migrate"]
    urls = dict(current_app.config["SQLALCHEMY_BINDS"] or {})
    urls[""] = current_app.config["SQLALCHEMY_DATABASE_URI"]
    for name in bind_names():
        context.config.print_stdout("-- database: %s", name or "(default)")
        configure(
            make_url(urls[name]).get_backend_name(),
            url=make_url(urls[name]),
            target_metadata=bind_metadata(extension.db, name or None),
            literal_binds=True,
            **extension.configure_args
        )
        with revision_errors_explained(), context.begin_transaction():
            context.run_migrations(engine_name=name)


def run_online():
    extension = current_app.extensions["migrate"]
    names = bind_names()
    engines = bind_engines(extension.db)
    with ExitStack() as stack:
        connections = {name: stack.enter_context(connect(engines[name or None]))
                       for name in names}
        transactions = {name: connection.begin() for name, connection in connections.items()}
        try:
            for name in names:
                logger.info("Migrating database %s", name or "(default)")
                configure(
                    connections[name].dialect.name, len(names),
                    connection=connections[name],
                    upgrade_token="%s_upgrades" % name,
                    downgrade_token="%s_downgrades" % name,
                    target_metadata=bind_metadata(extension.db, name or None),
                    include_name=include_name,
                    **extension.configure_args
                )
                with revision_errors_explained():
                    context.run_migrations(engine_name=name)
        except BaseException:
            for transaction in transactions.values():
                transaction.rollback()
            raise
        for transaction in transactions.values():
            transaction.commit()
