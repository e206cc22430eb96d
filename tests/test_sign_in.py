"""Signing in and out (app/accounts/views.py, sessions.py, passwords.py,
throttle.py): the form, the session cookie, where the page goes after, what
ends a session, passwords hashed anew when the parameters change, the hint
for the first account, and throttled failures, in one process and across
the two workers of a real gunicorn."""
import datetime
import email.utils
import http.cookiejar
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from urllib.parse import urljoin, urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app import create_app
from app.accounts.commands import set_account_password
from app.extensions import db
from app.models import SignInFailure, User
from tests.accounts import (
    FAST_PASSWORD_HASH,
    PASSWORD,
    OwnContextClient,
    make_account,
    own_client,
    sign_in,
)
from tests.support import assert_ok, csrf_token, running_server

WRONG = "Wrong email or password."
FIRST_ACCOUNT_HINT = "No account can sign in yet"
NEW_PASSWORD = "a brand new password"


@pytest.fixture
def site(migrated_app):
    """The app with Argon2id parameters that take a millisecond: these tests
    sign in many times, and the cost of a hash is not what they test."""
    migrated_app.config.update(FAST_PASSWORD_HASH)
    return migrated_app


def location(response):
    """The path (and query) a redirect sends to, or None."""
    if response.status_code != 302:
        return None
    parts = urlsplit(response.headers["Location"])
    return parts.path + ("?" + parts.query if parts.query else "")


def session_cookie(response):
    """The Set-Cookie header of the session cookie in `response`."""
    cookies = [value for name, value in response.headers.items()
               if name.lower() == "set-cookie" and value.startswith("session=")]
    assert len(cookies) == 1, cookies
    return cookies[0]


def cookie_attributes(header):
    """{attribute name, lower case: value} of a Set-Cookie header."""
    attributes = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def signed_in_as(client):
    """The email the page shows as signed in, or None (sent to sign in)."""
    response = client.get("/")
    if response.status_code == 302:
        assert location(response).startswith("/sign-in?next=")
        return None
    assert response.status_code == 200
    return re.search(r'class="signed-in-email">([^<]+)<', response.get_data(as_text=True)).group(1)


def test_signing_in_through_the_form_sets_a_session_cookie_out_of_scripts_reach(site):
    make_account("admin")
    client = own_client(site)
    response = sign_in(client, "admin@example.com")
    assert location(response) == "/"
    attributes = cookie_attributes(session_cookie(response))
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    assert "secure" not in attributes  # the testing configuration is served over http
    expires = email.utils.parsedate_to_datetime(attributes["expires"])
    in_8_hours = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)
    assert abs((expires - in_8_hours).total_seconds()) < 120
    assert signed_in_as(client) == "admin@example.com"


def test_the_production_configuration_sends_the_session_cookie_over_https_only(
        site, database_url, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "production secret for the test")
    production = create_app("production", settings=dict(
        FAST_PASSWORD_HASH, SQLALCHEMY_DATABASE_URI=database_url))
    make_account("admin")
    client = own_client(production)
    https = "https://localhost"
    token = csrf_token(client.get("/sign-in", base_url=https).get_data(as_text=True))
    # Over https, Flask-WTF wants the form to come from the same site.
    response = client.post("/sign-in", base_url=https, headers={"Referer": https + "/sign-in"},
                           data={"email": "admin@example.com", "password": PASSWORD,
                                 "csrf_token": token})
    assert location(response) == "/"
    attributes = cookie_attributes(session_cookie(response))
    assert {"secure", "httponly"} <= set(attributes)
    assert attributes["samesite"] == "Lax"
    with production.app_context():
        db.engine.dispose()


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(site):
    make_account("admin")
    client = own_client(site)
    answers = []
    for email_address in ("admin@example.com", "nobody@example.com"):
        response = sign_in(client, email_address, "not the password")
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert WRONG in page
        page = page.replace(csrf_token(page), "TOKEN").replace(email_address, "EMAIL")
        answers.append(page)
    assert answers[0] == answers[1]
    assert signed_in_as(client) is None


def test_an_account_without_a_password_cannot_sign_in(site):
    make_account("admin", password=None)
    client = own_client(site)
    for password in ("", "any password at all"):
        response = sign_in(client, "admin@example.com", password)
        assert response.status_code == 400
        assert WRONG in response.get_data(as_text=True)
    assert signed_in_as(client) is None


def browser_target(location_header):
    """Where a browser goes for `location_header`, seen from /sign-in: it
    drops tabs and newlines, strips spaces and control characters at the
    ends, and reads a backslash as a slash."""
    c0_and_space = "".join(map(chr, range(0x21)))
    cleaned = re.sub(r"[\t\n\r]", "", location_header).strip(c0_and_space).replace("\\", "/")
    return urlsplit(urljoin("http://localhost/sign-in", cleaned))


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("next_page, goes_to", [
    ("/users/7/edit", "/users/7/edit"),
    ("/?after=20", "/?after=20"),
    ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),  # a path here, whatever it names
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("///evil.example/", "/"),
    ("/\\evil.example/", "/"),
    ("\\\\evil.example/", "/"),
    ("/\t/evil.example/", "/"),  # browsers drop the tab: //evil.example/
    ("/\n/evil.example/", "/"),
    ("/\r\n/evil.example/", "/"),
    (" //evil.example/", "/"),
    ("javascript:alert(1)", "/"),
    ("http:evil.example", "/"),
    ("", "/"),
])
def test_after_signing_in_next_is_followed_only_to_a_path_of_this_app(
        site, backend, next_page, goes_to):
    make_account("admin")
    client = own_client(site)
    response = sign_in(client, "admin@example.com", next=next_page)
    assert response.status_code == 302
    target = browser_target(response.headers["Location"])
    assert (target.scheme, target.netloc) == ("http", "localhost")
    assert target.path + ("?" + target.query if target.query else "") == goes_to


def test_signing_out_ends_the_session(site):
    make_account("admin")
    client = own_client(site)
    assert location(sign_in(client, "admin@example.com")) == "/"
    assert signed_in_as(client) == "admin@example.com"
    token = csrf_token(client.get("/").get_data(as_text=True))
    response = client.post("/sign-out", data={"csrf_token": token})
    assert location(response) == "/sign-in"
    assert "Signed out." in client.get("/sign-in").get_data(as_text=True)
    assert signed_in_as(client) is None


def test_setting_the_password_ends_the_sessions_signed_in_with_the_old_one(site):
    make_account("admin")
    first, second = own_client(site), own_client(site)
    for client in (first, second):
        assert location(sign_in(client, "admin@example.com")) == "/"
        assert signed_in_as(client) == "admin@example.com"
    set_account_password("admin@example.com", lambda: NEW_PASSWORD)
    assert signed_in_as(first) is None
    assert signed_in_as(second) is None
    assert sign_in(first, "admin@example.com", PASSWORD).status_code == 400
    assert location(sign_in(first, "admin@example.com", NEW_PASSWORD)) == "/"
    assert signed_in_as(first) == "admin@example.com"


def session_signed_earlier(app, cookie_value, seconds):
    """The session cookie `cookie_value` of `app` signed again as if
    `seconds` ago: what a browser would send after that long without a
    request (each request renews the cookie)."""
    interface = app.session_interface
    data = interface.get_signing_serializer(app).loads(cookie_value)

    class Earlier(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - seconds

    serializer = URLSafeTimedSerializer(
        app.secret_key, salt=interface.salt, serializer=interface.serializer, signer=Earlier,
        signer_kwargs={"key_derivation": interface.key_derivation,
                       "digest_method": interface.digest_method})
    return serializer.dumps(data)


@pytest.mark.parametrize("lifetime", [None, datetime.timedelta(minutes=10)],
                         ids=["8-hours", "10-minutes"])
def test_a_session_unused_for_longer_than_its_lifetime_is_refused(site, lifetime):
    if lifetime is not None:
        site.config["PERMANENT_SESSION_LIFETIME"] = lifetime
    seconds = int(site.permanent_session_lifetime.total_seconds())
    assert seconds == (lifetime or datetime.timedelta(hours=8)).total_seconds()
    make_account("admin")
    response = sign_in(own_client(site), "admin@example.com")
    cookie = session_cookie(response).split(";")[0].split("=", 1)[1]

    def page_with(value):
        client = OwnContextClient(site, site.response_class, use_cookies=False)
        return client.get("/", headers={"Cookie": "session=" + value})

    assert page_with(cookie).status_code == 200
    assert page_with(session_signed_earlier(site, cookie, seconds - 60)).status_code == 200
    refused = page_with(session_signed_earlier(site, cookie, seconds + 60))
    assert location(refused) == "/sign-in?next=%2F"


def test_a_hash_made_with_other_parameters_is_made_anew_at_sign_in(migrated_app):
    # The account's hash has the configuration's parameters (3 passes over
    # 64 MiB, 4 lanes); a sign-in with them leaves it as it is.
    user_id = make_account("admin").id
    db.session.remove()
    stored = db.session.get(User, user_id).password_hash
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    client = own_client(migrated_app)
    assert location(sign_in(client, "admin@example.com")) == "/"
    db.session.remove()
    assert db.session.get(User, user_id).password_hash == stored

    migrated_app.config.update(FAST_PASSWORD_HASH)  # m=1024, t=1, p=1
    client = own_client(migrated_app)
    assert location(sign_in(client, "admin@example.com")) == "/"
    db.session.remove()
    rehashed = db.session.get(User, user_id).password_hash
    assert rehashed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    # The sign-in changed the hash, not the password: the same one still
    # signs in (a fresh client: the session above ended with the old hash),
    # and the new hash is kept.
    client = own_client(migrated_app)
    assert location(sign_in(client, "admin@example.com")) == "/"
    assert signed_in_as(client) == "admin@example.com"
    assert sign_in(own_client(migrated_app), "admin@example.com", "not the password"
                   ).status_code == 400
    db.session.remove()
    assert db.session.get(User, user_id).password_hash == rehashed


def test_the_first_account_hint_shows_only_while_no_account_has_a_password(site):
    def hint_shown():
        page = own_client(site).get("/sign-in").get_data(as_text=True)
        if FIRST_ACCOUNT_HINT not in page:
            return False
        assert "python manage.py create_user --email you@example.com" in page
        assert "--role super_user" in page
        return True

    assert hint_shown()  # no account at all
    make_account("admin", password=None)
    assert hint_shown()  # an account, but nobody can sign in
    make_account("user")
    assert not hint_shown()


# Throttling: SIGN_IN_MAX_FAILURES_PER_ACCOUNT (5) failures for one email,
# SIGN_IN_MAX_FAILURES_PER_ADDRESS (20) from one address, within
# SIGN_IN_THROTTLE_SECONDS (15 minutes).
TOO_MANY = "Too many failed sign-ins: try again in "


def form_poster(client):
    """A function that posts the sign-in form of `client` (its CSRF token
    read once) and returns the answer."""
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))

    def post(email_address, password):
        return client.post("/sign-in", data={"email": email_address, "password": password,
                                             "csrf_token": token})
    return post


def test_the_sixth_attempt_for_one_email_is_refused_even_with_the_right_password(site):
    make_account("admin")
    make_account("user")
    post = form_poster(own_client(site))
    for _ in range(5):
        response = post("admin@example.com", "not the password")
        assert response.status_code == 400
        assert WRONG in response.get_data(as_text=True)
    for email_address in ("admin@example.com", "  ADMIN@example.com"):  # the same account
        response = post(email_address, PASSWORD)
        assert response.status_code == 429
        assert TOO_MANY + "15 minutes." in response.get_data(as_text=True)
    client = own_client(site)
    assert form_poster(client)("admin@example.com", PASSWORD).status_code == 429
    assert signed_in_as(client) is None
    # Another account, from the same address, is not held back.
    assert location(post("user@example.com", PASSWORD)) == "/"


def test_twenty_failures_from_one_address_refuse_that_address(site):
    make_account("admin")
    here = own_client(site)
    post = form_poster(here)
    for attempt in range(20):  # never more than once per email
        assert post("guess{}@example.com".format(attempt), "not the password"
                    ).status_code == 400
    response = post("admin@example.com", PASSWORD)
    assert response.status_code == 429
    assert TOO_MANY in response.get_data(as_text=True)
    assert signed_in_as(here) is None
    elsewhere = own_client(site)
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    assert location(form_poster(elsewhere)("admin@example.com", PASSWORD)) == "/"
    assert signed_in_as(elsewhere) == "admin@example.com"


def test_sign_in_is_let_again_once_the_failures_leave_the_window(site):
    site.config["SIGN_IN_THROTTLE_SECONDS"] = 2
    make_account("admin")
    post = form_poster(own_client(site))
    for _ in range(5):
        assert post("admin@example.com", "not the password").status_code == 400
    last_failure = time.monotonic()
    response = post("admin@example.com", PASSWORD)
    assert response.status_code == 429
    wait = re.search(re.escape(TOO_MANY) + r"(\d+) seconds?\.", response.get_data(as_text=True))
    assert 1 <= int(wait.group(1)) <= 3
    time.sleep(max(0, last_failure + 2.5 - time.monotonic()))
    assert location(post("admin@example.com", PASSWORD)) == "/"
    # A signed-in account starts afresh.
    db.session.remove()
    assert SignInFailure.query.filter_by(email="admin@example.com").count() == 0


# The same limit across the processes of a real server: gunicorn with two
# workers, each a process of its own; the failures are sent so that both
# workers answer some of them. The access log names the worker (its pid) that
# answered each request.
ACCESS_LOG = {"GUNICORN_CMD_ARGS":
              "--access-logfile - --access-logformat '%(p)s %(m)s %(U)s %(s)s'"}


class Browser:
    """urllib with a cookie jar, not following redirects; each request on a
    new connection."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def request(self, path, form=None):
        """(status, body) of a GET, or a POST of `form`."""
        data = None if form is None else urllib.parse.urlencode(form).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class HeldWorker:
    """A connection that keeps one sync worker of gunicorn busy: the head of
    a request is sent but not its end, and the worker that took it waits for
    the rest until finish()."""

    def __init__(self, base):
        address = urlsplit(base)
        self.connection = socket.create_connection((address.hostname, address.port), timeout=30)
        self.connection.sendall("GET /healthz HTTP/1.1\r\nHost: {}\r\n".format(
            address.netloc).encode())
        time.sleep(0.5)  # time for an idle worker to take it

    def finish(self):
        self.connection.sendall(b"Connection: close\r\n\r\n")
        answer = b""
        while True:
            chunk = self.connection.recv(65536)
            if not chunk:
                break
            answer += chunk
        self.connection.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_failures_spread_over_two_gunicorn_workers_are_counted_together(project):
    assert_ok(project.manage("db", "upgrade"))
    assert_ok(project.manage("create_user", "--email", "ada@example.com", "--name", "Ada",
                             input=PASSWORD + "\n"))
    with running_server(project, "gunicorn", env=ACCESS_LOG) as base:
        log_path = project.root.parent / "gunicorn-{}.log".format(urlsplit(base).port)
        browser = Browser(base)
        status, page = browser.request("/sign-in")
        assert status == 200
        token = csrf_token(page)

        def attempt(password):
            return browser.request("/sign-in", {"email": "ada@example.com",
                                                "password": password, "csrf_token": token})[0]

        # One worker held: the other answers; then that one held: the first
        # answers.
        statuses = []
        first = HeldWorker(base)
        statuses += [attempt("not the password"), attempt("not the password")]
        second = HeldWorker(base)
        first.finish()
        statuses += [attempt("not the password"), attempt("not the password")]
        second.finish()
        statuses += [attempt("not the password"), attempt(PASSWORD)]
        log = log_path.read_text()
    assert statuses == [400, 400, 400, 400, 400, 429], log
    answered = [line.split()[0] for line in log.splitlines()
                if re.fullmatch(r"<\d+> POST /sign-in 400", line)]
    assert len(answered) == 5, log
    assert set(answered[:2]).isdisjoint(answered[2:4]), log
