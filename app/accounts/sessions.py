"""Who is signed in to the page: Flask-Login, with the user's id and a
fingerprint of their password hash in the session (User.get_id)."""
from ..extensions import db, login_manager
from ..models import User

login_manager.login_view = "accounts.sign_in"
login_manager.login_message = "Sign in to see the users."


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
