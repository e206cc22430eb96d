"""Accounts: who is asking, and what their role lets them do.

- passwords.py  Argon2id hashes, rehashed on sign-in when the parameters change
- sessions.py   Flask-Login: the signed-in user of a page, kept in the session
- tokens.py     API tokens, shown once and kept as hashes
- throttle.py   failed sign-ins counted per account and per address
- access.py     the rule of every route: public, read or change, checked
                before any view runs (a route without a rule answers 403)
- permissions.py  who may change or delete whom; the last super_user stays
- views.py      the sign-in and sign-out pages
- commands.py   what manage.py's account commands do
"""
from flask import Blueprint

accounts = Blueprint("accounts", __name__)

from . import views  # noqa: E402,F401  (registers the sign-in routes on `accounts`)
