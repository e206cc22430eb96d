"""The Flask extensions, created unbound here and bound to an app by create_app."""
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

from .migrating import Migrate

# Every index and constraint gets a name made from its table and columns, the
# same on every database, so a migration can alter or drop it by that name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))

# Flask-Migrate's Migrate with the migration safety net on (app/migrating/):
# it compares column types, writes batch operations for SQLite, and more.
migrate = Migrate()

csrf = CSRFProtect()

# Who is signed in to the page (app/accounts/sessions.py).
login_manager = LoginManager()
