"""Passwords, kept as Argon2id hashes (argon2-cffi).

The parameters come from the configuration (PASSWORD_HASH_*, app/config.py;
SECURITY.md says why these). A hash made with other parameters still
verifies, and is made anew with the current ones at the next sign-in.

argon2 is imported at the first hash, not with the app: the db commands,
which never hash, do not pay for it (argon2-cffi, cffi and ctypes).
"""
from flask import current_app

MIN_LENGTH = 8
MAX_LENGTH = 1024


class PasswordRefused(ValueError):
    """The password cannot be used; str() says why and what to do."""


def hasher():
    from argon2 import PasswordHasher

    config = current_app.config
    return PasswordHasher(time_cost=config["PASSWORD_HASH_TIME_COST"],
                          memory_cost=config["PASSWORD_HASH_MEMORY_KIB"],
                          parallelism=config["PASSWORD_HASH_PARALLELISM"])


def checked_password(password):
    """`password` if it can be used, else PasswordRefused."""
    if not password:
        raise PasswordRefused("the password is empty: choose one of at least {} "
                              "characters".format(MIN_LENGTH))
    if len(password) < MIN_LENGTH:
        raise PasswordRefused("the password is shorter than {} characters: choose a "
                              "longer one".format(MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise PasswordRefused("the password is longer than {} characters: choose a "
                              "shorter one".format(MAX_LENGTH))
    return password


def set_password(user, password):
    """Give `user` the hash of `password` (the caller commits). Every
    session signed in with the old password ends (User.get_id)."""
    user.password_hash = hasher().hash(checked_password(password))


def password_matches(user, password):
    """Whether `password` is `user`'s. A user without a password never
    matches, after the same work as one with, so the time taken does not
    tell which accounts exist. A match whose hash has old parameters is
    hashed anew (the caller commits)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    current = hasher()
    if user is None or user.password_hash is None:
        current.hash(password or "-")
        return False
    try:
        current.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if current.check_needs_rehash(user.password_hash):
        user.password_hash = current.hash(password)
    return True
