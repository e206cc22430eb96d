"""The Alembic environment of a single-database repository: migrations/env.py
and every env.py that `db init` writes call run(). It runs inside the app
context that Flask-Script (or `flask`) pushes; under the raw `alembic`
command, which pushes none, it finds the app the way `flask` does and pushes
one (load_app).

Differences from Flask-Migrate's template:
- upgrade, downgrade and stamp hold the migration lock for their whole run
  (lock.py), so concurrent deploys apply each revision once;
- each revision runs in its own transaction, so a failing revision leaves the
  ones before it applied and itself not applied, where DDL is transactional;
  where it is not (MySQL), the revision stays unfinished in the log and
  further upgrades are refused until `db stamp` (log/unfinished.py);
- every step is logged with its revision's checksum, and upgrade and
  downgrade first check that no applied revision changed or went away
  (log/); --sql scripts create and fill the log too;
- a connection handed over in config.attributes["connection"] is used
  (Alembic's documented way to share one; tests and pytest-alembic use it);
- upgrade and downgrade wait at most 10 seconds for a lock on a table
  (table_locks.py), so a revision stuck behind a long transaction fails
  instead of holding up every query on that table;
- the online operations (online/) are registered before any revision
  runs, and a revision that commits part by part is counted in the log,
  so that running the command again goes on from where it stopped;
- logging keeps the loggers configured before it, so the flask_migrate logger
  that reports errors is never silenced;
- an ambiguous revision prefix is reported as such, not as "Can't locate";
- a sqlalchemy.url in the alembic.ini in use that names another database
  than the app's is refused, not silently ignored (database.py);
- the database URL is never written into the Alembic config (where
  SQLAlchemy 2 would hide its password, and where it could leak), and --sql
  output is made from the URL's dialect without connecting.
"""
import logging
import os
import sys
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from flask import current_app, has_app_context
from flask.cli import ScriptInfo
from sqlalchemy.engine import Connection, make_url

from . import phases
from .database import (
    bound_migrate,
    commit_pending,
    committed,
    connect,
    refuse_another_database,
)
from .errors import report_errors_in_one_line, require_revision_files
from .lock import lock_timeout, migration_lock
from .log import steps, table, unfinished, validation
from .online.failures import StepRefused
from .status import status_of
from .table_locks import (
    is_lock_timeout,
    limit_lock_waits,
    session_settings,
    table_lock_timeout,
    timed_out,
)

logger = logging.getLogger("alembic.env")

# alembic hands each command's work to the migration context as opts["fn"];
# these are the names of the ones that write to the database (db validate's
# own among them: it may record a baseline or an accepted file), of the one
# that compares the models with it (revision --autogenerate, check), and of
# `db current`'s.
CHANGING_COMMANDS = {"upgrade": "upgrade", "downgrade": "downgrade", "do_stamp": "stamp",
                     "validate_revisions": "validate"}
COMPARING_COMMAND = "retrieve_migrations"
# alembic 1.18+: "setting up autogenerate plugin ..." at INFO, six a run.
PLUGIN_LOGGER = "alembic.runtime.plugins"
CURRENT_COMMAND = "display_version"


def run():
    """Run the alembic command that loaded env.py."""
    run_with(run_offline, run_online)


def run_with(offline, online):
    """Configure logging from alembic.ini, then run `offline` for --sql,
    else `online`, in the app's context."""
    configure_logging()
    with app_context():
        refuse_another_database_in_ini()
        (offline if context.is_offline_mode() else online)()


def refuse_another_database_in_ini():
    """Refuse to run when the alembic.ini in use sets sqlalchemy.url to
    another database than the app's, the one migrated (database.py)."""
    config = context.config
    name = config.config_file_name
    refuse_another_database(name, name and validation.relative(name),
                            current_app.config["SQLALCHEMY_DATABASE_URI"],
                            config.config_ini_section)


def configure_logging():
    """Logging from the alembic.ini alembic read or, when that one has no
    logging sections (the project root's, which only points the raw alembic
    command at the repository), from the repository's own; without the lines
    alembic 1.18+ writes for each of its autogenerate plugins on every
    db migrate and db check, which tell a user nothing."""
    config = context.config
    if config.config_file_name is not None and config.file_config.has_section("loggers"):
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    else:
        repository_ini = os.path.join(context.script.dir, "alembic.ini")
        if os.path.exists(repository_ini):
            fileConfig(repository_ini, disable_existing_loggers=False)
    logging.getLogger(PLUGIN_LOGGER).setLevel(logging.WARNING)


@contextmanager
def app_context():
    """The context of the app the command migrates: the one Flask-Script or
    `flask` pushed, else (the raw alembic command) one of load_app()."""
    if has_app_context():
        yield
        return
    report_errors_in_one_line()
    name = app_import_path()
    with load_app(name).app_context():
        # Checked here, where the name the app was asked for is known: an app
        # whose Migrate is bound only in manage.py has none.
        bound_migrate(name)
        yield


def app_import_path():
    """The app the raw alembic command migrates, as `flask_app` in
    alembic.ini's [alembic] section or else FLASK_APP names it, written as
    FLASK_APP is ("package", "module:app", "package:create_app('default')",
    with literal arguments); None when neither is set."""
    return context.config.get_main_option("flask_app") or os.environ.get("FLASK_APP") or None


def load_app(name):
    """The app named `name` (app_import_path()), loaded as `flask` loads it;
    without a name, found the way `flask` finds it (an app or a create_app
    factory in app.py or wsgi.py, or in an app/ package)."""
    return ScriptInfo(app_import_path=name).load_app()


def include_name(name, type_, parent_names):
    """Autogenerate and `db check` leave the bookkeeping tables alone."""
    return not (type_ == "table" and table.is_bookkeeping_table(name))


@contextmanager
def revision_errors_explained():
    """Alembic reports every revision it cannot resolve as "Can't locate
    revision identified by ..."; its cause says whether the id is unknown or
    matches several revisions (an ambiguous prefix). Report the cause."""
    try:
        yield
    except CommandError as error:
        if isinstance(error.__cause__, ResolutionError):
            raise CommandError(str(error.__cause__)) from error.__cause__
        raise


def command_name():
    """The name of the work alembic hands to the migration context (see
    CHANGING_COMMANDS); known once context.configure has run."""
    return context.get_context().opts["fn"].__name__


def configure(dialect_name, databases=1, **options):
    """context.configure(**options), with the log's callback; for a command
    that compares the models (db migrate, db check) or runs revisions on
    PostgreSQL, with what autogenerate/ adds (imported only then: db current
    needs none of it). `databases`: how many a run compares (multidb.py).
    A broken revision file stops every command here (errors.py)."""
    require_revision_files(context.script)
    options["on_version_apply"] = (steps.record_in_script if context.is_offline_mode()
                                   else steps.on_version_apply)
    context.configure(**options)
    name = command_name()
    work = upgrade_in_phase() if name == "upgrade" else None
    if name in ("upgrade", "downgrade") and not context.is_offline_mode():
        # Each revision that runs tells the log when it starts.
        work = steps.reporting_steps(work or context.get_context().opts["fn"])
    if work is not None:
        options["fn"] = work
        context.configure(**options)
    if name == COMPARING_COMMAND or (name in CHANGING_COMMANDS and dialect_name == "postgresql"):
        from . import autogenerate

        autogenerate.prepare(dialect_name)
        if name == COMPARING_COMMAND:
            options["compare_type"] = autogenerate.string_length.compare_type_option(
                dialect_name, options.get("compare_type", True))
        context.configure(process_revision_directives=autogenerate.revision_writer(databases),
                          **options)


def upgrade_in_phase():
    """The work of an upgrade whose target the release's phases read
    otherwise than Alembic (phases.py), or None. Alembic's upgrade command
    resolves its target inside the work it hands over, so the work is made
    anew, as that command makes it."""
    migration_context = context.get_context()
    script = context.script
    phase = phases.phase_setting(context.get_x_argument(as_dictionary=True))
    target = phases.upgrade_target(script, migration_context.opts["destination_rev"], phase)
    if target is None:
        return None

    def upgrade(rev, migration_context):
        return script._upgrade_revs(target[0] if len(target) == 1 else target, rev)

    return upgrade


def run_offline():
    extension = bound_migrate()
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    configure(
        url.get_backend_name(),
        url=url,
        target_metadata=extension.db.metadata,
        literal_binds=True,
        transaction_per_migration=True,
        **extension.configure_args
    )
    with revision_errors_explained(), context.begin_transaction():
        start_script(url.get_backend_name())
        context.run_migrations()


def start_script(dialect_name):
    """What a --sql script of upgrade, downgrade or stamp starts with: the
    session's lock timeout (for upgrade and downgrade) and the log's table."""
    command = CHANGING_COMMANDS.get(command_name())
    if command in ("upgrade", "downgrade"):
        seconds = table_lock_timeout(context.get_x_argument(as_dictionary=True))
        for statement in session_settings(dialect_name, seconds):
            context.execute(statement)
    if command is not None:
        steps.create_in_script(context.get_context())


def run_online():
    # A Connection handed over is used as is; an Engine (pytest-alembic hands
    # over one) is connected like the app's own.
    connectable = context.config.attributes.get("connection")
    if isinstance(connectable, Connection):
        run_on(connectable)
        return
    with connect(connectable or bound_migrate().db.engine) as connection:
        run_on(connection)


def run_on(connection):
    extension = bound_migrate()
    configure(
        connection.dialect.name,
        connection=connection,
        target_metadata=extension.db.metadata,
        include_name=include_name,
        transaction_per_migration=True,
        # SQLite's DDL is transactional once the driver lets SQLAlchemy
        # begin transactions (database.py); alembic assumes it is not.
        transactional_ddl=connection.dialect.name != "mysql",
        **extension.configure_args
    )
    command = CHANGING_COMMANDS.get(command_name())
    if command is None:
        with revision_errors_explained(), context.begin_transaction():
            context.run_migrations()
        if command_name() == CURRENT_COMMAND:
            warn_if_unfinished(connection)
            say_what_waits_for_the_deploy()
        return
    with migration_lock(connection, lock_timeout(context.get_x_argument(as_dictionary=True))):
        recorder = prepare_changing_command(connection, command)
        with recorder.active(), failures_explained(recorder):
            with revision_errors_explained(), context.begin_transaction():
                context.run_migrations()
        commit_pending(connection)  # what db validate --accept wrote, on SQLAlchemy 2
        if command == "stamp":
            unfinished.resolve(connection, recorder.who.now())


def prepare_changing_command(connection, command):
    """Under the lock, before `command` (upgrade, downgrade, stamp or
    validate) runs on `connection`: make sure the log exists (adopting a
    database that has none); for upgrade and downgrade, refuse when a step
    did not finish or an applied revision changed, and log each revision.
    Return the database's Recorder, to make active while the command runs."""
    script = context.script
    recorder = steps.Recorder(connection, script)
    with committed(connection):
        heads = context.get_context().get_current_heads()
    table.prepare(connection, script, heads, recorder.who)
    if command in ("upgrade", "downgrade"):
        recorder.interrupted = unfinished.refuse_if_unfinished(connection, script, command)
        validation.refuse_if_invalid(connection, script)
        recorder.table_lock_timeout = table_lock_timeout(
            context.get_x_argument(as_dictionary=True))
        limit_lock_waits(connection, recorder.table_lock_timeout)
    return recorder


@contextmanager
def failures_explained(recorder):
    """A revision that fails is logged, and reported in one line saying
    whether the database is as before it or part-way through it."""
    try:
        yield
    except Exception as error:
        explained = explained_failure(recorder, error)
        if explained is None:
            raise
        raise explained from error


def explained_failure(recorder, error):
    """Once the revision that failed with `error` is rolled back: log it, and
    return the CommandError to raise instead (None when no revision was
    running: the failure is not a revision's)."""
    failed = recorder.failed(error)
    if failed is None:
        return None
    why = None
    if isinstance(error, StepRefused):
        why = str(error)
    elif is_lock_timeout(error):
        why = timed_out(recorder.table_lock_timeout, error)
    return unfinished.failure(recorder.script, failed, error, why)


def say_what_waits_for_the_deploy():
    """`db current`: name the post-deploy revisions still to run, when they
    are all that is pending."""
    status = status_of(context.script, context.get_context().get_current_heads())
    if status.pending and status.is_ready:
        print("note: {}: {}".format(status.warning(), ", ".join(status.after_deploy)),
              file=sys.stderr)


def warn_if_unfinished(connection):
    """`db current`: say so when a step did not finish."""
    warning = unfinished.warning(connection, context.script)
    if warning:
        print("warning: " + warning, file=sys.stderr)
