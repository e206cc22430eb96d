"""Reading and writing users: pages found by key, and changes that are each
one transaction, committed whole or not at all."""
from sqlalchemy.exc import IntegrityError

from ..accounts import permissions
from ..accounts.permissions import SUPER_USER, LastSuperUser
from ..extensions import db
from ..models import ApiToken, User

# Ids are database integers; a larger one cannot exist and would overflow
# SQLite's driver, so the API's URLs and every ?after=/?before= stop there.
MAX_ID = 2 ** 63 - 1


class DuplicateEmail(Exception):
    """Another user already has this email address."""

    def __init__(self, email):
        super().__init__("a user with email {} already exists".format(email))
        self.email = email


def find_user(user_id):
    """The user with `user_id`, or None."""
    return db.session.get(User, user_id)


def users_after(after_id, count):
    """Up to `count` users with ids above `after_id`, in id order."""
    return User.query.filter(User.id > after_id).order_by(User.id).limit(count).all()


def users_before(before_id, count):
    """Up to `count` users with ids below `before_id`, the nearest first."""
    return User.query.filter(User.id < before_id).order_by(User.id.desc()).limit(count).all()


def create_user(fields, actor):
    """Add a user from cleaned `fields` (see fields.py) for `actor` (None:
    the server's operator) and return it; NotAllowed if not theirs to do."""
    permissions.check_create(actor, fields)
    user = User(**fields)
    db.session.add(user)
    _commit(fields)
    return user


def update_user(user, fields, actor):
    """Change `user`'s cleaned `fields` for `actor` and return it."""
    permissions.check_update(actor, user, fields)
    demoted = user.role == SUPER_USER and fields.get("role", SUPER_USER) != SUPER_USER
    if demoted:
        _lock_super_users()
    for name, value in fields.items():
        setattr(user, name, value)
    if demoted:
        _keep_a_super_user()
    _commit(fields)
    return user


def delete_user(user, actor):
    """Delete `user` for `actor`; never the last super_user."""
    permissions.check_delete(actor, user)
    if user.role == SUPER_USER:
        _lock_super_users()
    ApiToken.query.filter_by(user_id=user.id).delete(synchronize_session=False)
    db.session.delete(user)
    if user.role == SUPER_USER:
        _keep_a_super_user()
    db.session.commit()


def _lock_super_users():
    """Lock the super_users' rows until the commit (PostgreSQL and MariaDB;
    SQLite runs one writer at a time anyway): of two transactions that each
    demote or delete one of the last two, the second then sees the first."""
    User.query.filter_by(role=SUPER_USER).with_for_update().all()


def _keep_a_super_user():
    db.session.flush()
    # A locking read: it sees the latest commit, not the transaction's
    # snapshot (MariaDB's REPEATABLE READ).
    if db.session.query(User.id).filter_by(role=SUPER_USER).with_for_update().first() is None:
        db.session.rollback()
        raise LastSuperUser()


def _commit(fields):
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        email = fields.get("email")
        # The unique constraint on email is the only one a cleaned value can
        # break; check, so that any other integrity error is not hidden.
        if email is not None and User.query.filter_by(email=email).first():
            raise DuplicateEmail(email) from None
        raise
