"""Error answers for the whole app: JSON under /api/, an HTML page elsewhere."""
from flask import jsonify, make_response, render_template, request
from flask_login import current_user, logout_user
from sqlalchemy.orm.exc import ObjectDeletedError
from werkzeug.exceptions import HTTPException

from ..accounts.permissions import LastSuperUser, NotAllowed
from . import users


@users.app_errorhandler(HTTPException)
def http_error(error):
    if request.path.startswith("/api/"):
        response = jsonify(error=error.description)
    else:
        response = make_response(render_template("error.html", error=error))
    response.status_code = error.code
    # Keep the headers the error carries, such as Allow on a 405.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@users.app_errorhandler(NotAllowed)
@users.app_errorhandler(LastSuperUser)
def refused_change(error):
    """A change that is not the actor's to make (403), or that would leave
    no super_user (409): nothing was changed."""
    if request.path.startswith("/api/"):
        return jsonify(error=str(error)), error.status
    _sign_out_if_deleted()
    page = render_template("error.html", error=_Refusal(error))
    return page, error.status


def _sign_out_if_deleted():
    """The refusal rolled back, and the signed-in user is read anew for the
    page's header: a user deleted meanwhile (the other of two super_users
    deleting each other at once) is signed out, not an error 500."""
    if not current_user.is_authenticated:
        return
    try:
        current_user.email  # noqa: B018 (loads the row: a deleted user raises)
    except ObjectDeletedError:
        logout_user()


class _Refusal:
    """A refused change as error.html shows it."""

    def __init__(self, error):
        self.code = error.status
        self.name = "Not changed"
        self.description = str(error)[:1].upper() + str(error)[1:] + "."
