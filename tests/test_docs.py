"""The commands reference (docs/reference/commands.md) against the real
command line: every command and option that `--help` lists is documented
there, and the page documents none that the command line lacks.

The page documents each command in a section whose heading names it,
"### `db upgrade`" (for `python manage.py db upgrade` and `flask db
upgrade`, which take the same options), "### `create_user`" (a command of
manage.py alone), and lists its options in a table whose first column holds
them in backticks (`-d DIRECTORY`, `--directory DIRECTORY`). The help texts
come from `python manage.py ... --help` and `flask ... --help` run as
subprocesses on this test's stack: Flask-Script's argparse help (Flask-Script
or Flask-Script-NG) and click's help are both read.
"""
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support import PROJECT_ROOT, app_environment, assert_ok

COMMANDS_PAGE = PROJECT_ROOT / "docs" / "reference" / "commands.md"
# An option flag: -d, --directory, --no-ipython (not a metavar, not a dash in prose).
FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
# manage.py's help lists subcommands as {init,revision,...}.
ARGPARSE_CHOICES = re.compile(r"\{([\w,-]+)\}")
HEADING = re.compile(r"^#{2,4} `([^`]+)`\s*$")


def help_options(text):
    """The option flags an argparse or click help text lists, without the
    help flag itself (-?, -h or --help)."""
    flags = set()
    for line in text.splitlines():
        if not re.match(r"^ {2}-", line):
            continue
        # The flags end where the description starts, two spaces on.
        names = FLAG.findall(re.split(r"\s{2,}", line.strip(), maxsplit=1)[0])
        if "--help" not in names:
            flags.update(names)
    return flags


def argparse_commands(text):
    """The subcommands an argparse help lists in its {a,b,...} choices."""
    match = ARGPARSE_CHOICES.search(text)
    assert match, text
    return set(match.group(1).split(","))


def click_commands(text):
    """The commands listed under a click help's "Commands:"."""
    listing = text.split("Commands:", 1)[1]
    return set(re.findall(r"^ {2}([\w-]+)", listing, re.MULTILINE))


def documented_commands():
    """{command heading: option flags} of the commands reference page."""
    commands, current = {}, None
    for line in COMMANDS_PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = HEADING.match(line)
            current = heading.group(1) if heading else None
            if current is not None:
                commands[current] = set()
        elif current is not None and line.startswith("| `"):
            first_cell = line.split("|")[1]
            for span in re.findall(r"`([^`]+)`", first_cell):
                commands[current].update(FLAG.findall(span))
    return commands


# Runs the real entry point once per argv in one interpreter (one start-up
# instead of fifty), separating the help texts with a NUL line.
HELP_DRIVER = """
import json, runpy, sys
for argv in json.loads(sys.argv[1]):
    sys.argv = [{program!r}] + argv + ["--help"]
    try:
        {entry}
    except SystemExit:
        pass
    sys.stdout.write("\\0\\n")
    sys.stdout.flush()
"""
ENTRY_POINTS = {
    "manage": ("manage.py", "runpy.run_path('manage.py', run_name='__main__')"),
    "flask": ("flask", "from flask.cli import main; main()"),
}


def help_texts(door, argvs, database_url):
    """The --help output of `python manage.py ARGV` (door "manage") or
    `flask ARGV` (door "flask") for each ARGV, from one subprocess."""
    program, entry = ENTRY_POINTS[door]
    result = assert_ok(subprocess.run(
        [sys.executable, "-c", HELP_DRIVER.format(program=program, entry=entry),
         json.dumps(argvs)],
        cwd=str(PROJECT_ROOT), env=app_environment(database_url, {"FLASK_APP": "app"}),
        capture_output=True, text=True, timeout=300))
    texts = result.stdout.split("\0\n")[:-1]
    assert len(texts) == len(argvs), result.stdout
    return texts


@pytest.fixture(scope="module")
def cli_commands(tmp_path_factory):
    """{documented heading: {door: options from --help}}, for every command
    of manage.py, its db group, and flask's db group and db-* commands."""
    database_url = "sqlite:///{}".format(tmp_path_factory.mktemp("docs") / "help.db")
    with ThreadPoolExecutor(max_workers=2) as pool:
        manage, flask = pool.map(
            lambda door: help_texts(door, [[], ["db"]], database_url), ["manage", "flask"])
    requests = {
        "manage": [[name] for name in sorted(argparse_commands(manage[0]) - {"db"})]
        + [["db", name] for name in sorted(argparse_commands(manage[1]))],
        "flask": [["db", name] for name in sorted(click_commands(flask[1]))]
        + [[name] for name in sorted(click_commands(flask[0])) if name.startswith("db-")],
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        helps = dict(zip(requests, pool.map(
            lambda door: help_texts(door, requests[door], database_url), requests)))
    found = {}
    for door, argvs in requests.items():
        for argv, text in zip(argvs, helps[door]):
            # flask db-check is db check; flask db upgrade is db upgrade.
            name = " ".join(argv).replace("db-", "db ")
            found.setdefault(name, {})[door] = help_options(text)
    return found


def test_every_command_is_documented(cli_commands):
    assert sorted(set(cli_commands) - set(documented_commands())) == []


def test_no_documented_command_is_missing_from_the_cli(cli_commands):
    assert sorted(set(documented_commands()) - set(cli_commands)) == []


def test_every_option_is_documented(cli_commands):
    documented = documented_commands()
    missing = {
        "{} ({})".format(name, door): sorted(options - documented.get(name, set()))
        for name, doors in cli_commands.items()
        for door, options in doors.items()
        if options - documented.get(name, set())
    }
    assert missing == {}


def test_no_documented_option_is_missing_from_the_cli(cli_commands):
    documented = documented_commands()
    extra = {
        name: sorted(options - set().union(*cli_commands[name].values()))
        for name, options in documented.items()
        if name in cli_commands and options - set().union(*cli_commands[name].values())
    }
    assert extra == {}
