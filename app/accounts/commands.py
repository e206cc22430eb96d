"""What manage.py's account commands do. Each either does all it says or
changes nothing, and a mistake is an AccountError: one line, exit 1."""
import getpass
import sys

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..migrating import report_errors_in_one_line
from ..models import ROLES, ApiToken, User
from ..users.fields import FieldError, clean_email, clean_name
from .passwords import PasswordRefused, checked_password, set_password
from .tokens import create_token, is_valid, revoke_token


class AccountError(Exception):
    """An account command cannot do what it was asked; str() says why and
    what to do instead."""


report_errors_in_one_line(AccountError)


def create_account(email, name, role, new_password):
    """A new user with `role` and the password `new_password()` gives, asked
    once everything else is known to be right."""
    if role not in ROLES:
        raise AccountError("unknown role {!r}: use one of {}".format(role, ", ".join(ROLES)))
    try:
        user = User(email=clean_email(email), name=clean_name(name), role=role)
    except FieldError as error:
        raise AccountError(str(error)) from None
    duplicate = AccountError("a user with email {0} already exists: set its password with "
                             "python manage.py set_password --email {0}".format(user.email))
    if User.query.filter_by(email=user.email).first() is not None:
        raise duplicate
    set_password(user, new_password())
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # made at the same moment by someone else
        db.session.rollback()
        raise duplicate from None
    return user


def set_account_password(email, new_password):
    """Give the user with `email` the password `new_password()` gives; their
    sessions end."""
    user = account(email)
    set_password(user, new_password())
    db.session.commit()
    return user


def read_new_password(stdin=None):
    """A new password: asked twice without echo at a terminal, else the
    first line of standard input."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        password = _typed("Password: ")
        if password and _typed("Repeat the password: ") != password:
            raise AccountError("the passwords differ: run the command again")
    else:
        password = stdin.readline().rstrip("\r\n")
    try:
        return checked_password(password)
    except PasswordRefused as error:
        raise AccountError(str(error)) from None


def _typed(prompt):
    """A line typed without echo; the end of input (Ctrl-D) is nothing typed."""
    try:
        return getpass.getpass(prompt)
    except EOFError:
        print(file=sys.stderr)  # the error then starts a line of its own
        return ""


def account_lines():
    """The accounts as lines of a table."""
    rows = [("ID", "EMAIL", "NAME", "ROLE", "PASSWORD", "TOKENS")]
    for user in User.query.order_by(User.id):
        tokens = sum(1 for token in ApiToken.query.filter_by(user_id=user.id)
                     if is_valid(token))
        rows.append((str(user.id), user.email, user.name, user.role,
                     "set" if user.password_hash else "none", str(tokens)))
    return _table(rows)


def token_lines():
    """The API tokens as lines of a table (never the tokens themselves)."""
    rows = [("ID", "EMAIL", "NAME", "CREATED", "EXPIRES", "STATE")]
    for token in ApiToken.query.order_by(ApiToken.id):
        state = "valid" if is_valid(token) else (
            "revoked" if token.revoked_at else "expired")
        user = token.user
        rows.append((str(token.id), user.email if user else "(deleted)", token.name,
                     _when(token.created_at),
                     _when(token.expires_at) if token.expires_at else "never", state))
    return _table(rows)


def new_token(email, name, days):
    """A new API token of the user with `email`; return the row and the
    secret, which is shown once."""
    if days is not None and days < 1:
        raise AccountError("--days must be a whole number of days, 1 or more")
    return create_token(account(email), name or "api", days)


def revoke(token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise AccountError("no API token with id {}: python manage.py list_tokens "
                           "shows them".format(token_id))
    if token.revoked_at is None:
        revoke_token(token)
    return token


def account(email):
    user = User.query.filter_by(email=(email or "").strip().lower()).first()
    if user is None:
        raise AccountError("no user with email {}: python manage.py list_users shows "
                           "them".format(email))
    return user


def _when(moment):
    return moment.strftime("%Y-%m-%d %H:%M")


def _table(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
            for row in rows]
