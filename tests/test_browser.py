"""The users page in a real browser: headless Chromium (the system's, see
tests/browser.py) driven by Playwright, against `manage.py runserver` on a
database built by the committed migrations. Every page but the sign-in page
wants a signed-in account: the tests make accounts as an operator does,
with `python manage.py create_user` (the password on its standard input),
and sign in through the sign-in form, as a person does.

Each state the tests reach is saved as a screenshot in
tests/screenshots/<stack>/ (git-ignored), to look at after a run.
"""
import re
from importlib.metadata import version
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect

from tests.browser import require_chromium
from tests.support import PROJECT_ROOT, assert_ok, committed_revisions, running_server

pytestmark = pytest.mark.backends("sqlite")

STACK = "classic" if version("Flask").startswith("1.") else "modern"
SCREENSHOTS = PROJECT_ROOT / "tests" / "screenshots" / STACK
NARROW = {"width": 375, "height": 812}
WIDE = {"width": 1280, "height": 800}
PASSWORD = "correct horse battery"
ROOT = ("root@example.com", "Root", "super_user")


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium per test process."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def site(project):
    """The project migrated to head and served by runserver; its base URL."""
    assert project.manage("db", "upgrade").returncode == 0
    with running_server(project) as base:
        yield base


class Window:
    """A browser window on the site: its page, and what went wrong in it
    (console errors, policy violations, alert boxes)."""

    def __init__(self, chromium, base, viewport, name):
        self.base = base
        self.name = name
        self.context = chromium.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("console", lambda message: message.type == "error"
                     and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", lambda dialog: (self.errors.append(
            "a dialog opened: " + dialog.message), dialog.dismiss()))

    def open(self, path="/"):
        response = self.page.goto(self.base + path)
        assert response.status == 200
        return self.page

    def screenshot(self, state):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / "{}-{}.png".format(self.name, state)),
                             full_page=True)

    def take_status_error(self, status):
        """The console's line for a page answered with `status` (an invalid
        form is answered 400 on purpose): check it came, and clear it."""
        marker = "status of {}".format(status)
        matching = [error for error in self.errors if marker in error]
        assert len(matching) == 1, self.errors
        self.errors.remove(matching[0])

    def add_user(self, name, email, role=None):
        self.page.fill("#name", name)
        self.page.fill("#email", email)
        if role:
            self.page.select_option("#role", role)
        self.page.click("#submit")
        self.page.wait_for_load_state()

    def fill_sign_in(self, email, password):
        """Fill the sign-in form on the page and press "Sign in"."""
        page = self.page
        expect(page.locator("section.sign-in h1")).to_have_text("Sign in")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        return page

    def sign_in(self, email, password=PASSWORD, path="/"):
        """Go to `path` signed out, land on the sign-in page, sign in there
        and come back to `path`."""
        page = self.open(path)
        assert_on_sign_in(page, path)
        self.fill_sign_in(email, password)
        assert page.url == self.base + path
        expect(page.locator(".signed-in-email")).to_have_text(email)
        return page

    def sign_out(self):
        page = self.page
        with page.expect_navigation():
            page.locator("header").get_by_role("button", name="Sign out").click()
        return page


def assert_on_sign_in(page, next_path=None):
    """The page is the sign-in page (sent there from `next_path`), signed out."""
    expect(page.locator("section.sign-in h1")).to_have_text("Sign in")
    path, _, query = page.url.partition("://")[2].partition("/")[2].partition("?")
    assert path == "sign-in", page.url
    if next_path is not None:
        assert parse_qs(query) == {"next": [next_path]}, page.url
    expect(page.get_by_label("Password")).to_have_attribute("type", "password")
    expect(page.locator(".signed-in")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def create_account(project, email, name, role, password=PASSWORD):
    """Make an account as an operator does: manage.py create_user, the
    password on its standard input."""
    result = assert_ok(project.manage("create_user", "--email", email, "--name", name,
                                      "--role", role, input=password + "\n"))
    assert result.stdout.strip() == "Created {} ({}).".format(email, role)


@pytest.fixture
def open_window(chromium, site, request):
    """Opens windows on the site, each with cookies of its own (one person
    each); after the test, checks that nothing went wrong in any of them."""
    opened = []
    test_name = re.sub(r"\W+", "-", request.node.name).strip("-")

    def open_window(label="", viewport=WIDE):
        window = Window(chromium, site, viewport, test_name + ("-" + label if label else ""))
        opened.append(window)
        return window

    yield open_window
    for window in opened:
        window.context.close()
    for window in opened:
        assert window.errors == [], window.name


@pytest.fixture
def root(project, site):
    """The super_user ROOT (email, name, role), made with manage.py."""
    create_account(project, *ROOT)
    return ROOT


@pytest.fixture
def window(open_window, root):
    """A window signed in as the super_user ROOT, on the users page."""
    window = open_window()
    window.sign_in(root[0])
    return window


def stored_users(project):
    with project.engine() as engine, engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(
            "SELECT name, email, role FROM users ORDER BY id")]


def stored_id(project, email):
    with project.engine() as engine, engine.connect() as connection:
        return connection.exec_driver_sql(
            "SELECT id FROM users WHERE email = ?", (email,)).scalar_one()


def stored(account):
    """An account (email, name, role) as stored_users lists it."""
    email, name, role = account
    return (name, email, role)


# A form the page does not offer, posted with the CSRF token of one it does.
POST_BY_HAND = """action => {
    const form = document.createElement("form");
    form.method = "post";
    form.action = action;
    form.appendChild(document.querySelector("input[name=csrf_token]").cloneNode());
    document.body.appendChild(form);
    form.submit();
}"""


def user_row(page, email):
    return page.locator("tbody tr", has_text=email)


def test_add_a_user_see_it_listed_delete_it_see_it_gone(window, project):
    page = window.open()
    # The list holds the signed-in account only.
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(user_row(page, ROOT[0]).locator("td.role")).to_have_text("super_user")
    expect(page.locator(".empty")).to_have_count(0)
    expect(page.locator(".schema-revision")).to_have_text(committed_revisions()[-1][0])
    window.screenshot("1-only-me")

    window.add_user("Ada Lovelace", "ada@example.com", "admin")
    expect(page.locator(".flash")).to_have_text("Added Ada Lovelace.")
    row = user_row(page, "ada@example.com")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("Ada Lovelace")
    expect(row.locator("td.role")).to_have_text("admin")
    expect(page.locator(".empty")).to_have_count(0)
    expect(page.locator("tbody tr")).to_have_count(2)
    assert stored_users(project) == [stored(ROOT), ("Ada Lovelace", "ada@example.com", "admin")]
    window.screenshot("2-added")

    row.locator("button", has_text="Delete").click()
    page.wait_for_load_state()
    expect(page.locator(".flash")).to_have_text("Deleted Ada Lovelace.")
    expect(user_row(page, "ada@example.com")).to_have_count(0)
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(user_row(page, ROOT[0])).to_have_count(1)
    assert stored_users(project) == [stored(ROOT)]
    window.screenshot("3-deleted")


def test_sign_in_add_a_user_delete_one_sign_out(open_window, root, project):
    window = open_window()
    # Signed out, the users page sends the browser to the sign-in page.
    page = window.open("/")
    assert_on_sign_in(page, "/")
    expect(page.locator(".flash")).to_have_text("Sign in to see the users.")
    expect(page.locator(".first-account")).to_have_count(0)
    expect(page.locator("tbody")).to_have_count(0)
    window.screenshot("1-sign-in")

    window.fill_sign_in(ROOT[0], PASSWORD)
    assert page.url == window.base + "/"
    expect(page.locator(".signed-in")).to_contain_text(
        "Signed in as {} ({})".format(ROOT[0], ROOT[2]))
    expect(page.locator(".signed-in-role")).to_have_text("super_user")
    expect(page.locator("section.add-user")).to_have_count(1)
    window.screenshot("2-signed-in")

    window.add_user("Ada Lovelace", "ada@example.com", "admin")
    expect(page.locator(".flash")).to_have_text("Added Ada Lovelace.")
    expect(user_row(page, "ada@example.com").locator("td.role")).to_have_text("admin")
    window.add_user("Alan Turing", "alan@example.com")
    expect(page.locator(".flash")).to_have_text("Added Alan Turing.")
    expect(page.locator("tbody tr")).to_have_count(3)
    assert stored_users(project) == [stored(ROOT), ("Ada Lovelace", "ada@example.com", "admin"),
                                     ("Alan Turing", "alan@example.com", "user")]

    with page.expect_navigation():
        user_row(page, "ada@example.com").get_by_role("button", name="Delete").click()
    expect(page.locator(".flash")).to_have_text("Deleted Ada Lovelace.")
    expect(user_row(page, "ada@example.com")).to_have_count(0)
    expect(page.locator("tbody tr")).to_have_count(2)
    assert stored_users(project) == [stored(ROOT), ("Alan Turing", "alan@example.com", "user")]
    window.screenshot("3-deleted")

    window.sign_out()
    assert_on_sign_in(page)
    assert page.url == window.base + "/sign-in"
    expect(page.locator(".flash")).to_have_text("Signed out.")
    expect(page.locator("tbody")).to_have_count(0)
    window.screenshot("4-signed-out")
    # The browser's Back button does not bring the list back...
    page.go_back()
    assert_on_sign_in(page, "/")
    expect(page.locator("tbody")).to_have_count(0)
    # ...and neither does going to / again.
    page = window.open("/")
    assert_on_sign_in(page, "/")
    expect(page.locator("tbody")).to_have_count(0)
    assert stored_users(project) == [stored(ROOT), ("Alan Turing", "alan@example.com", "user")]


def test_a_wrong_password_shows_an_error_and_stays_signed_out(open_window, root, project):
    window = open_window()
    page = window.open("/")
    assert_on_sign_in(page, "/")
    for email, password in ((ROOT[0], "not the password"), ("nobody@example.com", PASSWORD)):
        window.fill_sign_in(email, password)
        window.take_status_error(400)
        expect(page.locator(".form-error")).to_have_text("Wrong email or password.")
        assert_on_sign_in(page, "/")
        # The email stays, to correct the password; the password does not.
        expect(page.get_by_label("Email")).to_have_value(email)
        expect(page.get_by_label("Password")).to_have_value("")
        expect(page.locator("tbody")).to_have_count(0)
        window.screenshot("wrong-" + email.split("@")[0])
    # Still signed out: the users page sends the browser to sign in.
    page = window.open("/")
    assert_on_sign_in(page, "/")
    expect(page.locator(".form-error")).to_have_count(0)
    assert [(name, email) for name, email, _ in stored_users(project)] == [(ROOT[1], ROOT[0])]
    # The right password then signs in.
    window.fill_sign_in(ROOT[0], PASSWORD)
    assert page.url == window.base + "/"
    expect(page.locator(".signed-in-email")).to_have_text(ROOT[0])


def test_a_user_sees_the_list_only_and_an_admin_may_change_it(open_window, root, project):
    create_account(project, "reader@example.com", "Reader", "user")
    create_account(project, "admin@example.com", "Admin", "admin")
    emails = [ROOT[0], "reader@example.com", "admin@example.com"]

    reader = open_window("user")
    page = reader.sign_in("reader@example.com")
    expect(page.locator(".signed-in")).to_contain_text(
        "Signed in as reader@example.com (user)")
    expect(page.locator("tbody tr")).to_have_count(3)
    for email in emails:
        expect(user_row(page, email)).to_have_count(1)
    expect(page.locator("section.add-user")).to_have_count(0)
    expect(page.locator("form[action='/users']")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    # Without the form beside it, the list takes the page's whole width.
    assert fits_sideways(page)
    main = page.locator("main").evaluate(
        "main => main.clientWidth - parseFloat(getComputedStyle(main).paddingLeft)"
        " - parseFloat(getComputedStyle(main).paddingRight)")
    assert abs(page.locator("section.user-list").bounding_box()["width"] - main) < 1
    reader.screenshot("list-only")
    # Typing the edit page's address does not get round it.
    response = page.goto(reader.base + "/users/{}/edit".format(stored_id(project, ROOT[0])))
    assert response.status == 403
    reader.take_status_error(403)
    expect(page.locator("main")).to_contain_text("Your role (user) may read users")
    expect(page.locator("section.edit-user")).to_have_count(0)
    assert fits_sideways(page)
    reader.screenshot("refused")

    # An admin who follows a link to an edit page signs in and lands there.
    admin = open_window("admin")
    edit_reader = "/users/{}/edit".format(stored_id(project, "reader@example.com"))
    page = admin.sign_in("admin@example.com", path=edit_reader)
    expect(page.locator(".signed-in")).to_contain_text(
        "Signed in as admin@example.com (admin)")
    expect(page.locator("section.edit-user h1")).to_have_text("Edit Reader")
    with page.expect_navigation():
        page.get_by_role("link", name="Cancel").click()
    expect(page.locator("tbody tr")).to_have_count(3)
    expect(page.locator("section.add-user")).to_have_count(1)
    expect(page.get_by_role("button", name="Add user")).to_have_count(1)
    # What the admin may do to each row: (Edit, Delete). A super_user is not
    # an admin's to change, and nobody deletes themselves.
    offered = {ROOT[0]: (0, 0), "reader@example.com": (1, 1), "admin@example.com": (1, 0)}
    for email, (edits, deletes) in offered.items():
        row = user_row(page, email)
        expect(row.get_by_role("link", name="Edit")).to_have_count(edits)
        expect(row.get_by_role("button", name="Delete")).to_have_count(deletes)
    admin.screenshot("may-change")
    admin.add_user("Alan Turing", "alan@example.com")
    expect(page.locator(".flash")).to_have_text("Added Alan Turing.")
    assert stored_users(project)[-1] == ("Alan Turing", "alan@example.com", "user")
    # A super_user is not an admin's to delete: a delete form for that row,
    # posted by hand with the page's own CSRF token, is refused, saying why.
    with page.expect_navigation():
        page.evaluate(POST_BY_HAND, "/users/{}/delete".format(stored_id(project, ROOT[0])))
    admin.take_status_error(403)
    expect(page.locator("section.message")).to_contain_text(
        "Only a super_user may delete a super_user.")
    assert stored(ROOT) in stored_users(project)
    admin.screenshot("refused")


def test_a_fresh_database_shows_the_command_that_makes_the_first_account(
        open_window, project):
    window = open_window()
    page = window.open("/")
    assert_on_sign_in(page, "/")
    hint = page.locator(".first-account")
    expect(hint).to_contain_text("No account can sign in yet.")
    command = hint.locator("code")
    expect(command).to_have_text('python manage.py create_user --email you@example.com '
                                 '--name "Your Name" --role super_user')
    assert fits_sideways(page)
    window.screenshot("1-first-account")
    assert stored_users(project) == []

    # The operator runs the command shown, with their own email and name.
    create_account(project, "first@example.com", "First", "super_user")
    page.reload()
    expect(page.locator(".first-account")).to_have_count(0)
    window.fill_sign_in("first@example.com", PASSWORD)
    expect(page.locator(".signed-in")).to_contain_text(
        "Signed in as first@example.com (super_user)")
    expect(page.locator("tbody tr")).to_have_count(1)
    window.screenshot("2-signed-in")


def test_edit_a_users_name_on_the_edit_page(window, project):
    page = window.open()
    window.add_user("Grace Hoper", "grace@example.com", "admin")
    expect(page.locator(".flash")).to_have_text("Added Grace Hoper.")

    with page.expect_navigation():
        user_row(page, "grace@example.com").get_by_role("link", name="Edit").click()
    assert re.fullmatch(re.escape(window.base) + r"/users/\d+/edit", page.url), page.url
    expect(page).to_have_title("Edit Grace Hoper")
    expect(page.locator("section.edit-user h1")).to_have_text("Edit Grace Hoper")
    # The page wears the app's styles, like the list.
    assert page.locator("section.edit-user").evaluate(
        "section => getComputedStyle(section).backgroundColor") == "rgb(255, 255, 255)"
    expect(page.get_by_label("Name")).to_have_value("Grace Hoper")
    expect(page.get_by_label("Email")).to_have_value("grace@example.com")
    expect(page.get_by_label("Role")).to_have_value("admin")
    window.screenshot("1-edit")

    page.get_by_label("Name").fill("Grace Hopper")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    assert page.url == window.base + "/"
    expect(page.locator(".flash")).to_have_text("Saved Grace Hopper.")
    row = user_row(page, "grace@example.com")
    expect(row.locator("td").nth(0)).to_have_text("Grace Hopper")
    expect(row.locator("td.role")).to_have_text("admin")
    assert stored_users(project) == [stored(ROOT), ("Grace Hopper", "grace@example.com", "admin")]
    window.screenshot("2-saved")

    # An empty name is refused on the edit page, and nothing changes.
    with page.expect_navigation():
        row.get_by_role("link", name="Edit").click()
    page.get_by_label("Name").fill("")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    window.take_status_error(400)
    expect(page.locator(".field:has(#name) .field-error")).to_have_text("name must not be empty")
    expect(page.locator("section.edit-user h1")).to_have_text("Edit Grace Hopper")
    assert stored_users(project) == [stored(ROOT), ("Grace Hopper", "grace@example.com", "admin")]
    # Another user's email is refused too, next to the field.
    page.get_by_label("Name").fill("Grace Murray Hopper")
    page.get_by_label("Email").fill(ROOT[0])
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    window.take_status_error(400)
    expect(page.locator(".field:has(#email) .field-error")).to_have_text(
        "a user with email {} already exists".format(ROOT[0]))
    expect(page.locator(".field-error")).to_have_count(1)
    expect(page.get_by_label("Name")).to_have_value("Grace Murray Hopper")
    expect(page.locator("section.edit-user h1")).to_have_text("Edit Grace Hopper")
    assert stored_users(project) == [stored(ROOT), ("Grace Hopper", "grace@example.com", "admin")]
    window.screenshot("3-refused")
    with page.expect_navigation():
        page.get_by_role("link", name="Cancel").click()
    assert page.url == window.base + "/"
    expect(user_row(page, "grace@example.com").locator("td").nth(0)).to_have_text(
        "Grace Hopper")


@pytest.mark.parametrize("name, email, field, message", [
    ("", "nobody@example.com", "name", "name must not be empty"),
    ("Bad Email", "not-an-email", "email", "email must look like name@example.com"),
    ("Another Grace", "GRACE@example.com", "email",
     "a user with email grace@example.com already exists"),
], ids=["empty-name", "bad-email", "duplicate-email"])
def test_an_invalid_form_shows_the_error_next_to_the_field_and_adds_nothing(
        window, project, name, email, field, message):
    page = window.open()
    window.add_user("Grace Hopper", "grace@example.com")
    expect(page.locator(".flash")).to_have_text("Added Grace Hopper.")
    before = stored_users(project)

    window.add_user(name, email)
    window.take_status_error(400)
    error = page.locator(".field:has(#{}) .field-error".format(field))
    expect(error).to_have_text(message)
    expect(page.locator(".field-error")).to_have_count(1)
    # What was typed stays in the form, to correct it.
    expect(page.locator("#name")).to_have_value(name)
    expect(page.locator(".flash")).to_have_count(0)
    assert stored_users(project) == before
    window.screenshot("error")


def test_a_name_with_markup_shows_as_text(window, project):
    page = window.open()
    window.add_user("<script>alert(1)</script><b>bold</b>", "markup@example.com")
    row = user_row(page, "markup@example.com")
    expect(row.locator("td").nth(0)).to_have_text("<script>alert(1)</script><b>bold</b>")
    expect(row.locator("b")).to_have_count(0)
    window.screenshot("escaped")
    # The window fixture fails the test if an alert box opened.


def add_users_directly(project, count):
    with project.engine() as engine, engine.begin() as connection:
        for n in range(1, count + 1):
            connection.exec_driver_sql(
                "INSERT INTO users (name, email, role) VALUES "
                "('User {0}', 'user{0}@example.com', 'user')".format(n))


def fits_sideways(page):
    """Nothing on the page sticks out sideways (no horizontal scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def assert_on_screen(box, viewport):
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (box, viewport)


# A long address, for the header that shows it.
LONG_EMAIL = "grace.brewster.murray.hopper@example.com"


def test_the_page_reads_well_on_a_phone_and_on_a_wide_screen(chromium, site, project):
    create_account(project, LONG_EMAIL, "Grace Hopper", "super_user")
    add_users_directly(project, 45)
    for label, viewport in (("narrow", NARROW), ("wide", WIDE)):
        window = Window(chromium, site, viewport, "layout-" + label)
        try:
            # The sign-in page: styled, nothing sticking out, its button on screen.
            page = window.open()
            assert_on_sign_in(page, "/")
            assert page.evaluate(
                "getComputedStyle(document.body).backgroundColor") == "rgb(246, 248, 250)"
            assert fits_sideways(page)
            for element in ("section.sign-in", "#email", "#password", "#submit"):
                assert_on_screen(page.locator(element).bounding_box(), viewport)
            window.screenshot("sign-in")
            window.fill_sign_in(LONG_EMAIL, PASSWORD)

            # The header: who is signed in, and Sign out, within the width.
            expect(page.locator(".signed-in-email")).to_have_text(LONG_EMAIL)
            header = page.locator("header.site-header")
            assert_on_screen(header.bounding_box(), viewport)
            assert_on_screen(header.locator(".signed-in-email").bounding_box(), viewport)
            assert_on_screen(header.get_by_role("button", name="Sign out").bounding_box(),
                             viewport)
            assert header.evaluate("header => header.scrollWidth <= header.clientWidth")

            # The app's own stylesheet applies under the page's policy.
            assert page.evaluate(
                "getComputedStyle(document.body).backgroundColor") == "rgb(246, 248, 250)"
            # Nothing sticks out sideways; every Delete button is on screen.
            assert fits_sideways(page)
            for box in [button.bounding_box() for button in
                        page.locator("button", has_text="Delete").all()]:
                assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
            for box in [link.bounding_box() for link in
                        page.locator("tbody a", has_text="Edit").all()]:
                assert_on_screen(box, viewport)
            form = page.locator("section.add-user").bounding_box()
            users = page.locator("section.user-list").bounding_box()
            if label == "wide":  # side by side
                assert form["x"] + form["width"] <= users["x"]
                assert abs(form["y"] - users["y"]) < 1
            else:  # one above the other
                assert form["y"] + form["height"] <= users["y"]
            pagination = page.locator("nav.pagination")
            expect(pagination).to_contain_text("20 shown")
            expect(pagination.locator("a", has_text="Previous")).to_have_count(0)
            expect(page.locator("tbody tr")).to_have_count(20)
            # The signed-in account is the first of the 46 users.
            expect(page.locator("tbody tr").first).to_contain_text(LONG_EMAIL)
            window.screenshot("page-1")

            with page.expect_navigation():
                pagination.locator("a", has_text="Next").click()
            expect(user_row(page, "user21@example.com")).to_have_count(1)
            with page.expect_navigation():
                pagination.locator("a", has_text="Next").click()
            expect(page.locator("tbody tr")).to_have_count(6)
            expect(pagination).to_contain_text("6 shown")
            expect(pagination.locator("a", has_text="Next")).to_have_count(0)
            with page.expect_navigation():
                pagination.locator("a", has_text="Previous").click()
            expect(user_row(page, "user21@example.com")).to_have_count(1)
            expect(page.locator("tbody tr")).to_have_count(20)
            with page.expect_navigation():
                pagination.locator("a", has_text="Next").click()
            window.screenshot("page-3")

            # The edit page reads as well: styled, nothing sticking out.
            with page.expect_navigation():
                user_row(page, "user45@example.com").get_by_role("link", name="Edit").click()
            expect(page.locator("section.edit-user h1")).to_have_text("Edit User 45")
            assert fits_sideways(page)
            assert page.locator("section.edit-user").evaluate(
                "section => getComputedStyle(section).backgroundColor") == "rgb(255, 255, 255)"
            for element in ("section.edit-user", "#name", "#email", "#role", "#submit"):
                assert_on_screen(page.locator(element).bounding_box(), viewport)
            window.screenshot("edit")
        finally:
            window.context.close()
        assert window.errors == []
