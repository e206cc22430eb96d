"""The JSON API at /api/users, on a database built by the migrations."""
import json

import pytest

from app.extensions import db
from app.models import User
from tests.accounts import ROOT_EMAIL
from tests.support import post_chunked

ADA = {"name": "Ada Lovelace", "email": "ada@example.com"}


def post(client, body, **kwargs):
    return client.post("/api/users", data=json.dumps(body),
                       content_type="application/json", **kwargs)


def patch(client, user_id, body):
    return client.patch("/api/users/{}".format(user_id), data=json.dumps(body),
                        content_type="application/json")


def user_count():
    """How many users the database holds besides the client's own, the root
    account."""
    return db.session.query(User).filter(User.email != ROOT_EMAIL).count()


def test_create_returns_the_user_with_defaults(client):
    response = post(client, ADA)
    assert response.status_code == 201
    user = response.get_json()
    assert user["name"] == "Ada Lovelace"
    assert user["email"] == "ada@example.com"
    assert user["role"] == "user"
    assert user["created_at"] and user["updated_at"]
    assert response.headers["Location"].endswith("/api/users/{}".format(user["id"]))
    assert client.get(response.headers["Location"]).get_json() == user


def test_create_normalises_name_and_email(client):
    user = post(client, {"name": "  Ada  ", "email": " Ada@Example.COM "}).get_json()
    assert (user["name"], user["email"]) == ("Ada", "ada@example.com")


def test_names_outside_the_basic_plane_are_stored_as_sent(client):
    # MySQL's utf8 (utf8mb3), Flask-SQLAlchemy 2.5's default, refuses these.
    name = "Ada \U0001F680 \U00028986"
    created = post(client, dict(ADA, name=name))
    assert created.status_code == 201
    fetched = client.get("/api/users/{}".format(created.get_json()["id"])).get_json()
    assert fetched["name"] == name


def test_create_accepts_every_role(client):
    for number, role in enumerate(("super_user", "admin", "user")):
        body = {"name": "n", "email": "u{}@example.com".format(number), "role": role}
        assert post(client, body).get_json()["role"] == role


@pytest.mark.parametrize("body, field, message", [
    ({"email": "a@example.com"}, "name", "name is required"),
    ({"name": "Ada"}, "email", "email is required"),
    ({"name": "", "email": "a@example.com"}, "name", "must not be empty"),
    ({"name": "   ", "email": "a@example.com"}, "name", "must not be empty"),
    ({"name": 42, "email": "a@example.com"}, "name", "must be a string"),
    ({"name": None, "email": "a@example.com"}, "name", "must be a string"),
    ({"name": "x" * 129, "email": "a@example.com"}, "name", "at most 128"),
    ({"name": "a\x00b", "email": "a@example.com"}, "name", "control characters"),
    ({"name": "\ud800", "email": "a@example.com"}, "name", "control characters"),
    ({"name": "Ada", "email": "not-an-email"}, "email", "name@example.com"),
    ({"name": "Ada", "email": "a@b"}, "email", "name@example.com"),
    ({"name": "Ada", "email": "a b@example.com"}, "email", "name@example.com"),
    ({"name": "Ada", "email": ["a@example.com"]}, "email", "must be a string"),
    ({"name": "Ada", "email": "a" * 250 + "@example.com"}, "email", "at most 255"),
    ({"name": "Ada", "email": "a@example.com", "role": "root"}, "role", "one of"),
    ({"name": "Ada", "email": "a@example.com", "role": 1}, "role", "one of"),
    ({"name": "Ada", "email": "a@example.com", "id": 7}, "id", "unknown field"),
])
def test_create_rejects_a_bad_field_with_400_naming_it(client, body, field, message):
    response = post(client, body)
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert message in response.get_json()["error"]
    assert user_count() == 0


@pytest.mark.parametrize("raw, message", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'"text"', "must be a JSON object"),
    (b"\xff\xfe\x00", "not valid JSON"),
    (b"[" * 100000 + b"]" * 100000, "not valid JSON"),
])
def test_create_rejects_a_body_that_is_not_a_json_object(client, raw, message):
    response = client.post("/api/users", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert user_count() == 0


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_create_rejects_a_body_that_is_not_json_with_415(client, content_type):
    response = client.post("/api/users", data=json.dumps(ADA), content_type=content_type)
    assert response.status_code == 415
    assert "application/json" in response.get_json()["error"]
    assert user_count() == 0


def test_create_rejects_a_body_over_max_content_length_with_413(client, migrated_app):
    limit = migrated_app.config["MAX_CONTENT_LENGTH"]
    body = dict(ADA, name="x" * limit)
    response = post(client, body)
    assert response.status_code == 413
    assert response.is_json
    assert user_count() == 0


def test_create_refuses_a_chunked_body_over_the_limit_with_413(client, migrated_app):
    # No Content-Length: the body is read only up to the limit, then refused.
    limit = migrated_app.config["MAX_CONTENT_LENGTH"]
    raw = json.dumps(dict(ADA, name="x" * limit)).encode()
    assert post_chunked(migrated_app, "/api/users", raw, "application/json",
                        authorization="Bearer " + client.token) == 413
    assert user_count() == 0


def test_duplicate_email_is_409_and_adds_nothing(client):
    assert post(client, ADA).status_code == 201
    response = post(client, dict(ADA, name="Someone else", email="ADA@example.com"))
    assert response.status_code == 409
    assert response.get_json()["field"] == "email"
    assert user_count() == 1


def test_addresses_that_differ_by_an_accent_are_two_users(client):
    """Every backend compares emails exactly (MariaDB's default collation
    would take josé and jose for one: revision 8f3a6c2d5e71); case is
    folded by the app, which lowercases every address."""
    for email in ("jose@example.com", "josé@example.com", "JOSÉ@example.com"):
        response = post(client, dict(ADA, email=email))
        expected = 409 if email == "JOSÉ@example.com" else 201
        assert response.status_code == expected, (email, response.get_json())
    emails = sorted(user["email"] for user in client.get("/api/users").get_json()["users"])
    assert emails == ["jose@example.com", "josé@example.com", ROOT_EMAIL]


def test_get_unknown_id_is_404_json(client):
    response = client.get("/api/users/12345")
    assert response.status_code == 404
    assert response.get_json() == {"error": "no user with id 12345"}


@pytest.mark.parametrize("path", ["/api/users/abc", "/api/users/-1",
                                  "/api/users/" + "9" * 30, "/api/nothing"])
def test_malformed_or_unknown_api_paths_are_404_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.is_json


def test_wrong_method_is_405_json_with_allow(client):
    response = client.put("/api/users")
    assert response.status_code == 405
    assert response.is_json
    assert "POST" in response.headers["Allow"]


def test_patch_changes_only_the_given_fields(client):
    user = post(client, ADA).get_json()
    response = patch(client, user["id"], {"role": "admin", "name": "Countess"})
    assert response.status_code == 200
    changed = response.get_json()
    assert (changed["name"], changed["role"], changed["email"]) == (
        "Countess", "admin", "ada@example.com")


def test_patch_with_an_empty_object_changes_nothing(client):
    user = post(client, ADA).get_json()
    response = patch(client, user["id"], {})
    assert response.status_code == 200
    assert response.get_json()["name"] == user["name"]


def test_patch_to_a_taken_email_is_409_and_changes_nothing(client):
    post(client, ADA)
    grace = post(client, {"name": "Grace", "email": "grace@example.com"}).get_json()
    response = patch(client, grace["id"], {"email": "ada@example.com", "name": "G"})
    assert response.status_code == 409
    assert client.get("/api/users/{}".format(grace["id"])).get_json() == grace


def test_patch_with_a_bad_field_is_400_and_changes_nothing(client):
    user = post(client, ADA).get_json()
    response = patch(client, user["id"], {"name": "New", "role": "king"})
    assert response.status_code == 400
    assert response.get_json()["field"] == "role"
    assert client.get("/api/users/{}".format(user["id"])).get_json() == user


def test_patch_unknown_id_is_404(client):
    assert patch(client, 999, {"name": "x"}).status_code == 404


def test_delete_removes_the_user(client):
    user = post(client, ADA).get_json()
    assert client.delete("/api/users/{}".format(user["id"])).status_code == 204
    assert client.get("/api/users/{}".format(user["id"])).status_code == 404
    assert client.delete("/api/users/{}".format(user["id"])).status_code == 404
    assert user_count() == 0


def add_users(client, count):
    return [post(client, {"name": "user {}".format(n),
                          "email": "user{}@example.com".format(n)}).get_json()["id"]
            for n in range(count)]


def test_list_pages_through_every_user_once_with_the_keyset_cursor(client):
    ids = add_users(client, 7)
    seen, url = [], "/api/users?limit=3"
    while url:
        body = client.get(url).get_json()
        seen.extend(user["id"] for user in body["users"])
        url = body["next"]
    # The client's own account, made first, then the users it added.
    assert seen == [client.user.id] + ids


def test_list_after_an_id_starts_past_it(client):
    ids = add_users(client, 4)
    body = client.get("/api/users?after={}".format(ids[1])).get_json()
    assert [user["id"] for user in body["users"]] == ids[2:]
    assert body["next"] is None


def test_list_defaults_to_20_users(client):
    add_users(client, 21)
    body = client.get("/api/users").get_json()
    assert len(body["users"]) == 20
    assert body["next"]


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"),
    ("limit=-5", "limit"), ("limit=%C2%B2", "limit"), ("limit=" + "9" * 5000, "limit"),
    ("after=x", "after"), ("after=-1", "after"), ("after=" + "9" * 30, "after"),
])
def test_list_rejects_bad_paging_arguments_with_400(client, query, field):
    response = client.get("/api/users?" + query)
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_list_accepts_the_maximum_limit(client):
    assert client.get("/api/users?limit=100").status_code == 200
