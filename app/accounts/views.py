"""The sign-in and sign-out pages."""
from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..extensions import db
from ..models import User
from . import accounts
from .access import PUBLIC, READ, access
from .forms import SignInForm
from .passwords import password_matches
from .throttle import forget_failures, record_failure, refusal

WRONG = "Wrong email or password."
FIRST_ACCOUNT = ('python manage.py create_user --email you@example.com --name "Your Name" '
                 '--role super_user')


@accounts.route("/sign-in", methods=["GET", "POST"])
@access(PUBLIC)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("users.index"))
    form = SignInForm()
    if not form.validate_on_submit():
        return render_sign_in(form), 400 if request.method == "POST" else 200
    email = (form.email.data or "").strip().lower()
    address = request.remote_addr or "unknown"
    refused = refusal(email, address)
    if refused:
        return render_sign_in(form, refused), 429
    user = User.query.filter_by(email=email).first()
    if not password_matches(user, form.password.data or ""):
        record_failure(email, address)
        return render_sign_in(form, WRONG), 400
    db.session.commit()  # a hash made anew with the current parameters
    forget_failures(email)
    # A fresh session: nothing of the signed-out one carries over.
    session.clear()
    login_user(user)
    session.permanent = True
    return redirect(_next_page())


@accounts.route("/sign-out", methods=["POST"])
@access(READ)
def sign_out():
    logout_user()
    session.clear()
    flash("Signed out.")
    return redirect(url_for(".sign_in"))


def render_sign_in(form, error=None):
    no_account = User.query.filter(User.password_hash.isnot(None)).first() is None
    return render_template("accounts/sign_in.html", form=form, error=error,
                           no_account=no_account, first_account=FIRST_ACCOUNT)


def _next_page():
    """Where the sign-in page was asked from, if it is a path of this app.

    Browsers read a backslash as a slash and drop tabs and newlines from a
    URL, and Werkzeug 3 puts a tab in Location as it is (a newline fails
    there): "/<tab>/other.site" would take them to //other.site. A target
    with a backslash or any control character is refused."""
    target = request.args.get("next") or ""
    if (target.startswith("/") and not target.startswith("//")
            and not any(c == "\\" or ord(c) < 32 or ord(c) == 127 for c in target)):
        return target
    return url_for("users.index")
