"""The two phases of a release: what runs before the deploy (adding columns,
tables, indexes, the expand half of a change) and what runs after it
(removing what the old release still reads and writes: dropped columns and
tables, the contract half of a change), as GitLab's post-deployment
migrations do.

The phases are Alembic's own graph. The revisions of the release's first
phase are the repository's main line, as always. Those of its second phase
are a branch of their own, labelled `post_deploy`, that starts at its own
base; each of its revisions `depends_on` the main-line revision it follows,
so Alembic never applies it before that one:

    main line:    ... -> 3a1f (add display_name) -> 7c2e (add index) -> ...
    post_deploy:  <base> -> 9b4d (drop name, depends on 3a1f) -> ...

`db upgrade` keeps its meaning for the tutorials: everything (a target of
`head` means both lines' heads once a post_deploy branch exists). The phase
setting picks one part:

    db upgrade -x phase=pre-deploy    the main line only, before the deploy
    db upgrade -x phase=post-deploy   everything, after it

(`-x phase=...`, else the MIGRATE_PHASE environment variable; the same
through `flask db upgrade` and `alembic upgrade`.) A project that never
deploys in two steps runs `db upgrade` and never meets the phases.
"""
import os

from alembic.util import CommandError

POST_DEPLOY = "post_deploy"
X_ARGUMENT = "phase"
SETTING = "MIGRATE_PHASE"
BEFORE, AFTER = "pre-deploy", "post-deploy"
# The targets that mean "the newest of everything" to a user.
NEWEST = ("head", "heads")


def is_post_deploy(revision):
    """Whether the Script `revision` belongs to the post-deploy phase."""
    return POST_DEPLOY in revision.branch_labels


def phase_setting(x_arguments):
    """The phase asked for by `-x phase=...` or MIGRATE_PHASE: BEFORE, AFTER
    or None (everything). A value of neither is refused in one line."""
    phase = x_arguments.get(X_ARGUMENT) or os.environ.get(SETTING) or None
    if phase not in (None, BEFORE, AFTER):
        raise CommandError('phase must be "{}" or "{}", not "{}"'.format(BEFORE, AFTER, phase))
    return phase


def upgrade_target(script, destination, phase):
    """What `upgrade` to `destination` means in `phase`, as revision ids
    (a tuple), or None when Alembic's own reading of it holds.

    `head` is everything when the post_deploy branch makes a second head;
    before the deploy, it is the main line's heads only. A phase with any
    other destination is refused: a phase picks its own revisions."""
    if phase is not None and destination not in NEWEST:
        raise CommandError("-x phase={} upgrades to the phase's own heads; it takes no "
                           "revision (not {})".format(phase, destination))
    if destination not in NEWEST:
        return None
    if phase == BEFORE:
        return main_line_heads(script)
    if destination == "head" and len(script.get_heads()) > 1 and post_deploy_heads(script):
        return ("heads",)
    return None


def main_line_heads(script):
    """The heads of the revisions that run before the deploy."""
    return tuple(head for head in script.get_heads()
                 if not is_post_deploy(script.get_revision(head)))


def post_deploy_heads(script):
    """The heads of the post_deploy branch (none before its first revision)."""
    return tuple(head for head in script.get_heads()
                 if is_post_deploy(script.get_revision(head)))


def pending_after_deploy(script, pending):
    """Of the revision ids `pending`, those of the post-deploy phase."""
    return [revision for revision in pending if is_post_deploy(script.get_revision(revision))]


def pending_after_deploy_line(count, upgrade_command):
    """What to say when `count` post-deploy revisions are all that is
    pending; `upgrade_command` runs them (with -x phase=post-deploy)."""
    return '{} post-deploy migration(s) not applied: after the deploy, run "{}"'.format(
        count, upgrade_command)

