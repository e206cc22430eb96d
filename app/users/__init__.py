"""The users blueprint: the HTML page at / and the JSON API at /api/users."""
from flask import Blueprint

from ..accounts.access import can_change, may_delete, may_edit
from ..migrating.status import schema_revision

users = Blueprint("users", __name__)


@users.app_context_processor
def page_footer():
    # A function, so the database is asked only by templates that show it.
    return {"schema_revision": schema_revision, "can_change": can_change,
            "may_edit": may_edit, "may_delete": may_delete}

from . import api, errors, views  # noqa: E402,F401  (they register routes on `users`)
