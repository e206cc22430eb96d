"""The database models. Migrations never import them: see migrations/versions."""
import hashlib

from flask_login import UserMixin

from .extensions import db

ROLES = ("super_user", "admin", "user")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(128), nullable=False)
    email = db.Column(db.String(255), nullable=False, unique=True)
    # A native enum type on PostgreSQL and MySQL; VARCHAR with a named CHECK
    # constraint (ck_users_user_role) on SQLite.
    role = db.Column(
        db.Enum(*ROLES, name="user_role", create_constraint=True),
        nullable=False,
        server_default="user",
    )
    created_at = db.Column(
        db.DateTime, nullable=False, server_default=db.func.current_timestamp()
    )
    updated_at = db.Column(
        db.DateTime,
        nullable=False,
        server_default=db.func.current_timestamp(),
        onupdate=db.func.current_timestamp(),
    )
    # An Argon2id hash (app/accounts/passwords.py); NULL: cannot sign in.
    password_hash = db.Column(db.String(255), nullable=True)

    def get_id(self):
        """What the session keeps: the id and a fingerprint of the password
        hash, so that setting a password ends every session signed in with
        the old one."""
        return "{}:{}".format(self.id, self.password_fingerprint)

    @property
    def password_fingerprint(self):
        digest = hashlib.sha256((self.password_hash or "").encode("utf-8"))
        return digest.hexdigest()[:16]

    def to_dict(self):
        """The user as the JSON API shows it."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "created_at": _isoformat(self.created_at),
            "updated_at": _isoformat(self.updated_at),
        }

    def __repr__(self):
        return "<User {} {!r}>".format(self.id, self.email)


class ApiToken(db.Model):
    """A token for the JSON API, acting with its user's role. Only a SHA-256
    hash of the token is kept: the token itself is shown once, when made.

    user_id has no foreign key, on purpose: on MariaDB/MySQL a foreign key
    into users would make every online copy of users (a type change through
    pt-online-schema-change, app/migrating/online/table_copy.py) refuse to
    run. Deleting a user deletes their tokens in the same transaction
    (app/users/store.py), and a token whose user is gone is no token.
    """

    __tablename__ = "api_tokens"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, nullable=False, index=True)
    name = db.Column(db.String(128), nullable=False)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.DateTime, nullable=False,
                           server_default=db.func.current_timestamp())
    # NULL: never expires.
    expires_at = db.Column(db.DateTime, nullable=True)
    revoked_at = db.Column(db.DateTime, nullable=True)

    @property
    def user(self):
        """The user the token acts for, or None when they are gone."""
        return db.session.get(User, self.user_id)


class SignInFailure(db.Model):
    """One failed sign-in, kept for the throttling window
    (app/accounts/throttle.py). In the database, so every worker of the app
    counts the same failures."""

    __tablename__ = "sign_in_failures"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(255), nullable=False)
    address = db.Column(db.String(64), nullable=False)
    failed_at = db.Column(db.DateTime, nullable=False, index=True)

    __table_args__ = (
        db.Index("ix_sign_in_failures_email_failed_at", "email", "failed_at"),
        db.Index("ix_sign_in_failures_address_failed_at", "address", "failed_at"),
    )


def _isoformat(moment):
    return moment.isoformat() if moment is not None else None
