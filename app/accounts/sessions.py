"""Who is signed in to the page: Flask-Login, with the user's id and a
fingerprint of their password hash in the session (User.get_id).

The JSON API has no session: its requests get Flask's null session
(PageSessions), so an API answer never sends the session cookie again. A
signed-in session is permanent, and Flask renews a permanent session's
cookie on every request it opens: without this, every API call made with
the browser's cookie would renew the page's session and answer with a
Set-Cookie that no Vary: Cookie or Cache-Control: private guards."""
from flask.sessions import SecureCookieSessionInterface

from ..extensions import db, login_manager
from ..models import User
from . import accounts
from .access import API_PREFIX

login_manager.login_view = "accounts.sign_in"
login_manager.login_message = "Sign in to see the users."


class PageSessions(SecureCookieSessionInterface):
    """The session cookie of the pages, never opened for the JSON API."""

    def open_session(self, app, request):
        if request.path.startswith(API_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


@accounts.record_once
def use_page_sessions(state):
    state.app.session_interface = PageSessions()


@login_manager.user_loader
def load_user(session_id):
    """The user a session names, or None when the id is unknown, the
    password was set since, or the account has no password (any more)."""
    user_id, _, fingerprint = str(session_id).partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.password_hash is None or user.password_fingerprint != fingerprint:
        return None
    return user
