"""The rule of every route, checked before any view runs.

Each view is marked with the access it needs:

    @access(PUBLIC)   anyone, signed in or not (the sign-in page, /healthz)
    @access(READ)     any signed-in role: user, admin, super_user
    @access(CHANGE)   admin and super_user

Pages take the signed-in user of the session (sessions.py); without one
they send the client to the sign-in page. The JSON API (/api/) takes only
an API token, `Authorization: Bearer <token>`, never the session cookie:
401 without a valid token, 403 for a role that may not. A route that has
no mark answers 403 to everyone: forgetting a rule closes the route rather
than opening it (tests/test_access.py walks every route of the app).
"""
from flask import abort, current_app, g, jsonify, redirect, request, url_for
from flask_login import current_user

from .. import models
from ..extensions import login_manager
from . import permissions
from .tokens import user_of_token

PUBLIC, READ, CHANGE = "public", "read", "change"
ROLES_FOR = {READ: models.ROLES, CHANGE: ("super_user", "admin")}
# Flask's own route, which no view of ours marks.
ENDPOINT_ACCESS = {"static": PUBLIC}
API_PREFIX = "/api/"
# A help text, not a password.
TOKEN_HELP = (
    "send an API token as 'Authorization: Bearer <token>'; make one with: "  # noqa: S105
    "python manage.py create_token --email <your email>")


def access(level):
    """Mark a view with the access it needs (PUBLIC, READ or CHANGE)."""
    if level not in (PUBLIC, READ, CHANGE):
        raise ValueError("access must be PUBLIC, READ or CHANGE, not {!r}".format(level))

    def mark(view):
        view.access = level
        return view
    return mark


def access_of(app, endpoint):
    """The access the view of `endpoint` needs, or None when it has no mark."""
    if endpoint in ENDPOINT_ACCESS:
        return ENDPOINT_ACCESS[endpoint]
    return getattr(app.view_functions.get(endpoint), "access", None)


def check_access():
    """before_request: let the request through, or answer it here."""
    if request.endpoint is None:  # no such route: 404 or 405 follows
        return None
    level = access_of(current_app, request.endpoint)
    if level == PUBLIC:
        return None
    if request.path.startswith(API_PREFIX):
        return _check_token(level)
    if level is None:
        abort(403, "This page has no access rule, so it is closed to everyone.")
    if not current_user.is_authenticated:
        if request.method != "GET":  # a form posted after its session ended
            return redirect(url_for(login_manager.login_view))
        return login_manager.unauthorized()  # to sign-in, and back here after
    if current_user.role not in ROLES_FOR[level]:
        abort(403, "Your role ({}) may read users, not change them.".format(current_user.role))
    return None


def actor():
    """Who makes the request: the API token's user, else the page's."""
    return g.get("token_user") or current_user._get_current_object()


def can_change():
    """For templates: may the signed-in user add, edit and delete users?"""
    return current_user.is_authenticated and current_user.role in ROLES_FOR[CHANGE]


def may_edit(user):
    """For templates: may the signed-in user edit `user` (a row's Edit)?"""
    return can_change() and permissions.may_edit(current_user, user)


def may_delete(user):
    """For templates: may the signed-in user delete `user` (a row's Delete)?"""
    return can_change() and permissions.may_delete(current_user, user)


def _check_token(level):
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    user = user_of_token(secret.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        response = jsonify(error="a valid API token is required: " + TOKEN_HELP)
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response, 401
    g.token_user = user
    if level is None or user.role not in ROLES_FOR[level]:
        return jsonify(error="your role ({}) may not do this".format(user.role)), 403
    return None
