"""Configuration: one class per environment, chosen by the FLASK_CONFIG variable.

The database comes from DATABASE_URL (any SQLAlchemy URL) or from its parts
DB_DRIVER, DB_USERNAME, DB_PASSWORD, DB_HOST, DB_PORT and DB_NAME; without
either the app uses a SQLite file in the instance folder. More databases
(binds) come from SQLALCHEMY_BINDS, a JSON object of names and URLs.
"""
import datetime
import json
import os
import secrets

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from app.migrating.database import postgres_scheme_dropped


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and the fix."""


class Config:
    """The default: a local SQLite database, debugger off."""

    DEBUG = False
    TESTING = False
    # None: read SECRET_KEY from the environment, else generate one (see secret_key).
    SECRET_KEY = None
    SECRET_KEY_REQUIRED = False
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # Requests with a larger body get 413 before anything reads them (a body
    # sent chunked, without a length, as soon as it grows past this).
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Form fields held in memory while a form is parsed; more gets 413.
    # Werkzeug 1.0.1 has no such cap of its own (app/request_limits.py).
    MAX_FORM_MEMORY_SIZE = 500 * 1024
    # The session cookie (CSRF tokens, flash messages): out of reach of
    # scripts, and not sent with cross-site posts.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # A signed-in session ends after this long without a request (each
    # request renews it), and at sign-out.
    PERMANENT_SESSION_LIFETIME = datetime.timedelta(hours=8)
    # Argon2id's parameters (app/accounts/passwords.py): argon2-cffi's
    # defaults, RFC 9106's second recommended option: 3 passes over 64 MiB,
    # 4 lanes. A change takes effect for each user at their next sign-in.
    PASSWORD_HASH_TIME_COST = 3
    PASSWORD_HASH_MEMORY_KIB = 64 * 1024
    PASSWORD_HASH_PARALLELISM = 4
    # Sign-in is refused for a while after this many failures in the window
    # for one account, or from one address (app/accounts/throttle.py).
    SIGN_IN_THROTTLE_SECONDS = 15 * 60
    SIGN_IN_MAX_FAILURES_PER_ACCOUNT = 5
    SIGN_IN_MAX_FAILURES_PER_ADDRESS = 20
    USERS_PER_PAGE = 20
    API_PAGE_SIZE = 20
    API_MAX_PAGE_SIZE = 100


class DevelopmentConfig(Config):
    """For working on the app: debugger and reloader on. Never expose it."""

    DEBUG = True


class TestingConfig(Config):
    """For the test suite."""

    TESTING = True
    SECRET_KEY = "testing"  # noqa: S105 (the test suite's key; production needs its own)


class ProductionConfig(Config):
    """For a deployed app: SECRET_KEY must come from the environment, and
    the app is reached over HTTPS (the session cookie is sent only there)."""

    SECRET_KEY_REQUIRED = True
    SESSION_COOKIE_SECURE = True


CONFIGS = {
    "default": Config,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class(name):
    """The configuration class called `name`, or a ConfigError listing the choices."""
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(
            "FLASK_CONFIG={!r} is not a configuration: use one of {}".format(
                name, ", ".join(CONFIGS)
            )
        ) from None


# The parts of a database URL, for deployments that hand them over one by one.
DB_PARTS = ("DB_DRIVER", "DB_USERNAME", "DB_PASSWORD", "DB_HOST", "DB_PORT", "DB_NAME")


def database_url(instance_path):
    """The database URL, from DATABASE_URL, or from the DB_* parts, or else a
    SQLite file in `instance_path`.

    A malformed URL or an unknown database name fails here, with a message that
    says how to write it, rather than later inside a migration.
    """
    url, source = _url_from_environment(instance_path)
    return _checked(url, source, instance_path)


def database_binds(instance_path):
    """SQLALCHEMY_BINDS from the variable of that name, a JSON object of bind
    names and URLs, e.g. {"audit": "postgresql://app@db/audit"}; None if unset."""
    raw = os.environ.get("SQLALCHEMY_BINDS")
    if not raw:
        return None
    try:
        binds = json.loads(raw)
    except ValueError:
        binds = None
    if not isinstance(binds, dict) or not all(
            isinstance(name, str) and name and isinstance(url, str)
            for name, url in binds.items()):
        raise ConfigError(
            'SQLALCHEMY_BINDS is not a JSON object of names and URLs: write it '
            'as {"audit": "postgresql://app@localhost/audit"}')
    return {name: _checked(_parsed(url, "SQLALCHEMY_BINDS[{!r}]".format(name)),
                           "SQLALCHEMY_BINDS[{!r}]".format(name), instance_path)
            for name, url in binds.items()}


def _parsed(url, source):
    try:
        return make_url(url)
    except ArgumentError:
        raise ConfigError(
            "{} is not a database URL: write it as "
            "dialect+driver://user:password@host:port/database, "
            "e.g. postgresql://app@localhost/app or sqlite:////path/to/app.db".format(source)
        ) from None


def _checked(url, source, instance_path):
    """`url` as text, once its database is known; SQLite paths made absolute."""
    if url.drivername == "postgres":
        raise ConfigError(postgres_scheme_dropped(source))
    try:
        url.get_dialect()
    except NoSuchModuleError:
        raise ConfigError(
            "{} names an unknown database {!r}: use sqlite, postgresql or "
            "mysql+pymysql".format(source, url.drivername)
        ) from None
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        url = _sqlite_file(url, instance_path)
    return url.render_as_string(hide_password=False)


def _url_from_environment(instance_path):
    url = os.environ.get("DATABASE_URL")
    parts = [name for name in DB_PARTS if os.environ.get(name)]
    if url and parts:
        raise ConfigError(
            "both DATABASE_URL and {} are set: use one or the other".format(
                ", ".join(parts))
        )
    if url:
        return _parsed(url, "DATABASE_URL"), "DATABASE_URL"
    if parts:
        return _url_from_parts(), "DB_DRIVER"
    return make_url("sqlite:///" + os.path.join(instance_path, "app.db")), "the default"


def _url_from_parts():
    # URL.create takes each part as it is, so a password with @, :, % or /
    # needs no escaping.
    driver = os.environ.get("DB_DRIVER")
    if not driver:
        raise ConfigError(
            "DB_DRIVER is not set: with the DB_* variables, set DB_DRIVER to "
            "postgresql, mysql+pymysql or sqlite"
        )
    port = os.environ.get("DB_PORT")
    if port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ConfigError("DB_PORT={!r} is not a port number".format(port))
    return URL.create(
        driver,
        username=os.environ.get("DB_USERNAME") or None,
        password=os.environ.get("DB_PASSWORD") or None,
        host=os.environ.get("DB_HOST") or None,
        port=int(port) if port else None,
        database=os.environ.get("DB_NAME") or None,
    )


def _sqlite_file(url, instance_path):
    # A relative path is taken from the instance folder on every stack (Flask-
    # SQLAlchemy 2 would take it from the app package, 3 from the instance
    # folder). The folder is created here; if that fails, connecting reports it.
    path = os.path.join(instance_path, url.database)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    except OSError:
        pass
    return url.set(database=path)


def secret_key(configuration, instance_path):
    """SECRET_KEY from the environment, else from `configuration`, else one
    kept in the instance folder (the production configuration refuses that).

    The generated key is written once and reused, so sessions and CSRF tokens
    survive a restart and are shared by every worker of one machine.
    """
    key = os.environ.get("SECRET_KEY") or configuration.SECRET_KEY
    if key:
        return key
    if configuration.SECRET_KEY_REQUIRED:
        raise ConfigError(
            "SECRET_KEY is not set: the production configuration reads it "
            "from the environment; make one with: "
            "python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return _read_or_create_key(os.path.join(instance_path, "secret_key"))


def _read_or_create_key(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        pass
    # Write the key aside, then link it into place: link fails if the file
    # exists, so processes starting together all end up with the first key.
    draft = "{}.{}".format(path, os.getpid())
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(draft)
    with open(path) as f:
        return f.read().strip()
