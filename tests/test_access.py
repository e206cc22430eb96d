"""Who may use which route (app/accounts/access.py, permissions.py).

- every route has an access mark, and a route without one is closed;
- ROUTES: what every route answers to every kind of client, a table to
  check against the rules of the access marks;
- who may change whom: only a super_user touches a super_user, nobody
  deletes themselves or changes their own role, the last super_user stays
  (also when the last two demote or delete each other at the same moment);
- signed-out posts change nothing, and a form post without its CSRF token
  is refused.
"""
import datetime
import re
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import jsonify
from sqlalchemy import create_engine

from app import create_app
from app.accounts.access import READ, access, access_of
from app.accounts.permissions import LastSuperUser
from app.accounts.tokens import create_token, revoke_token, utcnow
from app.extensions import db
from app.models import ApiToken, User
from app.users.store import MAX_ID, delete_user, update_user
from tests.accounts import (
    FAST_PASSWORD_HASH,
    make_account,
    own_client,
    page_client,
    sign_in,
    token_client,
)
from tests.support import csrf_token

# What a client gets, as ROUTES writes it: a status, or a redirect and where to.
SIGN_IN = "302 /sign-in?next"  # a page asked for without a session: sign in, then back
TO_SIGN_IN = "302 /sign-in"    # a form posted without a session, or signed out: sign in
HOME = "302 /"                 # done (or already signed in): back to the list
S, P, H = SIGN_IN, TO_SIGN_IN, HOME

API_USER = "/api/users/<int(max={}):user_id>".format(MAX_ID)

# The kinds of client, in the order of ROUTES' columns: signed out (no
# session, no token); signed in to the page as each role (no token); an API
# token of each role (not signed in); a token that is not one, one revoked,
# one expired (of a super_user: the role does not help them).
CLIENTS = ("signed out", "user", "admin", "super_user",
           "token of user", "token of admin", "token of super_user",
           "invalid token", "revoked token", "expired token")

# (The columns are CLIENTS: "not in" signed out, admn admin, supr super_user,
# bad an invalid token, rev. a revoked one, exp. an expired one.)
# Pages take the session only: a token does not sign in to a page; a page a
# role may not use is 403. The API takes a token only: the session does not
# count (401), nor does a token that is invalid, revoked or expired; a role
# that may not is 403. Reading takes any role, changing admin or super_user.
ROUTES = [
    #                                         not  signed in as     token of       token
    # method   rule                           in   user admn supr user admn supr bad  rev. exp.
    ("GET",    "/",                           S,   200, 200, 200, S,   S,   S,   S,   S,   S),
    ("GET",    "/sign-in",                    200, H,   H,   H,   200, 200, 200, 200, 200, 200),
    # ...with a wrong password:
    ("POST",   "/sign-in",                    400, H,   H,   H,   400, 400, 400, 400, 400, 400),
    ("POST",   "/sign-out",                   P,   P,   P,   P,   P,   P,   P,   P,   P,   P),
    ("GET",    "/healthz",                    200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET",    "/static/<path:filename>",     200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("POST",   "/users",                      P,   403, H,   H,   P,   P,   P,   P,   P,   P),
    ("GET",    "/users/<int:user_id>/edit",   S,   403, 200, 200, S,   S,   S,   S,   S,   S),
    ("POST",   "/users/<int:user_id>/edit",   P,   403, H,   H,   P,   P,   P,   P,   P,   P),
    ("POST",   "/users/<int:user_id>/delete", P,   403, H,   H,   P,   P,   P,   P,   P,   P),
    ("GET",    "/api/users",                  401, 401, 401, 401, 200, 200, 200, 401, 401, 401),
    ("POST",   "/api/users",                  401, 401, 401, 401, 403, 201, 201, 401, 401, 401),
    ("GET",    API_USER,                      401, 401, 401, 401, 200, 200, 200, 401, 401, 401),
    ("PATCH",  API_USER,                      401, 401, 401, 401, 403, 200, 200, 401, 401, 401),
    ("DELETE", API_USER,                      401, 401, 401, 401, 403, 204, 204, 401, 401, 401),
]
# What a change that went through answers; a change that did not must leave
# the database as it was.
DONE = {HOME, "200", "201", "204"}


@pytest.fixture
def site(migrated_app):
    """The app with Argon2id parameters that take a millisecond: the cost of
    a hash is not what these tests are about."""
    migrated_app.config.update(FAST_PASSWORD_HASH)
    return migrated_app


def unmarked_endpoints(app):
    """The endpoints of `app` whose view has no access mark."""
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()
                   if access_of(app, rule.endpoint) is None})


def url_map_routes(app):
    """{(method, rule)} of `app`, without the HEAD and OPTIONS Flask adds."""
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def outcome(response):
    """What `response` is, as ROUTES writes it."""
    if response.status_code != 302:
        return str(response.status_code)
    location = urlsplit(response.headers["Location"])
    return "302 " + location.path + ("?next" if "next" in parse_qs(location.query) else "")


def test_every_route_has_an_access_mark():
    app = create_app("testing", settings={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert unmarked_endpoints(app) == []


@pytest.mark.backends("sqlite")
def test_a_route_without_a_mark_is_closed_to_everyone_and_reported(site, backend):
    app = site

    @app.route("/unmarked")
    def unmarked():
        return "open"

    @app.route("/api/unmarked")
    def api_unmarked():
        return jsonify(open=True)

    @app.route("/marked")
    @access(READ)
    def marked():
        return "open"

    assert unmarked_endpoints(app) == ["api_unmarked", "unmarked"]
    root = make_account("super_user")
    page = page_client(app, root)
    secret = create_token(root, "tests")[1]
    response = page.get("/unmarked")
    assert response.status_code == 403
    assert "open" not in response.get_data(as_text=True)
    assert token_client(app, secret).get("/api/unmarked").status_code == 403
    # The same super_user, on a route that has its mark:
    assert page.get("/marked").status_code == 200


def test_the_table_has_a_row_for_every_route_of_the_app():
    app = create_app("testing", settings={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    rows = [(method, rule) for method, rule, *_ in ROUTES]
    assert len(rows) == len(set(rows))
    assert set(rows) == url_map_routes(app)
    assert all(len(row) == 2 + len(CLIENTS) for row in ROUTES)


TOKEN_OF = {"token of user": "user", "token of admin": "admin",
            "token of super_user": "super_user", "invalid token": "invalid",
            "revoked token": "revoked", "expired token": "expired"}


class Table:
    """The accounts, tokens and requests behind ROUTES, on one database."""

    def __init__(self, app):
        self.app = app
        self.users = {role: make_account(role) for role in ("user", "admin", "super_user")}
        self.ids = {role: user.id for role, user in self.users.items()}
        self.tokens = {role: create_token(user, "tests")[1]
                       for role, user in self.users.items()}
        root = self.users["super_user"]
        self.tokens["invalid"] = "ut_" + "A" * 43
        revoked, self.tokens["revoked"] = create_token(root, "revoked")
        revoke_token(revoked)
        expired, self.tokens["expired"] = create_token(root, "expired", days=1)
        expired.expires_at = utcnow() - datetime.timedelta(minutes=1)
        # A user of its own for each request to change, made in one go.
        users = [User(name="Target", email="target{}@example.com".format(cell), role="user")
                 for cell in range(len(ROUTES) * len(CLIENTS))]
        db.session.add_all(users)
        db.session.commit()
        self.targets = [user.id for user in users]

    def client(self, kind):
        if kind == "signed out":
            return own_client(self.app)
        if kind in self.ids:
            return page_client(self.app, db.session.get(User, self.ids[kind]))
        return token_client(self.app, self.tokens[TOKEN_OF[kind]])

    def send(self, client, method, rule, cell):
        """The request of the row (method, rule) for the `cell`th client, with
        fields that are right: only the access rules can refuse it."""
        token = None
        if method == "POST" and not rule.startswith("/api/"):
            token = csrf_token(client.get("/sign-in", follow_redirects=True).get_data(
                as_text=True))
        new = {"name": "New", "email": "new{}@example.com".format(cell), "role": "user"}
        path = re.sub(r"<[^>]+>", lambda part: "style.css" if "path:" in part.group() else str(
            self.targets[cell]), rule)
        if (method, rule) == ("POST", "/sign-in"):
            data = {"email": "nobody{}@example.com".format(cell),
                    "password": "wrong password", "csrf_token": token}
        elif (method, rule) == ("POST", "/users"):
            data = dict(new, csrf_token=token)
        elif (method, rule) == ("POST", "/users/<int:user_id>/edit"):
            data = {"name": "Renamed", "email": "target{}@example.com".format(cell),
                    "role": "user", "csrf_token": token}
        else:
            data = {"csrf_token": token}
        if rule.startswith("/api/"):
            body = {"POST": new, "PATCH": {"name": "Renamed"}}.get(method)
            return client.open(path, method=method, json=body)
        if method == "POST":
            return client.post(path, data=data)
        return client.open(path, method=method)

    def changed(self, method, rule, cell):
        """Whether the request of the row for the `cell`th client changed the
        database (None: the row changes no user)."""
        db.session.remove()
        user = db.session.get(User, self.targets[cell])
        if method == "DELETE" or rule.endswith("/delete"):
            return user is None
        if (method, rule) in {("POST", "/users/<int:user_id>/edit"), ("PATCH", API_USER)}:
            return user.name == "Renamed"
        if (method, rule) in {("POST", "/users"), ("POST", "/api/users")}:
            return User.query.filter_by(email="new{}@example.com".format(cell)).first() \
                is not None
        return None


def test_every_route_answers_every_kind_of_client_as_the_table_says(site):
    table = Table(site)
    wrong = []
    cells = ((method, rule, kind, expect) for method, rule, *expected in ROUTES
             for kind, expect in zip(CLIENTS, expected))
    for cell, (method, rule, kind, expect) in enumerate(cells):
        response = table.send(table.client(kind), method, rule, cell)
        got = outcome(response)
        response.close()
        if got != str(expect):
            wrong.append("{} {} as {}: {} (the table says {})".format(
                method, rule, kind, got, expect))
            continue
        if got == "401":
            assert response.is_json, (method, rule, kind)
            assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
        changed = table.changed(method, rule, cell)
        if changed is not None and changed != (got in DONE):
            wrong.append("{} {} as {}: answered {} but the database {}".format(
                method, rule, kind, got, "changed" if changed else "did not change"))
    assert wrong == []


# Who may change whom. A Channel is one user's way of changing users: the
# page's forms or the JSON API; each change answers "done" or its status.
CHANNELS = ("page", "api")


class Channel:
    def __init__(self, app, user_id, kind):
        user = db.session.get(User, user_id)
        self.kind = kind
        if kind == "page":
            self.client = page_client(app, user)
            self.token = csrf_token(self.client.get("/").get_data(as_text=True))
        else:
            self.client = token_client(app, create_token(user, "tests")[1])

    def add(self, **fields):
        if self.kind == "page":
            return self._done(self.client.post("/users", data=dict(fields, csrf_token=self.token)))
        return self._done(self.client.post("/api/users", json=fields))

    def edit(self, user_id, **fields):
        if self.kind == "page":
            data = dict(fields, csrf_token=self.token)
            if not {"name", "email", "role"} <= set(fields):  # the form sends all three
                user = db.session.get(User, user_id)
                data = dict({"name": user.name, "email": user.email, "role": user.role}, **data)
                db.session.remove()
            return self._done(self.client.post("/users/{}/edit".format(user_id), data=data))
        return self._done(self.client.patch("/api/users/{}".format(user_id), json=fields))

    def delete(self, user_id):
        if self.kind == "page":
            return self._done(self.client.post("/users/{}/delete".format(user_id),
                                               data={"csrf_token": self.token}))
        return self._done(self.client.delete("/api/users/{}".format(user_id)))

    def _done(self, response):
        if self.kind == "page":
            return "done" if outcome(response) == HOME else response.status_code
        return "done" if response.status_code in (200, 201, 204) else response.status_code


def users_now():
    """{email: role} of every user, read afresh."""
    db.session.remove()
    return {user.email: user.role for user in User.query}


def account(role, email):
    return make_account(role, email=email).id


@pytest.mark.parametrize("channel", CHANNELS)
def test_an_admin_cannot_make_change_or_delete_a_super_user(site, channel):
    root = account("super_user", "root@example.com")
    plain = account("user", "plain@example.com")
    admin = Channel(site, account("admin", "admin@example.com"), channel)
    before = users_now()
    assert admin.add(name="Eve", email="eve@example.com", role="super_user") == 403
    assert admin.edit(root, name="Renamed") == 403
    assert admin.edit(root, role="user") == 403
    assert admin.edit(plain, role="super_user") == 403
    assert admin.delete(root) == 403
    assert users_now() == before
    # What an admin may do, to show the refusals are about the super_user:
    assert admin.add(name="Eve", email="eve@example.com", role="admin") == "done"
    assert admin.edit(plain, role="admin") == "done"
    assert admin.delete(plain) == "done"
    expected = dict(before, **{"eve@example.com": "admin"})
    del expected["plain@example.com"]
    assert users_now() == expected


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_super_user_makes_changes_and_deletes_a_super_user(site, channel):
    root = Channel(site, account("super_user", "root@example.com"), channel)
    other = account("super_user", "other@example.com")
    plain = account("user", "plain@example.com")
    assert root.add(name="Eve", email="eve@example.com", role="super_user") == "done"
    assert root.edit(plain, role="super_user") == "done"
    assert root.edit(other, role="admin") == "done"
    assert root.delete(plain) == "done"
    assert users_now() == {"root@example.com": "super_user", "eve@example.com": "super_user",
                           "other@example.com": "admin"}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("role", ["admin", "super_user"])
def test_nobody_deletes_themselves_or_changes_their_own_role(site, role, channel):
    # Another super_user, so that the last super_user rule is not what refuses.
    account("super_user", "other@example.com")
    me = account(role, "me@example.com")
    channel = Channel(site, me, channel)
    before = users_now()
    assert channel.delete(me) == 403
    assert channel.edit(me, role="user") == 403
    assert users_now() == before
    # Their own name is theirs to change.
    assert channel.edit(me, name="Me Too") == "done"
    db.session.remove()
    assert db.session.get(User, me).name == "Me Too"


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_last_super_user_is_neither_deleted_nor_demoted(site, channel):
    root = account("super_user", "root@example.com")
    admin = Channel(site, account("admin", "admin@example.com"), channel)
    myself = Channel(site, root, channel)
    before = users_now()
    # Only a super_user may touch a super_user, and not themselves: nobody
    # through the page or the API can take the last one away...
    assert admin.delete(root) == 403
    assert admin.edit(root, role="admin") == 403
    assert myself.delete(root) == 403
    assert myself.edit(root, role="admin") == 403
    assert users_now() == before


def test_the_store_keeps_the_last_super_user_whoever_asks(site):
    # ...and the store refuses it even to the operator (manage.py's actor),
    # whom no role rule stops.
    root = account("super_user", "root@example.com")
    account("admin", "admin@example.com")
    before = users_now()
    with pytest.raises(LastSuperUser):
        update_user(db.session.get(User, root), {"role": "admin"}, None)
    with pytest.raises(LastSuperUser):
        delete_user(db.session.get(User, root), None)
    assert users_now() == before


# Two super_users, each demoting (or deleting) the other at the same moment,
# each through its own connection: the test holds a lock on the super_users'
# rows until both requests wait for it, then lets them go.
LOCK_WAITERS = {
    "postgresql": "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                  "AND wait_event_type = 'Lock'",
    # The statements running now on the test's database that lock rows (the
    # test's own has returned; this one names PROCESSLIST; %% is the driver's %).
    "mysql": "SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() "
             "AND INFO LIKE '%%FOR UPDATE%%' AND INFO NOT LIKE '%%PROCESSLIST%%'",
}


@pytest.mark.backends("postgresql", "mysql")
@pytest.mark.parametrize("change", ["demote", "delete"])
@pytest.mark.parametrize("channel", CHANNELS)
def test_the_last_two_super_users_removing_each_other_at_once_leave_one(
        site, database_url, backend, channel, change):
    a = account("super_user", "a@example.com")
    b = account("super_user", "b@example.com")
    account("admin", "admin@example.com")
    channels = {a: Channel(site, a, channel), b: Channel(site, b, channel)}
    db.session.remove()
    # Connections without the lock timeout the migrations set on theirs.
    db.engine.dispose()
    results = {}

    def remove(actor, other):
        if change == "demote":
            email = {a: "a@example.com", b: "b@example.com"}[other]
            results[actor] = channels[actor].edit(other, name="Other", email=email, role="admin")
        else:
            results[actor] = channels[actor].delete(other)

    threads = [threading.Thread(target=remove, args=(a, b)),
               threading.Thread(target=remove, args=(b, a))]
    engine = create_engine(database_url)
    try:
        with engine.connect() as locker:
            transaction = locker.begin()
            locker.exec_driver_sql(
                "SELECT id FROM users WHERE role = 'super_user' FOR UPDATE").fetchall()
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 30
            while waiting(engine, backend) < 2:
                assert time.monotonic() < deadline and all(t.is_alive() for t in threads), (
                    "both changes should wait for the lock: {}".format(results))
                time.sleep(0.05)
            transaction.commit()
        for thread in threads:
            thread.join(30)
    finally:
        engine.dispose()
    assert sorted(map(str, results.values())) == ["409", "done"]
    super_users = [email for email, role in users_now().items() if role == "super_user"]
    assert len(super_users) == 1
    winner = a if results[a] == "done" else b
    assert super_users == [{a: "a@example.com", b: "b@example.com"}[winner]]


def waiting(engine, backend):
    with engine.connect() as connection:
        return connection.exec_driver_sql(LOCK_WAITERS[backend]).scalar()


def test_signed_out_posts_change_nothing(site):
    target = account("user", "plain@example.com")
    token_rows = ApiToken.query.count()
    before = users_now()
    client = own_client(site)
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    for path, data in [
            ("/users", {"name": "Eve", "email": "eve@example.com", "role": "super_user"}),
            ("/users/{}/edit".format(target), {"name": "Renamed", "email": "plain@example.com",
                                               "role": "super_user"}),
            ("/users/{}/delete".format(target), {})]:
        assert outcome(client.post(path, data=dict(data, csrf_token=token))) == TO_SIGN_IN, path
    # A page asked for (not posted) comes back after signing in:
    response = client.get("/users/{}/edit".format(target))
    assert outcome(response) == SIGN_IN
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == [
        "/users/{}/edit".format(target)]
    api = "/api/users/{}".format(target)
    assert client.post("/api/users", json={"name": "Eve", "email": "eve@example.com"}
                       ).status_code == 401
    assert client.patch(api, json={"role": "super_user"}).status_code == 401
    assert client.delete(api).status_code == 401
    assert users_now() == before
    assert ApiToken.query.count() == token_rows


def test_form_posts_without_their_csrf_token_are_refused(site):
    root = account("super_user", "root@example.com")
    target = account("user", "plain@example.com")
    before = users_now()
    signed_out = own_client(site)
    signed_out.get("/sign-in")  # a session with a CSRF token, which the posts leave out
    response = signed_out.post("/sign-in", data={"email": "root@example.com",
                                                 "password": "correct horse battery"})
    assert response.status_code == 400
    assert "CSRF token" in response.get_data(as_text=True)
    assert outcome(signed_out.get("/")) == SIGN_IN

    page = page_client(site, db.session.get(User, root))
    page.get("/")
    for path, data in [
            ("/users", {"name": "Eve", "email": "eve@example.com", "role": "user"}),
            ("/users/{}/edit".format(target), {"name": "Renamed", "email": "plain@example.com",
                                               "role": "user"}),
            ("/users/{}/delete".format(target), {}),
            ("/sign-out", {})]:
        for token in (None, "not-the-token"):  # none, or one that is not the session's
            response = page.post(path, data=data if token is None else dict(data,
                                                                            csrf_token=token))
            assert response.status_code == 400, (path, token)
            assert "CSRF token" in response.get_data(as_text=True), (path, token)
    assert users_now() == before
    # Still signed in: the sign-out was refused too.
    assert page.get("/").status_code == 200
    # The same posts with the token go through (the sign-out last).
    token = csrf_token(page.get("/").get_data(as_text=True))
    assert outcome(page.post("/users/{}/delete".format(target),
                             data={"csrf_token": token})) == HOME
    assert outcome(page.post("/sign-out", data={"csrf_token": token})) == TO_SIGN_IN
    assert outcome(page.get("/")) == SIGN_IN
    assert outcome(sign_in(signed_out, "root@example.com")) == HOME
