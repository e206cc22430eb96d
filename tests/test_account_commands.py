"""manage.py's account commands (app/accounts/commands.py), run as a user
runs them: `python manage.py <command>` in a copy of the project on the
test's database, the password typed at a terminal or sent on standard
input. The main cases run on both stacks' interpreters; a mistake ends in
one line `error: ...` on stderr, exit code 1, and changes nothing."""
import datetime
import subprocess
import sys
from importlib import metadata

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from sqlalchemy import text

from app.accounts.tokens import create_token, revoke_token
from app.extensions import db
from app.models import ApiToken, User
from tests import backends
from tests.accounts import PASSWORD, make_account, own_client, sign_in
from tests.support import PROJECT_ROOT

STACK = "classic" if metadata.version("flask").startswith("1.") else "modern"
STACK_VENVS = {"classic": ".venv", "modern": ".venv-modern"}
STACKS = tuple(STACK_VENVS)
NEW_PASSWORD = "a brand new password"


def stack_python(stack):
    """The interpreter of `stack`: this one for its own stack, else the
    other stack's virtual environment (made by `make install STACK=...`;
    without it that stack's case is skipped here, a failure under
    REQUIRE_ALL_BACKENDS=1, and runs when the suite runs on that stack)."""
    if stack == STACK:
        return sys.executable
    python = PROJECT_ROOT / STACK_VENVS[stack] / "bin" / "python"
    if not python.exists():
        reason = "the {} stack is not installed ({} is missing): make install STACK={}".format(
            stack, python, stack)
        if backends.require_all():  # .ci/run installs both stacks first
            pytest.fail("REQUIRE_ALL_BACKENDS=1 but " + reason, pytrace=False)
        pytest.skip(reason)
    return str(python)


@pytest.fixture
def cli(project, migrated_app):
    """The project copy on the migrated database of the test."""
    return project


def manage(project, *args, stack=STACK, input=""):
    """`python manage.py *args` of `stack`, `input` on stdin."""
    end_the_tests_transaction()
    return subprocess.run([stack_python(stack), "manage.py", *args], cwd=str(project.root),
                          env=project.environment(), input=input, capture_output=True,
                          text=True, timeout=120)


def end_the_tests_transaction():
    """End the test's transaction before a command runs: on SQLite, the
    reads of an open one would keep the command from writing."""
    db.session.remove()


def manage_on_terminal(project, *args, answers=(), stack=STACK, timeout=60):
    """`python manage.py *args` of `stack` at a pseudo-terminal; `answers`
    [(prompt, typed line)] are typed in order, each once its prompt shows.
    Return (exit code, all the terminal showed)."""
    end_the_tests_transaction()
    return project.manage_on_terminal(*args, answers=answers, timeout=timeout,
                                      python=stack_python(stack))


def succeeded(result, stdout=None):
    """`result` exited 0 printing `stdout` (if given) and nothing on stderr;
    return what it printed."""
    assert (result.returncode, result.stderr) == (0, ""), result
    if stdout is not None:
        assert result.stdout == stdout
    return result.stdout


def refused(result, message):
    """`result` is a mistake reported in one line: `error: <message>`."""
    assert result.returncode == 1, result
    assert result.stdout == ""
    assert result.stderr == "error: " + message + "\n"
    return result


def users():
    """{email: (name, role, password hash)} of every user, read afresh."""
    db.session.remove()
    return {user.email: (user.name, user.role, user.password_hash) for user in User.query}


def tokens():
    """[(id, user_id, name, expires_at, revoked_at)] of every API token."""
    db.session.remove()
    return [(t.id, t.user_id, t.name, t.expires_at, t.revoked_at)
            for t in ApiToken.query.order_by(ApiToken.id)]


def is_password_of(email, password):
    stored = users()[email][2]
    try:
        return PasswordHasher().verify(stored, password)
    except VerifyMismatchError:
        return False


@pytest.mark.parametrize("stack", STACKS)
def test_create_user_reads_the_password_from_standard_input(cli, stack):
    succeeded(manage(cli, "create_user", "--email", " Ada@Example.com ", "--name", "Ada",
                     "--role", "admin", stack=stack, input=PASSWORD + "\n"),
              "Created ada@example.com (admin).\n")
    name, role, stored = users()["ada@example.com"]
    assert (name, role) == ("Ada", "admin")
    # Argon2id with the configuration's parameters, never the password itself.
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in stored
    assert is_password_of("ada@example.com", PASSWORD)
    # The role is "user" unless told.
    succeeded(manage(cli, "create_user", "-e", "bob@example.com", "-n", "Bob", stack=stack,
                     input=PASSWORD + "\n"), "Created bob@example.com (user).\n")


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("stack", STACKS)
def test_create_user_at_a_terminal_asks_the_password_twice_without_echo(cli, backend, stack):
    code, screen = manage_on_terminal(
        cli, "create_user", "--email", "ada@example.com", "--name", "Ada", "--role",
        "super_user", stack=stack,
        answers=[("Password: ", PASSWORD), ("Repeat the password: ", PASSWORD)])
    assert code == 0, screen
    assert "Created ada@example.com (super_user)." in screen
    assert PASSWORD not in screen
    assert is_password_of("ada@example.com", PASSWORD)


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("stack", STACKS)
def test_set_password_at_a_terminal_asks_the_password_twice_without_echo(cli, backend, stack):
    make_account("admin")
    code, screen = manage_on_terminal(
        cli, "set_password", "--email", "admin@example.com", stack=stack,
        answers=[("Password: ", NEW_PASSWORD), ("Repeat the password: ", NEW_PASSWORD)])
    assert code == 0, screen
    assert "Set the password of admin@example.com." in screen
    assert NEW_PASSWORD not in screen
    assert is_password_of("admin@example.com", NEW_PASSWORD)
    assert not is_password_of("admin@example.com", PASSWORD)


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("stack", STACKS)
def test_passwords_that_differ_at_a_terminal_change_nothing(cli, backend, stack):
    make_account("admin")
    before = users()
    for command in (("create_user", "--email", "ada@example.com", "--name", "Ada"),
                    ("set_password", "--email", "admin@example.com")):
        code, screen = manage_on_terminal(
            cli, *command, stack=stack,
            answers=[("Password: ", PASSWORD + "1"), ("Repeat the password: ", PASSWORD + "2")])
        assert code == 1, screen
        lines = [line for line in screen.splitlines() if line.strip()]
        assert lines[-1] == "error: the passwords differ: run the command again", screen
        assert "Traceback" not in screen
        assert PASSWORD not in screen
    assert users() == before


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("answers, message", [
    ([("Password: ", "\x04")], "the password is empty: choose one of at least 8 characters"),
    ([("Password: ", PASSWORD), ("Repeat the password: ", "\x04")],
     "the passwords differ: run the command again"),
], ids=["first", "repeated"])
def test_the_end_of_input_at_a_password_prompt_is_a_mistake_in_one_line(
        cli, backend, answers, message):
    # Ctrl-D at the prompt: nothing typed.
    code, screen = manage_on_terminal(
        cli, "create_user", "--email", "ada@example.com", "--name", "Ada", answers=answers)
    assert code == 1, screen
    assert "Traceback" not in screen
    assert "error: " + message + "\n" in screen
    assert users() == {}


@pytest.mark.parametrize("stack", STACKS)
def test_set_password_ends_the_sessions_signed_in_with_the_old_one(cli, migrated_app, stack):
    make_account("admin")
    client = own_client(migrated_app)
    assert sign_in(client, "admin@example.com").status_code == 302
    assert client.get("/").status_code == 200
    succeeded(manage(cli, "set_password", "--email", "ADMIN@example.com", stack=stack,
                     input=NEW_PASSWORD + "\n"), "Set the password of admin@example.com.\n")
    response = client.get("/")
    assert response.status_code == 302
    assert "/sign-in?next=" in response.headers["Location"]
    assert is_password_of("admin@example.com", NEW_PASSWORD)


def bearer(app, secret):
    """The status of GET /api/users with the API token `secret`."""
    return own_client(app).get("/api/users",
                               headers={"Authorization": "Bearer " + secret}).status_code


@pytest.mark.parametrize("stack", STACKS)
def test_a_token_from_create_token_works_until_revoke_token(cli, migrated_app, stack):
    user_id = make_account("user", password=None).id
    result = manage(cli, "create_token", "--email", "user@example.com", "--name", "reports",
                    stack=stack)
    assert result.returncode == 0, result
    secret = result.stdout.strip()
    assert result.stdout == secret + "\n" and secret.startswith("ut_")
    [(token_id, owner, name, expires_at, revoked_at)] = tokens()
    assert (owner, name, expires_at, revoked_at) == (user_id, "reports", None, None)
    assert result.stderr == ("API token {} of user@example.com, shown only now: keep it "
                             "secret.\n".format(token_id))
    # A token acts with its user's role, whatever their password (none here).
    assert bearer(migrated_app, secret) == 200
    listed = succeeded(manage(cli, "list_tokens", stack=stack))
    assert secret not in listed
    assert listed.splitlines()[1].split()[0:3] == [str(token_id), "user@example.com", "reports"]
    assert listed.splitlines()[1].split()[-1] == "valid"

    succeeded(manage(cli, "revoke_token", str(token_id), stack=stack),
              "Revoked API token {}.\n".format(token_id))
    assert bearer(migrated_app, secret) == 401
    assert tokens()[0][4] is not None


def test_days_make_a_token_expire(cli, migrated_app):
    make_account("admin", password=None)
    revoked, _ = create_token(db.session.get(User, make_account("user", password=None).id),
                              "old")
    revoke_token(revoked)
    result = manage(cli, "create_token", "--email", "admin@example.com", "--days", "3")
    assert result.returncode == 0, result
    secret = result.stdout.strip()
    [_, (token_id, _, name, expires_at, _)] = tokens()
    assert name == "api"
    in_3_days = datetime.datetime.utcnow() + datetime.timedelta(days=3)
    assert abs((expires_at - in_3_days).total_seconds()) < 120
    assert bearer(migrated_app, secret) == 200
    # Three days later, as far as the database knows:
    db.session.execute(text("UPDATE api_tokens SET expires_at = :moment WHERE id = :id"), {
        "moment": datetime.datetime.utcnow() - datetime.timedelta(minutes=1), "id": token_id})
    db.session.commit()
    assert bearer(migrated_app, secret) == 401
    listed = succeeded(manage(cli, "list_tokens")).splitlines()
    assert [line.split()[-1] for line in listed[1:]] == ["revoked", "expired"]
    listed = succeeded(manage(cli, "list_users")).splitlines()
    assert [line.split()[-1] for line in listed[1:]] == ["0", "0"]  # no valid token


@pytest.mark.backends("sqlite")
def test_list_users_shows_every_account_without_secrets(cli, backend):
    make_account("super_user", email="root@example.com", name="Root")
    make_account("user", email="ann@example.com", name="Ann Lee", password=None)
    manage(cli, "create_token", "--email", "root@example.com")
    listed = succeeded(manage(cli, "list_users"))
    lines = listed.splitlines()
    assert lines[0].split() == ["ID", "EMAIL", "NAME", "ROLE", "PASSWORD", "TOKENS"]
    assert [line.split()[1:] for line in lines[1:]] == [
        ["root@example.com", "Root", "super_user", "set", "1"],
        ["ann@example.com", "Ann", "Lee", "user", "none", "0"]]
    assert "$argon2" not in listed


# Every mistake of the account commands: (arguments, standard input, the
# message after "error: "). The accounts there before: root@example.com
# (a super_user with a password).
MISTAKES = {
    "unknown role": (
        ("create_user", "--email", "ada@example.com", "--name", "Ada", "--role", "boss"),
        PASSWORD, "unknown role 'boss': use one of super_user, admin, user"),
    "duplicate email": (
        ("create_user", "--email", "ROOT@example.com", "--name", "Root again"),
        PASSWORD, "a user with email root@example.com already exists: set its password with "
                  "python manage.py set_password --email root@example.com"),
    "malformed email": (
        ("create_user", "--email", "ada.example.com", "--name", "Ada"),
        PASSWORD, "email must look like name@example.com"),
    "empty name": (
        ("create_user", "--email", "ada@example.com", "--name", "  "),
        PASSWORD, "name must not be empty"),
    "empty password": (
        ("create_user", "--email", "ada@example.com", "--name", "Ada"),
        "", "the password is empty: choose one of at least 8 characters"),
    "short password": (
        ("create_user", "--email", "ada@example.com", "--name", "Ada"),
        "1234567", "the password is shorter than 8 characters: choose a longer one"),
    "long password": (
        ("create_user", "--email", "ada@example.com", "--name", "Ada"),
        "x" * 1025, "the password is longer than 1024 characters: choose a shorter one"),
    "set_password of an unknown email": (
        ("set_password", "--email", "nobody@example.com"),
        NEW_PASSWORD, "no user with email nobody@example.com: python manage.py list_users "
                      "shows them"),
    "set_password short": (
        ("set_password", "--email", "root@example.com"),
        "short", "the password is shorter than 8 characters: choose a longer one"),
    "set_password empty": (
        ("set_password", "--email", "root@example.com"),
        "", "the password is empty: choose one of at least 8 characters"),
    "create_token of an unknown email": (
        ("create_token", "--email", "nobody@example.com"),
        "", "no user with email nobody@example.com: python manage.py list_users shows them"),
    "create_token for 0 days": (
        ("create_token", "--email", "root@example.com", "--days", "0"),
        "", "--days must be a whole number of days, 1 or more"),
    "revoke_token of an unknown id": (
        ("revoke_token", "999"),
        "", "no API token with id 999: python manage.py list_tokens shows them"),
}
# The mistakes found by asking the database: on every backend; the others
# are found before it is asked.
DATABASE_MISTAKES = {"duplicate email", "set_password of an unknown email",
                     "create_token of an unknown email", "revoke_token of an unknown id"}


def check_mistake(cli, case):
    arguments, stdin, message = MISTAKES[case]
    make_account("super_user", email="root@example.com")
    before = (users(), tokens())
    refused(manage(cli, *arguments, input=stdin + "\n"), message)
    assert (users(), tokens()) == before


@pytest.mark.parametrize("case", sorted(DATABASE_MISTAKES))
def test_a_mistake_found_in_the_database_is_one_line_and_changes_nothing(cli, case):
    check_mistake(cli, case)


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("case", sorted(set(MISTAKES) - DATABASE_MISTAKES))
def test_a_mistake_in_the_arguments_is_one_line_and_changes_nothing(cli, backend, case):
    check_mistake(cli, case)
