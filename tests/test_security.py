"""Hardening: response headers, cookies, request limits and the debugger.

SECURITY.md lists the mitigations; each one that is code has a test here (or
in the file SECURITY.md names) that fails if the mitigation is removed.
"""
import re
import socket
import threading
from urllib.parse import urlencode, urlsplit

import pytest

from app import create_app
from app.config import CONFIGS
from tests.accounts import ROOT_EMAIL
from tests.support import PROJECT_ROOT, csrf_token, get, post_chunked, running_server

MIB = 1024 * 1024
PATHS = ["/", "/?after=2", "/no/such/page", "/api/users", "/api/users/999",
         "/healthz", "/static/style.css"]


def policy(response):
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize("path", PATHS)
def test_every_response_forbids_sniffing_framing_and_foreign_content(client, path):
    response = client.get(path)
    try:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        directives = policy(response)
        assert directives["default-src"] == ["'none'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert directives["form-action"] == ["'self'"]
    finally:
        response.close()


def test_the_page_needs_nothing_its_policy_forbids(client):
    """The policy allows only the app's own stylesheet: no script, no inline
    style, nothing from another origin (no CDN)."""
    response = client.get("/")
    directives = policy(response)
    assert directives["style-src"] == ["'self'"]
    assert "script-src" not in directives  # default-src 'none' forbids scripts
    html = response.get_data(as_text=True)
    assert "<script" not in html
    assert "style=" not in html and "<style" not in html
    links = re.findall(r'(?:href|src|action)="([^"]*)"', html)
    assert links and all(re.match(r"/(?!/)", link) for link in links), links


def test_the_session_cookie_is_httponly_and_samesite_lax(client):
    # The page puts a CSRF token in the session, so it sets the cookie.
    cookie = client.get("/").headers["Set-Cookie"]
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "secure" not in attributes  # served over plain HTTP by make run


def test_the_production_session_cookie_is_secure_too(migrated_app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "production-test-key")
    production = create_app("production", settings={
        "SQLALCHEMY_DATABASE_URI": migrated_app.config["SQLALCHEMY_DATABASE_URI"]})
    cookie = production.test_client().get("/").headers["Set-Cookie"]
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert {"httponly", "samesite=lax", "secure"} <= set(attributes)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_debugger_is_on_only_in_the_development_config(monkeypatch, name):
    # Flask 1.1 takes its DEBUG default from these variables; the
    # configuration class decides, whatever they say.
    monkeypatch.setenv("SECRET_KEY", "test")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("FLASK_ENV", "development")
    assert create_app(name).debug is (name == "development")


def user_count(client):
    """How many users the API lists besides the client's own, the root account."""
    users = client.get("/api/users?limit=100").get_json()["users"]
    return len([user for user in users if user["email"] != ROOT_EMAIL])


def test_a_20_mib_form_post_is_refused_with_413_and_adds_nothing(client):
    token = csrf_token(client.get("/").get_data(as_text=True))
    body = urlencode({"csrf_token": token, "name": "x" * 20 * MIB,
                      "email": "big@example.com", "role": "user"}).encode()
    response = client.post("/users", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert user_count(client) == 0


def test_a_chunked_form_post_is_refused_once_past_the_limit(client, migrated_app):
    """Werkzeug 1.0.1 reads a chunked form whole; LimitedRequest stops it."""
    page = client.get("/")
    cookie = page.headers["Set-Cookie"].split(";")[0]
    limit = migrated_app.config["MAX_CONTENT_LENGTH"]
    # Under the form memory cap field by field, over the body limit in all.
    fields = {"f{}".format(n): "x" * (limit // 8) for n in range(10)}
    fields.update(csrf_token=csrf_token(page.get_data(as_text=True)),
                  name="Chunked", email="chunked@example.com", role="user")
    status = post_chunked(migrated_app, "/users", urlencode(fields).encode(),
                          "application/x-www-form-urlencoded", cookie)
    assert status == 413
    assert user_count(client) == 0


def multipart(fields):
    """(body, content type) of `fields` as multipart/form-data."""
    boundary = "fieldsboundary"
    parts = ['--{}\r\nContent-Disposition: form-data; name="{}"\r\n\r\n{}\r\n'.format(
        boundary, name, value) for name, value in fields.items()]
    body = "".join(parts) + "--{}--\r\n".format(boundary)
    return body.encode(), "multipart/form-data; boundary=" + boundary


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_form_data_held_in_memory_is_capped_below_the_body_limit(
        client, migrated_app, encoding):
    """Werkzeug 1.0.1 has no default cap on form fields held in memory; the
    app sets MAX_FORM_MEMORY_SIZE on both stacks."""
    cap = migrated_app.config["MAX_FORM_MEMORY_SIZE"]
    assert cap < migrated_app.config["MAX_CONTENT_LENGTH"]
    token = csrf_token(client.get("/").get_data(as_text=True))
    fields = {"csrf_token": token, "name": "x" * (cap + 1),
              "email": "big@example.com", "role": "user"}
    if encoding == "multipart":
        body, content_type = multipart(fields)
    else:
        body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
    response = client.post("/users", data=body, content_type=content_type)
    assert response.status_code == 413
    assert user_count(client) == 0


def send_request_with_body(base, path, content_type, size, chunked, headers=()):
    """POST `size` bytes to `path` over a raw socket, with the header lines
    `headers` too, the body sent by a thread while the reply is read; return
    the status line's code. The server may stop reading and close the
    connection: the sender ignores that."""
    address = urlsplit(base)
    connection = socket.create_connection((address.hostname, address.port), timeout=30)
    head = ["POST {} HTTP/1.1".format(path), "Host: " + address.netloc,
            "Content-Type: " + content_type, "Connection: close"] + list(headers)
    head.append("Transfer-Encoding: chunked" if chunked else "Content-Length: {}".format(size))
    connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    piece = b"x" * (64 * 1024)

    def send_body():
        try:
            for _ in range(size // len(piece)):
                connection.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                connection.sendall(b"0\r\n\r\n")
        except OSError:
            pass

    sender = threading.Thread(target=send_body, daemon=True)
    sender.start()
    try:
        status_line = connection.makefile("rb").readline().decode()
    finally:
        connection.close()
        sender.join(30)
    return int(status_line.split()[1])


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("server", ["runserver", "gunicorn"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path, content_type", [
    ("/users", "application/x-www-form-urlencoded"),
    ("/api/users", "application/json"),
], ids=["form", "api"])
def test_a_real_server_refuses_a_20_mib_post_with_413_and_keeps_serving(
        project, server, chunked, path, content_type):
    assert project.manage("db", "upgrade").returncode == 0
    # The API answers 401 to a request without a token before reading its
    # body: the body is sent with the token of an admin, who may add users.
    # (The form is refused whole before anything else, CSRF token included.)
    email = "poster@example.com"
    made = project.manage("create_user", "--email", email, "--name", "Poster", "--role",
                          "admin", input="a good password\n")
    assert made.returncode == 0, made.stderr
    token = project.manage("create_token", "--email", email)
    assert token.returncode == 0, token.stderr
    headers = ["Authorization: Bearer " + token.stdout.strip()] if path.startswith("/api/") else []
    with running_server(project, server) as base:
        status = send_request_with_body(base, path, content_type, 20 * MIB, chunked, headers)
        assert status == 413
        assert get(base + "/healthz")[0] == 200
    with project.engine() as engine, engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT count(*) FROM users WHERE email <> '{}'".format(email)).scalar() == 0


def app_sources():
    """{path: text} of every Python file and template of the app."""
    root = PROJECT_ROOT / "app"
    return {str(path.relative_to(PROJECT_ROOT)): path.read_text()
            for pattern in ("*.py", "*.html") for path in root.rglob(pattern)}


@pytest.mark.parametrize("what, pattern", [
    # CVE-2024-22195, CVE-2024-34064: user-controlled keys in xmlattr.
    ("the xmlattr filter", r"\bxmlattr\b"),
    # CVE-2024-56326, CVE-2025-27516, CVE-2024-56201: untrusted templates.
    ("templates made from strings", r"render_template_string|from_string\("),
    ("Jinja's sandbox", r"\bsandbox\b|SandboxedEnvironment"),
    # CVE-2026-7246: click.edit with untrusted input.
    ("click.edit", r"\bclick\.edit\b|from click import[^\n]*\bedit\b"),
])
def test_the_app_uses_nothing_an_unfixed_advisory_needs(what, pattern):
    """SECURITY.md says the app is not exposed to these advisories because it
    does not use the feature; this keeps it true."""
    users = [path for path, text in app_sources().items() if re.search(pattern, text)]
    assert users == [], "{} is used in {}: see SECURITY.md".format(what, users)
