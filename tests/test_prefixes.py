"""A revision named by a prefix of its id where a command takes one:
`db validate --accept` (and `flask db-validate --accept`) as the others."""
import pytest

from tests.support import assert_ok, committed_revisions, error_lines

HEAD = committed_revisions()[-1][0]
FIRST, SECOND = "abcd11111111", "abcd22222222"


@pytest.fixture
def changed(project):
    """A project at two revisions of its own, FIRST and SECOND (ids that
    share the prefix abcd), whose files both changed after they ran."""
    project.add_revision(FIRST, HEAD, "pass")
    project.add_revision(SECOND, FIRST, "pass")
    assert_ok(project.manage("db", "upgrade"))
    project.add_revision(FIRST, HEAD, 'op.execute("SELECT 1")')
    project.add_revision(SECOND, FIRST, 'op.execute("SELECT 2")')
    return project


def validate(project, door, *args):
    if door == "manage.py":
        return project.manage("db", "validate", *args)
    return project.flask("db-validate", *args)


def accepted(project):
    return [row["revision"] for row in project.log() if row["direction"] == "accept"]


@pytest.mark.backends("sqlite", "postgresql")
def test_accept_takes_a_unique_prefix_through_both_doors(changed):
    first = validate(changed, "manage.py", "--accept", "abcd1")
    assert first.returncode == 1  # SECOND still differs
    assert "accepted revision {}: checksum".format(FIRST) in first.stdout
    second = assert_ok(validate(changed, "flask", "--accept", "abcd2"))
    assert "accepted revision {}: checksum".format(SECOND) in second.stdout
    assert accepted(changed) == [FIRST, SECOND]
    assert_ok(changed.manage("db", "upgrade"))


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("door", ["manage.py", "flask"])
@pytest.mark.parametrize("prefix, line", [
    ("abcd", "error: revision abcd is ambiguous: it starts {}, {}; give more of its "
             "characters".format(FIRST, SECOND)),
    ("ffff", "error: no revision starts with ffff: db history lists the revisions, db "
             "validate the changed or missing ones"),
])
def test_an_ambiguous_or_unknown_prefix_is_refused_in_one_line(changed, door, prefix, line):
    result = validate(changed, door, "--accept", prefix)
    assert result.returncode == 1
    assert error_lines(result.stderr) == [line]
    assert accepted(changed) == []
