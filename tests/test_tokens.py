"""API tokens (app/accounts/tokens.py): shown once and kept only as a hash,
acting with their user's role of the moment, gone with their user, and
taken only as `Authorization: Bearer <token>`."""
import hashlib

import pytest
from sqlalchemy import inspect, text

from app.accounts.commands import token_lines
from app.accounts.tokens import create_token, revoke_token
from app.extensions import db
from app.models import ApiToken, User
from tests.accounts import FAST_PASSWORD_HASH, make_account, own_client, page_client
from tests.support import assert_ok, csrf_token


@pytest.fixture
def site(migrated_app):
    """The app with Argon2id parameters that take a millisecond."""
    migrated_app.config.update(FAST_PASSWORD_HASH)
    return migrated_app


def status(app, secret, method="GET", path="/api/users", **kwargs):
    """The status of a request to the API with the token `secret`."""
    return own_client(app).open(path, method=method, headers={
        "Authorization": "Bearer " + secret}, **kwargs).status_code


def everything_stored():
    """Every value of every row of every table, as text."""
    db.session.remove()
    values = []
    with db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text("SELECT * FROM " + table)):
                values.extend(str(value) for value in row)
    return "\n".join(values)


def test_a_token_is_shown_once_and_kept_only_as_its_hash(project, migrated_app):
    make_account("admin", password=None)
    made = assert_ok(project.manage("create_token", "--email", "admin@example.com"))
    secret = made.stdout.strip()
    assert secret.startswith("ut_") and len(secret) >= 40
    digest = hashlib.sha256(secret.encode()).hexdigest()
    [token] = ApiToken.query.all()
    assert token.token_hash == digest
    stored = everything_stored()
    assert secret not in stored and secret[3:] not in stored
    # No command shows it again, nor its hash.
    for command in ("list_tokens", "list_users"):
        shown = assert_ok(project.manage(command))
        assert secret[3:] not in shown.stdout + shown.stderr
        assert digest not in shown.stdout + shown.stderr
    # A second token of the same account is another secret.
    again = assert_ok(project.manage("create_token", "--email", "admin@example.com"))
    assert again.stdout.strip() != secret
    assert status(migrated_app, secret) == status(migrated_app, again.stdout.strip()) == 200


def test_a_token_acts_with_its_users_role_of_the_moment(site):
    user_id = make_account("user").id
    secret = create_token(db.session.get(User, user_id), "tests")[1]
    new_user = {"name": "Eve", "email": "eve@example.com"}
    assert status(site, secret) == 200
    assert status(site, secret, "POST", json=new_user) == 403
    db.session.get(User, user_id).role = "admin"
    db.session.commit()
    assert status(site, secret, "POST", json=new_user) == 201
    db.session.get(User, user_id).role = "user"
    db.session.commit()
    assert status(site, secret, "DELETE", "/api/users/{}".format(
        User.query.filter_by(email="eve@example.com").one().id)) == 403


def test_each_token_is_revoked_alone(site):
    user = make_account("user", password=None)
    (first, first_secret), (_, second_secret) = (create_token(user, "a"),
                                                 create_token(user, "b"))
    revoke_token(first)
    assert status(site, first_secret) == 401
    assert status(site, second_secret) == 200


@pytest.mark.parametrize("channel", ["page", "api"])
def test_the_tokens_of_a_deleted_user_go_with_them(site, channel):
    root = make_account("super_user")
    root_secret = create_token(root, "tests")[1]
    gone = make_account("admin")  # the newest user: SQLite gives its id to the next one
    gone_id = gone.id
    gone_secret = create_token(gone, "tests")[1]
    assert status(site, gone_secret) == 200
    if channel == "api":
        assert status(site, root_secret, "DELETE", "/api/users/{}".format(gone_id)) == 204
    else:
        page = page_client(site, db.session.get(User, root.id))
        token = csrf_token(page.get("/").get_data(as_text=True))
        assert page.post("/users/{}/delete".format(gone_id),
                         data={"csrf_token": token}).status_code == 302
    db.session.remove()
    assert db.session.get(User, gone_id) is None
    assert ApiToken.query.filter_by(user_id=gone_id).count() == 0
    assert status(site, gone_secret) == 401
    # A user made next, whatever id they get, does not inherit the token.
    assert status(site, root_secret, "POST", json={
        "name": "Next", "email": "next@example.com", "role": "super_user"}) == 201
    assert status(site, gone_secret) == 401
    # What list_tokens lists: the root's token only.
    assert [line.split()[1] for line in token_lines()[1:]] == ["super-user@example.com"]


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("header", [
    "Basic {secret}",
    "Token {secret}",
    "Bearer",
    "Bearer ",
    "Bearer {secret}x",
    "Bearer {secret_cut}",
    "Bearer {random_part}",
    "Bearer ut_{long}",
    "{secret}",
])
def test_only_a_bearer_token_of_this_app_is_taken(site, backend, header):
    user = make_account("admin", password=None)
    secret = create_token(user, "tests")[1]
    client = own_client(site)
    assert client.get("/api/users", headers={
        "Authorization": "bearer " + secret}).status_code == 200  # the scheme in any case
    value = header.format(secret=secret, secret_cut=secret[:-1], random_part=secret[3:],
                          long="A" * 200)
    response = client.get("/api/users", headers={"Authorization": value})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "python manage.py create_token" in response.get_json()["error"]
