"""API tokens: a random secret, shown once when made; the database keeps
only its SHA-256 hash (the secret has 256 random bits, so a fast hash is
enough: nothing can be guessed from it). A token acts with its user's role,
until it is revoked or expires."""
import datetime
import hashlib
import secrets

from ..extensions import db
from ..models import ApiToken

# The prefix tells a leaked token for what it is (secret scanners look for
# such prefixes).
PREFIX = "ut_"


def utcnow():
    """The time now in UTC, without a zone, as the app's columns keep it."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def token_hash(secret):
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(user, name, days=None):
    """A new token of `user`, valid for `days` days (None: until revoked).
    Return the row and the secret, which is not kept anywhere."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=token_hash(secret),
                     created_at=utcnow(),
                     expires_at=utcnow() + datetime.timedelta(days=days) if days else None)
    db.session.add(token)
    db.session.commit()
    return token, secret


def user_of_token(secret):
    """The user a valid token acts for, or None."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = ApiToken.query.filter_by(token_hash=token_hash(secret)).first()
    if token is None or not is_valid(token):
        return None
    return token.user


def is_valid(token):
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > utcnow())


def revoke_token(token):
    token.revoked_at = utcnow()
    db.session.commit()
