"""The users app: create_app builds it for a configuration name."""
import os

from flask import Flask

from . import migrating  # first: it makes `flask_script` importable before flask_migrate loads
from .config import ConfigError, config_class, database_binds, database_url, secret_key
from .extensions import csrf, db, login_manager, migrate
from .migrating.database import bind_engines
from .request_limits import LimitedRequest
from .security import register_security_headers
from .utc import keep_time_in_utc

# Every door into the app (manage.py, flask, alembic) imports this package
# before it builds the app: a bad setting ends in one line, not a traceback.
migrating.report_errors_in_one_line(ConfigError)

# The migration repository sits beside the app package, whatever the current
# directory is when manage.py runs.
MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


def create_app(config_name=None, settings=None):
    """Build the app for `config_name` (see app/config.py); without one, for
    the FLASK_CONFIG variable, else "default".

    `settings` overrides configuration values after the environment is read;
    tests use it.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.request_class = LimitedRequest
    configuration = config_class(config_name or os.environ.get("FLASK_CONFIG") or "default")
    app.config.from_object(configuration)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.instance_path)
    binds = database_binds(app.instance_path)
    if binds:
        app.config["SQLALCHEMY_BINDS"] = binds
    app.config["SECRET_KEY"] = secret_key(configuration, app.instance_path)
    app.config.update(settings or {})

    register_extensions(app)
    register_blueprints(app)
    register_security_headers(app)
    return app


def register_extensions(app):
    # Flask-SQLAlchemy 3 creates the engines (importing the drivers) in
    # init_app, 2.5 on first use (here, in migrate.init_app).
    try:
        db.init_app(app)
        migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    except ImportError as error:
        raise ConfigError(
            "the database driver {} is not installed: install it, or use "
            "postgresql:// (psycopg2) or mysql+pymysql://".format(error.name)
        ) from None
    with app.app_context():
        for engine in bind_engines(db).values():
            keep_time_in_utc(engine)
    csrf.init_app(app)
    login_manager.init_app(app)


def register_blueprints(app):
    from .accounts import accounts, sessions  # noqa: F401  (sessions: the user loader)
    from .accounts.access import check_access
    from .health import health
    from .users import users

    app.register_blueprint(accounts)
    app.register_blueprint(users)
    app.register_blueprint(health)
    # After CSRFProtect's check: a form post without its token is refused first.
    app.before_request(check_access)
