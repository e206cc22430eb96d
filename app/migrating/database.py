"""Connecting to the configured database, with errors a person can act on;
making its connections safe to migrate with; creating the database itself
(`db createdb`); refusing an alembic.ini that names another database."""
import configparser
import os
import weakref
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from . import doors

DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
# Databases every server has and every user may connect to, to run CREATE
# DATABASE from.
SERVER_DATABASES = {"postgresql": "postgres", "mysql": "information_schema"}
# MySQL error codes: unknown database; database exists.
MYSQL_UNKNOWN_DATABASE = 1049
MYSQL_DATABASE_EXISTS = 1007
# The names SQLAlchemy takes for the same server software, and for this host.
BACKEND_ALIASES = {"postgres": "postgresql", "mariadb": "mysql"}
THIS_HOST = {"localhost", "127.0.0.1", "::1"}


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the message names it, never the password."""

    @classmethod
    def because(cls, url, reason):
        return cls("cannot connect to {}: {}".format(describe(url), reason))


class DatabaseMissing(DatabaseUnavailable):
    """The server answers, but the database does not exist on it."""

    @classmethod
    def named_in(cls, url):
        return cls('{} does not exist: create it with "{}"'.format(
            describe(url), doors.command("createdb")))


class DatabaseMismatch(Exception):
    """alembic.ini's sqlalchemy.url names another database than the app's,
    which is the one every command migrates."""

    @classmethod
    def between(cls, ini_name, ini_url, app_url):
        return cls(
            "{0} sets sqlalchemy.url to {1}, but this app migrates {2} (DATABASE_URL or "
            "the app's config); remove sqlalchemy.url from {0} and set DATABASE_URL={1} "
            "to migrate that database".format(ini_name, shown(ini_url), shown(app_url)))


def describe(url):
    """The database as a person would name it: database, host, port and user,
    never the password."""
    url = make_url(url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return "the SQLite database {}".format(url.database or ":memory:")
    return 'database "{}" on {}:{} as user "{}"'.format(
        url.database, url.host or "localhost",
        url.port or DEFAULT_PORTS.get(backend, "default port"), url.username or "")


def shown(url):
    """`url` as text with its password masked."""
    return make_url(url).render_as_string(hide_password=True)


def identity(url):
    """What tells one database from another in `url`, however it is spelt:
    the backend (postgres, postgresql+psycopg2 and postgresql are one),
    host, port, database and user; for SQLite, the file's absolute path."""
    url = make_url(url)
    backend = url.get_backend_name()
    backend = BACKEND_ALIASES.get(backend, backend)
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            return backend, ":memory:"
        return backend, os.path.realpath(url.database)
    host = (url.host or "localhost").lower()
    return (backend, "localhost" if host in THIS_HOST else host,
            url.port or DEFAULT_PORTS.get(backend), url.database, url.username or "")


def ini_database_url(file_name, section="alembic"):
    """The sqlalchemy.url that the ini file `file_name` itself sets in
    `section` (%(here)s is its folder), or None. Read from the file, not from
    Alembic's Config, where Flask-Migrate may have put the app's URL."""
    parser = configparser.ConfigParser(
        {"here": os.path.dirname(os.path.abspath(file_name))})
    parser.read(file_name)
    url = parser.get(section, "sqlalchemy.url", fallback="").strip()
    return url or None


def refuse_another_database(file_name, shown_name, app_url, section="alembic"):
    """Raise DatabaseMismatch when the ini file `file_name` (named
    `shown_name` to the user) sets sqlalchemy.url to a database other than
    `app_url`, the one about to be migrated: Alembic's tutorials have readers
    set it, and silently migrating another database than the one they named
    is worse than refusing."""
    if file_name is None:
        return
    ini_url = ini_database_url(file_name, section)
    if ini_url is None:
        return
    try:
        ini_identity = identity(ini_url)
    except ArgumentError:
        raise DatabaseMismatch(
            "{0} sets sqlalchemy.url to {1!r}, which is not a database URL; remove "
            "sqlalchemy.url from {0}: this app migrates {2} (DATABASE_URL or the app's "
            "config)".format(shown_name, ini_url, shown(app_url))) from None
    if ini_identity != identity(app_url):
        raise DatabaseMismatch.between(shown_name, ini_url, app_url)


def first_line(error):
    """The first non-empty line of an error's message."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def database_error(error):
    """What the database said, when `error` comes from it, even wrapped in
    another exception (alembic-postgresql-enum wraps a rejected enum value
    in a ValueError), else `error`."""
    seen = error
    while seen is not None:
        if getattr(seen, "orig", None) is not None:
            return seen.orig
        seen = seen.__cause__
    return error


@contextmanager
def connect(engine, target=None):
    """A connection from `engine`; DatabaseMissing or DatabaseUnavailable if it
    cannot be opened, naming `target` (default: the engine's URL)."""
    target = target or engine.url
    try:
        connection = engine.connect()
    except DBAPIError as error:
        if is_missing_database(error.orig, engine.url):
            raise DatabaseMissing.named_in(target) from None
        raise DatabaseUnavailable.because(target, first_line(error.orig)) from None
    with connection:
        yield connection


@contextmanager
def committed(connection):
    """A transaction on `connection` committed at the end of the block, or, if
    the connection is in a transaction already, that one, left to its owner."""
    if connection.in_transaction():
        yield
    else:
        with connection.begin():
            yield


def commit_pending(connection):
    """Commit the transaction SQLAlchemy 2 began by itself on `connection`'s
    first statement (autobegin), if one is open, so that committed() blocks
    after it commit on their own rather than join it."""
    if connection.in_transaction():
        connection.get_transaction().commit()


class MigrateNotBound(Exception):
    """The app a command found has no Migrate bound: typically Migrate(app,
    db) runs only in manage.py, and alembic.ini's flask_app or FLASK_APP
    names the factory's package instead."""

    @classmethod
    def on(cls, app_found):
        return cls("the app found ({}) has no Migrate bound: bind Migrate(app, db) in "
                   "create_app, or point flask_app in alembic.ini (FLASK_APP for flask) at "
                   "the module that binds it, e.g. manage:app".format(app_found))


def bound_migrate(app_found=None):
    """The current app's Migrate state (Flask-Migrate's, with .db, .migrate
    and .configure_args); MigrateNotBound when none is bound, naming the app
    as `app_found` (how it was asked for, e.g. flask_app's value) or else by
    its import name."""
    extension = current_app.extensions.get("migrate")
    if extension is None:
        raise MigrateNotBound.on(app_found or current_app.import_name)
    return extension


def postgres_scheme_dropped(source):
    """The line for a database URL written postgres://, as Heroku's older
    DATABASE_URL is: SQLAlchemy 1.4 dropped that name for postgresql.
    `source` names where the URL came from."""
    return ("{} names postgres://, which SQLAlchemy no longer accepts: write "
            "postgresql:// instead".format(source))


def bind_engines(db):
    """{bind key: engine} of a Flask-SQLAlchemy `db`, None for the default
    database, on Flask-SQLAlchemy 3.1 (db.engines) and 2.5 (get_engine)."""
    engines = getattr(db, "engines", None)
    if engines is not None:
        return dict(engines)
    binds = current_app.config.get("SQLALCHEMY_BINDS") or {}
    return {key: db.get_engine(bind=key) for key in [None] + list(binds)}


def bind_metadata(db, key):
    """The MetaData of bind `key` (None for the default database): Flask-
    SQLAlchemy 3.1 keeps one per bind (db.metadatas); 2.5 keeps one in all
    and marks each table with info["bind_key"]."""
    metadatas = getattr(db, "metadatas", None)
    if metadatas is not None:
        if key in metadatas:
            return metadatas[key]
        return MetaData(naming_convention=db.metadata.naming_convention)
    metadata = MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.tables.values():
        if table.info.get("bind_key") == key:
            table.to_metadata(metadata)
    return metadata


def is_missing_database(error, url):
    backend = url.get_backend_name()
    if backend == "postgresql":
        return 'database "{}" does not exist'.format(url.database) in str(error)
    if backend == "mysql":
        return error.args[:1] == (MYSQL_UNKNOWN_DATABASE,)
    return False


# Engines already prepared, so that a second init_app adds no listener.
PREPARED = weakref.WeakSet()


def prepare_engine(engine):
    """Make every connection of `engine` safe to migrate with: on SQLite, DDL
    runs inside real transactions; on MySQL, the connection speaks utf8mb4.

    Python's sqlite3 driver opens transactions only before INSERT, UPDATE and
    DELETE, so a failing migration would leave its earlier DDL applied. With
    the driver's own handling off, SQLAlchemy's BEGIN covers DDL too (the
    recipe in SQLAlchemy's SQLite documentation). Flask-SQLAlchemy 2.5
    connects to MySQL with charset=utf8, which is utf8mb3: it refuses emoji
    and every other character outside the BMP.
    """
    if engine in PREPARED:
        return
    PREPARED.add(engine)
    backend = engine.dialect.name
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_without_driver_transactions)
        event.listen(engine, "begin", _sqlite_begin)
    elif backend == "mysql":
        event.listen(engine, "connect", _mysql_utf8mb4)


def _sqlite_without_driver_transactions(dbapi_connection, connection_record):
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection):
    connection.exec_driver_sql("BEGIN")


def _mysql_utf8mb4(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    cursor.execute("SET NAMES utf8mb4")
    cursor.close()


def create_database(url):
    """Create the database named in `url`; return False if it already exists.

    SQLite creates its file on first connection; the servers need CREATE
    DATABASE, run from a connection to the server without that database.
    """
    url = make_url(url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _create_sqlite(url)
    if backend == "postgresql":
        statement = 'CREATE DATABASE "{}"'.format(url.database.replace('"', '""'))
    elif backend == "mysql":
        statement = "CREATE DATABASE `{}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci".format(
            url.database.replace("`", "``"))
    else:
        raise DatabaseUnavailable.because(url, "createdb knows sqlite, postgresql and mysql only")
    server_url = url.set(database=SERVER_DATABASES[backend])
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with connect(engine, target=url) as connection:
            if _database_exists(connection, backend, url.database):
                return False
            connection.exec_driver_sql(statement)
            return True
    finally:
        engine.dispose()


def drop_database(url):
    """Remove the server database named in `url` if it exists, ending its
    sessions on PostgreSQL (a killed process may leave one open). For the test
    suite and the benchmarks, which make a database per run with
    create_database; no command of the app drops one."""
    url = make_url(url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        statement = 'DROP DATABASE IF EXISTS "{}" WITH (FORCE)'.format(
            url.database.replace('"', '""'))
    else:
        statement = "DROP DATABASE IF EXISTS `{}`".format(url.database.replace("`", "``"))
    engine = create_engine(url.set(database=SERVER_DATABASES[backend]),
                           isolation_level="AUTOCOMMIT")
    try:
        with connect(engine, target=url) as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _create_sqlite(url):
    if url.database in (None, "", ":memory:") or os.path.exists(url.database):
        return False
    engine = create_engine(url)
    try:
        with connect(engine) as connection:
            connection.exec_driver_sql("PRAGMA user_version")  # creates the file
        return True
    finally:
        engine.dispose()


def _database_exists(connection, backend, name):
    if backend == "postgresql":
        query = "SELECT 1 FROM pg_database WHERE datname = %(name)s"
    else:
        query = "SELECT 1 FROM information_schema.schemata WHERE schema_name = %(name)s"
    return connection.exec_driver_sql(query, {"name": name}).first() is not None
