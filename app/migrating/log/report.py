"""`db log`: the log, newest first, as a table for people or JSON for scripts."""
import json

COLUMNS = ("revision", "direction", "status", "started (UTC)", "duration", "by", "message")


def status(row):
    """ok, failed or unfinished (a step with no end)."""
    if row.finished_at is None:
        return "unfinished"
    return "ok" if row.success else "failed"


def shown_status(row):
    """The status, and for an unfinished step that counted its operations,
    how many it committed (a rerun goes on from there)."""
    done = steps_done(row)
    if row.finished_at is None and done is not None:
        return "unfinished ({} done)".format(done)
    return status(row)


def steps_done(row):
    """The row's count of operations done, or None (not counted, or a log
    of the previous release read as it is)."""
    return getattr(row, "steps_done", None)


def as_dict(row, database=None, after_deploy=()):
    """One row for --json: times in ISO 8601 (UTC), status spelled out;
    `after_deploy`: the revisions of the post-deploy phase (phases.py)."""
    entry = {"after_deploy": row.revision in after_deploy, "revision": row.revision,
             "message": row.message, "direction": row.direction,
             "status": status(row), "checksum": row.checksum,
             "started_at": _iso(row.started_at), "finished_at": _iso(row.finished_at),
             "duration_ms": row.duration_ms, "database_user": row.database_user,
             "os_user": row.os_user, "host": row.host, "error": row.error,
             "steps_done": steps_done(row)}
    if database is not None:
        entry["database"] = database
    return entry


def as_json(entries):
    return json.dumps(entries, indent=2)


def as_table(rows, after_deploy=()):
    """Lines of a table of `rows` (newest first), with a line per error; the
    message of a revision of `after_deploy` (the post-deploy phase) says so."""
    lines = [[row.revision, row.direction, shown_status(row),
              row.started_at.strftime("%Y-%m-%d %H:%M:%S"), _duration(row.duration_ms),
              _who(row), _message(row, after_deploy)] for row in rows]
    widths = [max(len(cells[i]) for cells in lines + [list(COLUMNS)])
              for i in range(len(COLUMNS) - 1)]
    out = ["  ".join(cell.ljust(width) for cell, width in zip(COLUMNS, widths))
           + "  " + COLUMNS[-1]]
    for row, cells in zip(rows, lines):
        out.append(("  ".join(cell.ljust(width) for cell, width in zip(cells, widths))
                    + "  " + cells[-1]).rstrip())
        if row.error:
            out.append("    error: " + row.error)
    return out


def _message(row, after_deploy):
    message = row.message or ""
    return "[post-deploy] " + message if row.revision in after_deploy else message


def _who(row):
    machine = "@".join(part for part in (row.os_user, row.host) if part)
    return " / ".join(part for part in (row.database_user, machine) if part) or "-"


def _duration(milliseconds):
    if milliseconds is None:
        return "-"
    if milliseconds < 1000:
        return "{} ms".format(milliseconds)
    return "{:.1f} s".format(milliseconds / 1000)


def _iso(moment):
    return None if moment is None else moment.isoformat() + "Z"
