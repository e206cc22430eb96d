"""The rules for a user's fields, shared by the JSON API and the HTML form.

Each clean_* function takes what the client sent and returns the value to
store, or raises FieldError saying what is wrong with it.
"""
import re
import unicodedata

from ..models import ROLES

NAME_MAX = 128
EMAIL_MAX = 255
EMAIL_PATTERN = re.compile(r"[^@\s]+@([^@\s.]+\.)+[^@\s.]+")


class FieldError(ValueError):
    """A field's value is not acceptable; str() is the message for the client."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def clean_name(value):
    text = _clean_text("name", value, NAME_MAX)
    if not text:
        raise FieldError("name", "name must not be empty")
    return text


def clean_email(value):
    # Lower case, so uniqueness means the same on every database (MySQL
    # compares case-insensitively, PostgreSQL and SQLite do not); before the
    # length check, since lowering can lengthen ("İ" becomes two characters).
    text = _clean_text("email", value.lower() if isinstance(value, str) else value,
                       EMAIL_MAX)
    if not EMAIL_PATTERN.fullmatch(text):
        raise FieldError("email", "email must look like name@example.com")
    return text


def clean_role(value):
    if value not in ROLES:
        raise FieldError("role", "role must be one of: " + ", ".join(ROLES))
    return value


CLEANERS = {"name": clean_name, "email": clean_email, "role": clean_role}


def _clean_text(field, value, max_length):
    if not isinstance(value, str):
        raise FieldError(field, "{} must be a string".format(field))
    text = value.strip()
    if len(text) > max_length:
        raise FieldError(
            field, "{} must be at most {} characters".format(field, max_length)
        )
    # Control characters (NUL above all, which PostgreSQL rejects) and lone
    # surrogates (which no database can encode) never reach the database.
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        raise FieldError(
            field, "{} must not contain control characters".format(field)
        )
    return text
