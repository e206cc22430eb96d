"""The Alembic environment of a repository written by `db init --multidb`:
one history for the app's default database and every bind of
SQLALCHEMY_BINDS. Each revision has upgrade_<bind>() and downgrade_<bind>()
('' names the default database); a run opens a transaction on every
database and commits them all at the end, or none. Each database has its
own migration lock and migration log, as a single database has.

Flask-Migrate 2.7's own multidb template fails on Flask-SQLAlchemy 3 (it calls
get_engine(app, bind), and it finds each bind's tables in db.metadata, which
3.x splits into db.metadatas, so autogenerate would propose dropping them),
and on SQLAlchemy 2 (str(url) hides the password). This one works with both
Flask-SQLAlchemy 2.5 and 3.1 (database.bind_engines and bind_metadata).
"""
from contextlib import ExitStack, nullcontext

from alembic import context
from alembic.util import CommandError
from flask import current_app
from sqlalchemy.engine import make_url

from .database import bind_engines, bind_metadata, bound_migrate, commit_pending, connect
from .env import (
    CHANGING_COMMANDS,
    CURRENT_COMMAND,
    command_name,
    configure,
    explained_failure,
    include_name,
    logger,
    prepare_changing_command,
    revision_errors_explained,
    run_with,
    start_script,
    warn_if_unfinished,
)
from .lock import lock_timeout, migration_lock
from .log import unfinished
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
    extension = bound_migrate()
    urls = dict(current_app.config["SQLALCHEMY_BINDS"] or {})
    urls[""] = current_app.config["SQLALCHEMY_DATABASE_URI"]
    for name in bind_names():
        context.config.print_stdout("-- database: %s", name or "(default)")
        url = make_url(urls[name])
        configure(
            url.get_backend_name(),
            url=url,
            target_metadata=bind_metadata(extension.db, name or None),
            literal_binds=True,
            **extension.configure_args
        )
        with revision_errors_explained(), context.begin_transaction():
            start_script(url.get_backend_name())
            context.run_migrations(engine_name=name)


def run_online():
    """Every database in one run: upgrade, downgrade and stamp hold the
    migration lock of each and log each one's steps (taken in the same order
    by every process), and a revision that fails rolls back every database."""
    extension = bound_migrate()
    names = bind_names()
    engines = bind_engines(extension.db)
    with ExitStack() as stack:
        connections = {name: stack.enter_context(connect(engines[name or None]))
                       for name in names}

        def configure_for(name):
            configure(
                connections[name].dialect.name, len(names),
                connection=connections[name],
                upgrade_token="{}_upgrades".format(name),
                downgrade_token="{}_downgrades".format(name),
                target_metadata=bind_metadata(extension.db, name or None),
                include_name=include_name,
                database_name=name,
                **extension.configure_args
            )

        configure_for(names[0])
        command = CHANGING_COMMANDS.get(command_name())
        recorders = {}
        if command is not None:
            timeout = lock_timeout(context.get_x_argument(as_dictionary=True))
            for name in names:
                stack.enter_context(migration_lock(connections[name], timeout))
            for name in names:
                configure_for(name)
                recorders[name] = prepare_changing_command(connections[name], command)
                commit_pending(connections[name])
        run_every_database(names, connections, recorders, configure_for)
        for name in names:
            if command == "stamp":
                unfinished.resolve(connections[name], recorders[name].who.now())
            elif command is None and command_name() == CURRENT_COMMAND:
                warn_if_unfinished(connections[name])


def run_every_database(names, connections, recorders, configure_for):
    """The command on each database in turn, all in transactions committed
    together at the end, or rolled back together."""
    transactions = {name: connection.begin() for name, connection in connections.items()}
    recorder = None
    try:
        for name in names:
            logger.info("Migrating database %s", name or "(default)")
            configure_for(name)
            recorder = recorders.get(name)
            with recorder.active() if recorder is not None else nullcontext(), \
                    revision_errors_explained():
                context.run_migrations(engine_name=name)
    except BaseException as error:
        for transaction in transactions.values():
            transaction.rollback()
        explained = (explained_failure(recorder, error)
                     if recorder is not None and isinstance(error, Exception) else None)
        if explained is None:
            raise
        raise explained from error
    for transaction in transactions.values():
        transaction.commit()
