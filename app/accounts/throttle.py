"""Throttled sign-in: after too many failures within a window, for one
account (by the email tried, known or not) or from one address, sign-in is
refused until the oldest failure leaves the window.

The failures are rows of sign_in_failures, so every worker of the app (and
every server on the same database) counts the same ones; the windows and
limits are SIGN_IN_* settings (app/config.py). The usual libraries keep
such counts in memory or in Redis or Memcached, which this app does not run.
"""
import datetime

from flask import current_app
from sqlalchemy import func

from ..extensions import db
from ..models import SignInFailure
from .tokens import utcnow


def window():
    return datetime.timedelta(seconds=current_app.config["SIGN_IN_THROTTLE_SECONDS"])


def refusal(email, address):
    """Why sign-in is refused now for `email` from `address`, or None."""
    since = utcnow() - window()
    for column, value, limit in (
            (SignInFailure.email, email, current_app.config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT"]),
            (SignInFailure.address, address,
             current_app.config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"])):
        count, oldest = db.session.query(func.count(SignInFailure.id),
                                         func.min(SignInFailure.failed_at)).filter(
            column == value, SignInFailure.failed_at > since).one()
        if count >= limit:
            wait = max(1, int((oldest + window() - utcnow()).total_seconds()) + 1)
            return ("Too many failed sign-ins: try again in {}.".format(_duration(wait)))
    return None


def record_failure(email, address):
    """Count a failed sign-in, and forget those past the window."""
    now = utcnow()
    db.session.query(SignInFailure).filter(SignInFailure.failed_at <= now - window()).delete(
        synchronize_session=False)
    db.session.add(SignInFailure(email=email[:255], address=address[:64], failed_at=now))
    db.session.commit()


def forget_failures(email):
    """A signed-in account starts afresh (the address's count stays)."""
    db.session.query(SignInFailure).filter(SignInFailure.email == email).delete(
        synchronize_session=False)
    db.session.commit()


def _duration(seconds):
    if seconds < 60:
        return "{} second{}".format(seconds, "s" if seconds != 1 else "")
    minutes = (seconds + 59) // 60
    return "{} minute{}".format(minutes, "s" if minutes != 1 else "")
