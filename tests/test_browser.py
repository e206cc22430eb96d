"""The users page in a real browser: headless Chromium (the system's, see
tests/browser.py) driven by Playwright, against `manage.py runserver` on a
database built by the committed migrations.

Each state the tests reach is saved as a screenshot in
tests/screenshots/<stack>/ (git-ignored), to look at after a run.
"""
import re
from importlib.metadata import version

import pytest
from playwright.sync_api import expect

from tests.browser import require_chromium
from tests.support import PROJECT_ROOT, committed_revisions, running_server

pytestmark = pytest.mark.backends("sqlite")

STACK = "classic" if version("Flask").startswith("1.") else "modern"
SCREENSHOTS = PROJECT_ROOT / "tests" / "screenshots" / STACK
NARROW = {"width": 375, "height": 812}
WIDE = {"width": 1280, "height": 800}


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


@pytest.fixture
def window(chromium, site, request):
    name = re.sub(r"\W+", "-", request.node.name).strip("-")
    window = Window(chromium, site, WIDE, name)
    yield window
    window.context.close()
    assert window.errors == []


def stored_users(project):
    with project.engine() as engine, engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(
            "SELECT name, email, role FROM users ORDER BY id")]


def user_row(page, email):
    return page.locator("tbody tr", has_text=email)


def test_add_a_user_see_it_listed_delete_it_see_it_gone(window, project):
    page = window.open()
    expect(page.locator(".empty")).to_have_text("No users yet.")
    expect(page.locator(".schema-revision")).to_have_text(committed_revisions()[-1][0])
    window.screenshot("1-empty")

    window.add_user("Ada Lovelace", "ada@example.com", "admin")
    expect(page.locator(".flash")).to_have_text("Added Ada Lovelace.")
    row = user_row(page, "ada@example.com")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("Ada Lovelace")
    expect(row.locator("td.role")).to_have_text("admin")
    expect(page.locator(".empty")).to_have_count(0)
    assert stored_users(project) == [("Ada Lovelace", "ada@example.com", "admin")]
    window.screenshot("2-added")

    row.locator("button", has_text="Delete").click()
    page.wait_for_load_state()
    expect(page.locator(".flash")).to_have_text("Deleted Ada Lovelace.")
    expect(user_row(page, "ada@example.com")).to_have_count(0)
    expect(page.locator(".empty")).to_have_text("No users yet.")
    assert stored_users(project) == []
    window.screenshot("3-deleted")


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


def test_the_page_reads_well_on_a_phone_and_on_a_wide_screen(chromium, site, project):
    add_users_directly(project, 45)
    for label, viewport in (("narrow", NARROW), ("wide", WIDE)):
        window = Window(chromium, site, viewport, "layout-" + label)
        try:
            page = window.open()
            # The app's own stylesheet applies under the page's policy.
            assert page.evaluate(
                "getComputedStyle(document.body).backgroundColor") == "rgb(246, 248, 250)"
            # Nothing sticks out sideways; every Delete button is on screen.
            assert page.evaluate(
                "document.documentElement.scrollWidth <= window.innerWidth")
            for box in [button.bounding_box() for button in
                        page.locator("button", has_text="Delete").all()]:
                assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
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
            window.screenshot("page-1")

            with page.expect_navigation():
                pagination.locator("a", has_text="Next").click()
            expect(user_row(page, "user21@example.com")).to_have_count(1)
            with page.expect_navigation():
                pagination.locator("a", has_text="Next").click()
            expect(page.locator("tbody tr")).to_have_count(5)
            expect(pagination).to_contain_text("5 shown")
            expect(pagination.locator("a", has_text="Next")).to_have_count(0)
            with page.expect_navigation():
                pagination.locator("a", has_text="Previous").click()
            expect(user_row(page, "user21@example.com")).to_have_count(1)
            expect(page.locator("tbody tr")).to_have_count(20)
            with page.expect_navigation():
                pagination.locator("a", has_text="Next").click()
            window.screenshot("page-3")
        finally:
            window.context.close()
        assert window.errors == []
