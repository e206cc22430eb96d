"""The HTML page at /: list, add and delete users through forms."""
import re

import pytest

from app.extensions import db
from app.models import User
from tests.accounts import ROOT_EMAIL
from tests.support import csrf_token


def add_through_form(client, **fields):
    token = csrf_token(client.get("/").get_data(as_text=True))
    data = {"name": "Ada", "email": "ada@example.com", "role": "user", "csrf_token": token}
    data.update(fields)
    return client.post("/users", data=data)


def other_users():
    """How many users the database holds besides the signed-in root account."""
    return db.session.query(User).filter(User.email != ROOT_EMAIL).count()


def user_id(email):
    return db.session.query(User.id).filter_by(email=email).scalar()


def emails_on(html):
    """The emails of the users listed on the page, in order."""
    return re.findall(r"<td>([^<@]+@[^<]+)</td>", html)


def test_a_database_without_other_users_lists_only_the_signed_in_one(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert emails_on(html) == [ROOT_EMAIL]
    assert "No users yet." not in html


def test_adding_a_user_through_the_form_lists_it(client):
    response = add_through_form(client, name="Grace Hopper", email="grace@example.com")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Grace Hopper" in page and "grace@example.com" in page
    assert "Added Grace Hopper." in page


@pytest.mark.parametrize("fields, message", [
    ({"name": ""}, "name must not be empty"),
    ({"email": "not-an-email"}, "email must look like name@example.com"),
    ({"role": "emperor"}, "Not a valid choice"),
])
def test_an_invalid_form_shows_the_error_next_to_the_field_and_adds_nothing(
        client, fields, message):
    response = add_through_form(client, **fields)
    assert response.status_code == 400
    assert 'class="field-error"' in response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)
    assert other_users() == 0


def test_a_duplicate_email_shows_an_error_and_adds_nothing(client):
    add_through_form(client)
    response = add_through_form(client, name="Other", email="ADA@example.com")
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert other_users() == 1


def test_a_form_without_its_csrf_token_is_refused(client):
    response = client.post("/users", data={"name": "Ada", "email": "ada@example.com"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert other_users() == 0


def test_deleting_a_user_removes_it_from_the_list(client):
    add_through_form(client)
    token = csrf_token(client.get("/").get_data(as_text=True))
    response = client.post("/users/{}/delete".format(user_id("ada@example.com")),
                           data={"csrf_token": token})
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Deleted Ada." in page and emails_on(page) == [ROOT_EMAIL]
    assert other_users() == 0


def test_delete_without_csrf_token_is_refused(client):
    add_through_form(client)
    ada = user_id("ada@example.com")
    assert client.post("/users/{}/delete".format(ada)).status_code == 400
    assert other_users() == 1


def test_deleting_an_unknown_user_is_404(client):
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post("/users/999/delete", data={"csrf_token": token}).status_code == 404


def add_users(count):
    db.session.add_all(User(name="user {:03d}".format(n), email="u{}@example.com".format(n))
                       for n in range(count))
    db.session.commit()


def names_on(html):
    return re.findall(r"<td>(user \d{3})</td>", html)


def link(html, label):
    """The href of the pagination link whose text starts with `label`, or None."""
    match = re.search(r'<a href="([^"]+)">(?:&larr; )?' + label, html)
    return match and match.group(1).replace("&amp;", "&")


def test_the_list_pages_by_id_and_visits_each_user_once(client, migrated_app):
    per_page = migrated_app.config["USERS_PER_PAGE"]
    # With the signed-in root account, the first user: 2 * per_page + 5 in all.
    add_users(2 * per_page + 4)
    seen, html = [], client.get("/").get_data(as_text=True)
    assert link(html, "&larr; Previous") is None and "{} shown".format(per_page) in html
    pages = [html]
    while link(html, "Next"):
        assert "?after=" in link(html, "Next")
        html = client.get(link(html, "Next")).get_data(as_text=True)
        pages.append(html)
    for page in pages:
        seen += emails_on(page)
    assert seen == [ROOT_EMAIL] + ["u{}@example.com".format(n) for n in range(2 * per_page + 4)]
    assert len(pages) == 3 and len(names_on(pages[-1])) == 5

    # Previous walks back the same pages; First goes to the first.
    back = client.get(link(pages[2], "&larr; Previous")).get_data(as_text=True)
    assert names_on(back) == names_on(pages[1])
    back = client.get(link(back, "&larr; Previous")).get_data(as_text=True)
    assert names_on(back) == names_on(pages[0])
    assert link(back, "&larr; Previous") is None
    assert names_on(client.get(link(pages[2], "First")).get_data(as_text=True)) \
        == names_on(pages[0])


def test_a_deep_page_starts_after_the_id_it_names(client, migrated_app):
    add_users(50)
    first_id = db.session.query(User.id).filter_by(name="user 000").scalar()
    html = client.get("/?after={}".format(first_id + 39)).get_data(as_text=True)
    assert names_on(html) == ["user {:03d}".format(n) for n in range(40, 50)]
    assert link(html, "Next") is None and link(html, "&larr; Previous")


def test_deleting_keeps_the_page(client, migrated_app):
    per_page = migrated_app.config["USERS_PER_PAGE"]
    add_users(per_page + 3)
    second = client.get(link(client.get("/").get_data(as_text=True), "Next"))
    html = second.get_data(as_text=True)
    action = re.search(r'action="(/users/\d+/delete\?after=\d+)"', html).group(1)
    response = client.post(action, data={"csrf_token": csrf_token(html)})
    assert response.status_code == 302
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert names_on(after) == names_on(html)[1:]


@pytest.mark.parametrize("query", ["after=0", "after=-3", "after=abc", "after=" + "9" * 40,
                                   "before=0", "before=-1", "before=xyz", "before=" + "9" * 40,
                                   "after=5&before=3", "page=2"])
def test_junk_paging_arguments_still_render(client, migrated_app, query):
    add_users(3)
    response = client.get("/?" + query)
    assert response.status_code == 200
    # Whatever the junk, the first (here the only) page.
    assert names_on(response.get_data(as_text=True)) == ["user 000", "user 001", "user 002"]


def test_user_data_is_escaped_in_html(client):
    add_through_form(client, name="<script>alert(1)</script>")
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_unknown_page_is_an_html_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "404 Not Found" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_the_stylesheet_is_served_by_the_app(client):
    response = client.get("/static/style.css")
    try:
        assert response.status_code == 200
        assert response.mimetype == "text/css"
    finally:
        response.close()


@pytest.mark.parametrize("path", ["/", "/?after=2", "/no/such/page"])
def test_html_pages_are_never_cached_or_shared(client, path):
    response = client.get(path)
    assert "Cookie" in response.headers["Vary"]
    assert response.cache_control.private and response.cache_control.no_store


@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no token"])
def test_the_api_does_not_touch_the_session(client, with_token):
    # The client is signed in: its session cookie goes with every request,
    # and a page renews it.
    assert "Set-Cookie" in client.get("/").headers
    if not with_token:
        del client.environ_base["HTTP_AUTHORIZATION"]
    response = client.get("/api/users")
    assert response.status_code == (200 if with_token else 401)
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
