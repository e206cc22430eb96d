"""Accounts for tests: users with a password and an API token, and clients
signed in as them."""
import functools

from app.accounts.passwords import hasher
from app.accounts.tokens import create_token
from app.extensions import db
from app.models import User

PASSWORD = "correct horse battery"
ROOT_EMAIL = "root@example.com"


@functools.lru_cache(maxsize=None)
def _password_hash(password, parameters):
    return hasher().hash(password)


def password_hash(password=PASSWORD):
    """The hash of `password` with the app's parameters, made once per test
    process (a hash takes the time Argon2id is meant to take)."""
    return _password_hash(password, repr(hasher()))


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
