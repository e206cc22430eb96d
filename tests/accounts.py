"""Accounts for tests: users with a password and an API token, and clients
signed in as them."""
import functools
from urllib.parse import urlencode

from flask import has_app_context
from flask.testing import FlaskClient

from app.accounts.passwords import hasher
from app.accounts.tokens import create_token
from app.extensions import db
from app.models import User
from tests.support import csrf_token

PASSWORD = "correct horse battery"
ROOT_EMAIL = "root@example.com"


@functools.lru_cache(maxsize=None)
def _password_hash(password, parameters):
    return hasher().hash(password)


def password_hash(password=PASSWORD):
    """The hash of `password` with the app's parameters, made once per test
    process (a hash takes the time Argon2id is meant to take)."""
    current = hasher()
    return _password_hash(password, (current.time_cost, current.memory_cost,
                                     current.parallelism))


def make_account(role, email=None, name=None, password=PASSWORD):
    """A user with `role` and `password`, committed (inside an app context)."""
    email = email or "{}@example.com".format(role.replace("_", "-"))
    user = User(name=name or role.replace("_", " ").title(), email=email, role=role,
                password_hash=password_hash(password) if password else None)
    db.session.add(user)
    db.session.commit()
    return user


def signed_in_client(app, user):
    """A test client of `app` signed in as `user` (as the sign-in page leaves
    the session), whose requests carry an API token of `user`."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session.permanent = True
    _, secret = create_token(user, "tests")
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + secret
    client.user = user
    client.token = secret
    return client


# Argon2id parameters that make a hash take about a millisecond, for the
# tests where the cost of hashing is not the point: app.config.update(...).
FAST_PASSWORD_HASH = {"PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 1024,
                      "PASSWORD_HASH_PARALLELISM": 1}


class OwnContextClient(FlaskClient):
    """A test client whose every request runs in an app context of its own,
    as under a server. (The app fixture keeps an app context pushed for the
    whole test, and Flask runs a request in the pushed context of its app:
    `g`, where Flask-Login keeps the signed-in user and access.py the
    token's, would carry over from one request, and one client, to the next.)
    The test's own transaction ends first, as no server request runs inside
    another's: on SQLite, the read of an open transaction would keep the
    request from committing."""

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


def own_client(app):
    """A test client of `app` whose requests run apart (OwnContextClient)."""
    return OwnContextClient(app, app.response_class, use_cookies=True)


def page_client(app, user):
    """A test client of `app` signed in to the page as `user`, as the
    sign-in page leaves the session, without an API token."""
    client = own_client(app)
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session.permanent = True
    return client


def token_client(app, secret):
    """A test client of `app` that is not signed in and sends the API token
    `secret` with every request."""
    client = own_client(app)
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + secret
    return client


def sign_in(client, email, password=PASSWORD, next=None):
    """Sign in through the sign-in form (its CSRF token read from the page);
    return the answer to the form."""
    query = "" if next is None else "?" + urlencode({"next": next})
    token = csrf_token(client.get("/sign-in" + query).get_data(as_text=True))
    return client.post("/sign-in" + query,
                       data={"email": email, "password": password, "csrf_token": token})
