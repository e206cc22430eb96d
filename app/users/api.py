"""The JSON API: /api/users and /api/users/<id>.

Every answer is JSON. Bad input gets 400 naming the field, an unknown id 404,
a duplicate email 409, an oversized body 413 and a body that is not JSON 415.
"""
import json
import re

from flask import abort, current_app, jsonify, request, url_for

from ..accounts.access import CHANGE, READ, access, actor
from ..extensions import csrf
from . import users
from .fields import CLEANERS, FieldError
from .store import (
    MAX_ID,
    DuplicateEmail,
    create_user,
    delete_user,
    find_user,
    update_user,
    users_after,
)

REQUIRED_FIELDS = ("name", "email")


class ApiError(Exception):
    """The request is malformed; becomes a 400 (or `status`) JSON answer."""

    def __init__(self, message, field=None, status=400):
        super().__init__(message)
        self.field = field
        self.status = status


@users.errorhandler(ApiError)
def bad_request(error):
    body = {"error": str(error)}
    if error.field is not None:
        body["field"] = error.field
    return jsonify(body), error.status


@users.errorhandler(FieldError)
def invalid_field(error):
    return jsonify(error=str(error), field=error.field), 400


@users.errorhandler(DuplicateEmail)
def duplicate_email(error):
    return jsonify(error=str(error), field="email"), 409


@users.route("/api/users", methods=["GET"])
@access(READ)
def api_list_users():
    """A page of users in id order; `after` is the last id of the previous page."""
    limit = _int_arg("limit", current_app.config["API_PAGE_SIZE"], 1,
                     current_app.config["API_MAX_PAGE_SIZE"])
    after = _int_arg("after", 0, 0, MAX_ID)
    page = users_after(after, limit + 1)
    body = {"users": [user.to_dict() for user in page[:limit]], "next": None}
    if len(page) > limit:
        body["next"] = url_for(".api_list_users", after=page[limit - 1].id, limit=limit)
    return jsonify(body)


# The API's writes are exempt from CSRF tokens: the API never reads the
# session cookie, only an API token in the Authorization header, which a
# browser never adds by itself (app/accounts/access.py).
@users.route("/api/users", methods=["POST"])
@csrf.exempt
@access(CHANGE)
def api_create_user():
    fields = _clean_fields(_json_object(), required=REQUIRED_FIELDS)
    user = create_user(fields, actor())
    response = jsonify(user.to_dict())
    response.headers["Location"] = url_for(".api_get_user", user_id=user.id)
    return response, 201


@users.route("/api/users/<int(max={}):user_id>".format(MAX_ID), methods=["GET"])
@access(READ)
def api_get_user(user_id):
    return jsonify(_get_user(user_id).to_dict())


@users.route("/api/users/<int(max={}):user_id>".format(MAX_ID), methods=["PATCH"])
@csrf.exempt
@access(CHANGE)
def api_update_user(user_id):
    user = _get_user(user_id)
    fields = _clean_fields(_json_object(), required=())
    return jsonify(update_user(user, fields, actor()).to_dict())


@users.route("/api/users/<int(max={}):user_id>".format(MAX_ID), methods=["DELETE"])
@csrf.exempt
@access(CHANGE)
def api_delete_user(user_id):
    delete_user(_get_user(user_id), actor())
    return "", 204


def _get_user(user_id):
    user = find_user(user_id)
    if user is None:
        abort(404, "no user with id {}".format(user_id))
    return user


def _int_arg(name, default, low, high):
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,20}", raw) or not low <= int(raw) <= high:
        raise ApiError(
            "{} must be a whole number from {} to {}".format(name, low, high), name
        )
    return int(raw)


def _json_object():
    """The request body as a dict, refusing anything else with 413, 415 or 400."""
    if not request.is_json:
        raise ApiError(
            "send the body as JSON with Content-Type: application/json", status=415
        )
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    # Read at most one byte past the limit: a body sent without a length
    # (chunked) is refused as soon as it is too long, never held whole.
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        abort(413)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError("the body must be a JSON object")
    return data


def _clean_fields(data, required):
    for field in data:
        if field not in CLEANERS:
            raise ApiError(
                "unknown field {!r}: send only {}".format(field, ", ".join(CLEANERS)),
                field,
            )
    for field in required:
        if field not in data:
            raise ApiError("{} is required".format(field), field)
    return {field: CLEANERS[field](value) for field, value in data.items()}
