"""Reading and writing users: pages found by key, and changes that are each
one transaction, committed whole or not at all."""
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import User


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


def create_user(fields):
    """Add a user from cleaned `fields` (see fields.py) and return it."""
    user = User(**fields)
    db.session.add(user)
    _commit(fields)
    return user


def update_user(user, fields):
    """Change `user`'s cleaned `fields` and return it."""
    for name, value in fields.items():
        setattr(user, name, value)
    _commit(fields)
    return user


def delete_user(user):
    db.session.delete(user)
    db.session.commit()


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
