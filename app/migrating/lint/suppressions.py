"""Suppressions: a revision silences a rule for itself with a comment that
says why, anywhere in its file:

    # lint: allow drop-column — the column is unused since 2024-03

(the reason after an em dash, `--` or ` - `). A suppression without a reason
silences nothing and is itself an error; one that names no known rule is a
warning. A built-in rule and the squawk rule it matches are one rule here:
`allow drop-column` also silences squawk's ban-drop-column, and the reverse.
"""
import io
import re
import tokenize

from . import rules, squawk
from .findings import ERROR, WARNING, Finding

MARK = re.compile(r"#\s*lint:\s*allow\b(.*)$")
# The mark anywhere in a file's bytes: a file without it has no mark to
# find, and is not tokenized (a third of db migrate's lint on 100 tables).
MARK_ANYWHERE = re.compile(rb"#\s*lint:\s*allow\b")
KNOWN_RULES = frozenset(rules.RULES) | squawk.RULES
RULES_AND_REASON = re.compile(
    r"^\s*(?P<rules>[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\s*(?:(?:—|–|--|\s-)\s*(?P<reason>.*))?$")


class Suppressions:
    """The rules a revision's file allows, and the findings its marks draw."""

    def __init__(self, rehearsal):
        self.allowed = set()
        self.findings = []
        for line, comment in marked_comments(rehearsal.path):
            mark = MARK.search(comment)
            if mark is None:
                continue
            parsed = RULES_AND_REASON.match(mark.group(1))
            if parsed is None or not (parsed.group("reason") or "").strip(" .—–-"):
                self.findings.append(Finding(
                    rehearsal, line, "suppression-without-reason", ERROR,
                    "a lint suppression must say why the rule does not apply here, "
                    "so it silences nothing",
                    "write it as `# lint: allow <rule> — <reason>`"))
                continue
            for rule in re.split(r"\s*,\s*", parsed.group("rules")):
                if rule not in KNOWN_RULES:
                    self.findings.append(Finding(
                        rehearsal, line, "suppression-of-unknown-rule", WARNING,
                        "`{}` is not a rule of db lint, so this silences nothing".format(rule),
                        "use a rule name that db lint prints"))
                self.allowed.update(same_rule(rule))

    def allow(self, finding):
        return finding.rule in self.allowed


def same_rule(name):
    """`name` and the names it goes by: a built-in rule and the squawk rules
    it matches are one rule to a suppression."""
    names = {name}
    for built_in, squawk_names in rules.SQUAWK_NAMES.items():
        if name == built_in or name in squawk_names:
            names.add(built_in)
            names.update(squawk_names)
    return names


def marked_comments(path):
    """(line, text) of each comment in the Python file at `path`, when the
    file holds a mark anywhere (otherwise none can be one)."""
    with open(path, "rb") as source:
        text = source.read()
    if MARK_ANYWHERE.search(text) is None:
        return []
    try:
        tokens = list(tokenize.tokenize(io.BytesIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    return [(token.start[0], token.string) for token in tokens
            if token.type == tokenize.COMMENT]
