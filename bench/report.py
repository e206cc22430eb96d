"""The results as a Markdown table and a PNG plot."""
from bench import api_load, autogenerate, big_tables, cli_latency, lint, long_history
from bench import expand_contract as expand
from bench import writes_during_upgrade as writes


def seconds(value):
    return "{:.2f} s".format(value) if value >= 1 else "{:.0f} ms".format(value * 1000)


def verdict(met):
    if met is None:
        return "not measured"
    return "met" if met else "**missed**"


def targets(results):
    """[(target, measured, met)] for the README and the closing lines, for
    the sections in `results`."""
    rows = []
    for key, section_targets in TARGETS:
        if key in results:
            rows += section_targets(results[key])
    return rows


def cli_targets(cli):
    worst = max(cli[label]["ratio"] for label in
                ("db current", "db heads", "db upgrade (at head)"))
    return [("manage.py at most {}x raw alembic".format(cli_latency.TARGET_RATIO),
             "{:.2f}x at worst (the imports alone: {:.2f}x)".format(
                 worst, cli["imports only (the floor)"]["ratio"]),
             worst <= cli_latency.TARGET_RATIO)]


def tutorial_targets(results):
    rows = []
    for label, row in tutorial_rows(results):
        if row["target"] is not None:
            rows.append(("{} at most {}x {}".format(label, row["target"], against(label)),
                         "{:.3f}x".format(row["ratio"]), row["ratio"] <= row["target"]))
    return rows


def tutorial_rows(results):
    """[(label, row)] of the tutorial section, db migrate once per backend."""
    return (list(results["commands"].items())
            + [("{} db migrate".format(backend), row)
               for backend, row in results["migrate"].items()])


def against(label):
    return ("db current here" if label.startswith("db validate")
            else "the tutorial's one-file app")


def autogenerate_targets(results):
    return [("{} db migrate, {} tables with enums, at most {}x raw alembic "
             "revision --autogenerate".format(backend, autogenerate.TABLES,
                                              autogenerate.TARGET_RATIO),
             "{:.2f}x ({:.2f}x without the Flask app's start-up)".format(
                 row["ratio"], autogenerate.without_startup(row)),
             row["ratio"] <= autogenerate.TARGET_RATIO)
            for backend, row in results.items()]


def history_targets(history):
    longest = history["upgrades"][history["longest"]]
    fit = history["fits"]["seconds"]
    return [("db upgrade of {} revisions with the log and validation at most {}x raw "
             "alembic".format(history["longest"], long_history.TARGET_RATIO),
             "{:.2f}x".format(longest["ratio"]),
             longest["ratio"] <= long_history.TARGET_RATIO),
            ("long histories: cost linear in the number of revisions",
             "{:.1f} ms per revision, off a straight line by {:.1%} at most".format(
                 fit["per_revision"] * 1000, fit["worst_residual"]),
             fit["worst_residual"] <= 0.1)]


def lint_targets(results):
    return [("{} db lint --all over {} revisions at most {}x db upgrade --sql".format(
                backend, row["revisions"], lint.TARGET_RATIO),
             "{:.2f}x".format(row["ratio"]), row["ratio"] <= lint.TARGET_RATIO)
            for backend, row in results.items()]


def tables_targets(tables):
    rows = []
    for backend, sizes in tables.items():
        if big_tables.TARGET_ROWS in sizes:
            ratio = sizes[big_tables.TARGET_ROWS]["ratio"]
            rows.append(("{} upgrade at most {}x the floor at {:,} rows".format(
                            backend, big_tables.TARGET_RATIO, big_tables.TARGET_ROWS),
                         "{:.2f}x".format(ratio), ratio <= big_tables.TARGET_RATIO))
        else:
            rows.append(("{} upgrade at most {}x the floor at {:,} rows".format(
                            backend, big_tables.TARGET_RATIO, big_tables.TARGET_ROWS),
                         "a quick run stops at {:,} rows".format(max(sizes)), None))
    memory = max(row["max_rss_mib"] for sizes in tables.values() for row in sizes.values())
    rows.append(("upgrade peak memory under {} MiB whatever the rows".format(
                    big_tables.TARGET_MEMORY_MIB),
                 "{:.0f} MiB at most".format(memory), memory < big_tables.TARGET_MEMORY_MIB))
    gaps = [row["longest_progress_gap"] for sizes in tables.values()
            for row in sizes.values() if row["longest_progress_gap"] is not None]
    rows.append(("backfill progress at least every few (5) seconds",
                 "longest gap {}".format(seconds(max(gaps)) if gaps else "none (too quick)"),
                 not gaps or max(gaps) <= 5))
    return rows


def api_targets(api):
    flatness = max(sizes["deep"]["median_ms"] / sizes["first"]["median_ms"]
                   for sizes in api["latency"].values())
    html = max(sizes["html deep"]["median_ms"] / sizes["html first"]["median_ms"]
               for sizes in api["latency"].values())
    return [("API deep page as fast as the first (at most {}x)".format(
                api_load.TARGET_FLATNESS),
             "{:.2f}x at worst".format(flatness), flatness <= api_load.TARGET_FLATNESS),
            ("HTML deep page as fast as the first (at most {}x)".format(
                api_load.TARGET_FLATNESS),
             "{:.2f}x at worst".format(html), html <= api_load.TARGET_FLATNESS)]


def longest_write_targets(section, longest, sizes):
    """The rows of one server's longest-write targets in `section` (writes
    during db upgrade, two phases): under TARGET_SECONDS at TARGET_ROWS, and
    the longest write and the longest lock wait flat up to there. `longest`:
    how the section names the longest write."""
    target = "{}: {} under {} at {:,} rows".format(
        section, longest, seconds(writes.TARGET_SECONDS), writes.TARGET_ROWS)
    growth = "{}: {} does not grow from {:,} to {:,} rows".format(
        section, longest, min(sizes), writes.TARGET_ROWS)
    lock_growth = growth.replace(longest + " does not grow",
                                 "the longest wait for a lock does not grow")
    if writes.TARGET_ROWS not in sizes:
        stop = "a quick run stops at {:,} rows".format(max(sizes))
        return [(target, stop, None), (growth, stop, None)]
    worst = max(((by_side["ours"]["longest_write"], change)
                 for change, by_side in sizes[writes.TARGET_ROWS].items()
                 if "longest_write" in by_side.get("ours", {})), default=None)
    rows = [(target, "worst {} ({})".format(seconds(worst[0]), worst[1])
             if worst else "not measured",
             worst[0] < writes.TARGET_SECONDS if worst else None)]
    for figure, what in (("longest_write", growth), ("longest_lock_wait", lock_growth)):
        grown = writes.grown(sizes, figure)
        rows.append((what, "grows: " + ", ".join(
            "{} ({} to {})".format(change, seconds(before), seconds(after))
            for change, before, after in grown) if grown else "flat for every change",
            not grown))
    return rows


def writes_targets(results):
    """The targets of writes during db upgrade, on our side (plain
    Flask-Migrate is the reference), except the lint verdicts: every one
    must match its stall."""
    if not results:
        return [("writes during db upgrade", "not measured: no PostgreSQL or MariaDB server "
                 "answered", None)]
    rows = []
    for backend, sizes in results.items():
        rows += longest_write_targets(backend + " writes during db upgrade", "the longest",
                                      sizes)
    ours = [figures for *_, figures in writes.cases(results, ("ours",))]
    failed = sum(figures.get("failed_writes", 0) for figures in ours)
    lost = sum(figures.get("rows_lost", 0) for figures in ours)
    rows.append(("writes during db upgrade: none fails, no row lost",
                 "{} failed writes, {} rows lost".format(failed, lost),
                 failed == 0 and lost == 0))
    broken = sum(figures.get("upgrade_error") is not None or figures.get("check_clean") is False
                 or figures.get("down_up") not in (None, "ok") or "problem" in figures
                 for figures in ours)
    rows.append(("each upgrade works, db check clean after it, downgrade -1 and upgrade work",
                 "{} of {} cases fail one of these".format(broken, len(ours)), broken == 0))
    verdicts = [figures["lint_agrees"] for *_, figures in writes.cases(results)
                if figures.get("lint_agrees") is not None]
    rows.append(("every db lint verdict matches the stall (an error exactly where a write "
                 "took {} or more, or the longest wait for a lock grew with the table), ours and "
                 "plain".format(seconds(writes.TARGET_SECONDS)),
                 "{} of {} agree, at {:,} rows".format(sum(verdicts), len(verdicts), max(
                     rows_ for sizes in results.values() for rows_ in sizes))
                 if verdicts else "judged on a full run (two sizes)",
                 all(verdicts) if verdicts else None))
    return rows


def expand_targets(measured):
    """The targets of the two phases under both releases' writes, on our
    side, except the lint verdicts (both sides)."""
    results = measured["cases"]
    if not results:
        return [("two phases under writes", "not measured: no PostgreSQL or MariaDB server "
                 "answered", None)]
    rows = []
    for backend, sizes in results.items():
        rows += longest_write_targets(backend + " two phases", "the longest write", sizes)
    ours = list(writes.cases(results, ("ours",)))
    failed = {release: [(backend, rows_, change, figures["failed_writes"][release])
                        for backend, rows_, change, _, figures in ours
                        if figures.get("failed_writes", {}).get(release)]
              for release in expand.RELEASES}
    rows.append(("two phases: no failed write of the old release or the new", "; ".join(
        "{}: {}".format(release, ", ".join("{} {} {:,}: {}".format(b, c, r, n)
                                           for b, r, c, n in found) or "0")
        for release, found in failed.items()), not any(failed.values())))
    lost = sum(figures.get("rows_lost", 0) for *_, figures in ours)
    changed = sum(figures.get("values_changed", 0) for *_, figures in ours)
    rows.append(("two phases: no row lost, no value changed",
                 "{} rows lost, {} values changed".format(lost, changed),
                 lost == 0 and changed == 0))
    broken = [(backend, rows_, change) for backend, rows_, change, _, figures in ours
              if figures.get("upgrade_error") is not None or "problem" in figures
              or figures.get("check_clean") is not True or figures.get("down_up") != "ok"]
    rows.append(("two phases: each works, db check clean after the post-deploy phase, "
                 "downgrade and upgrade again work",
                 "{} of {} cases fail one of these{}".format(
                     len(broken), len(ours), ": " + ", ".join(
                         "{} {} {:,}".format(b, c, r) for b, r, c in broken) if broken else ""),
                 not broken))
    verdicts = [figures["lint_agrees"] for *_, figures in writes.cases(results)
                if figures.get("lint_agrees") is not None]
    rows.append(("two phases: every db lint verdict matches the stall, ours and plain",
                 "{} of {} agree, at {:,} rows".format(sum(verdicts), len(verdicts), max(
                     rows_ for sizes in results.values() for rows_ in sizes))
                 if verdicts else "judged on a full run (two sizes)",
                 all(verdicts) if verdicts else None))
    return rows


TARGETS = (("cli", cli_targets), ("tutorial", tutorial_targets),
           ("autogenerate", autogenerate_targets), ("history", history_targets),
           ("lint", lint_targets), ("tables", tables_targets), ("api", api_targets),
           ("writes", writes_targets), ("expand", expand_targets))


def markdown(results, title, plot_name):
    lines = ["# " + title, ""]
    for key, value in results["about"].items():
        lines.append("- {}: {}".format(key, value))
    lines += ["", "![plot]({})".format(plot_name), "", "## Targets", "",
              "| target | measured | |", "| --- | --- | --- |"]
    lines += ["| {} | {} | {} |".format(target, measured, verdict(met))
              for target, measured, met in targets(results)]
    for key, section_lines in SECTIONS:
        if key in results:
            lines += section_lines(results[key])
    lines.append("")
    return "\n".join(lines)


def cli_lines(cli):
    lines = ["", "## 1. CLI latency (SQLite, database at head)", "",
             "| command | manage.py | raw alembic | ratio |", "| --- | --- | --- | --- |"]
    for label, row in cli.items():
        lines.append("| {} | {} | {} | {:.2f}x |".format(
            label, seconds(row["seconds"]), seconds(row["alembic"]), row["ratio"]))
    return lines


def tutorial_lines(results):
    revisions = next(iter(results["commands"].values()))["revisions"]
    lines = ["", "Each db command against the same command of the Flask-Migrate tutorial's "
             "one-file app (stock env.py, no safety net; same door, database and versions/; "
             "SQLite and {} revisions unless a database is named; db validate against db "
             "current here):".format(revisions), "",
             "| command | here | tutorial's app | ratio | target |",
             "| --- | --- | --- | --- | --- |"]
    for label, row in tutorial_rows(results):
        lines.append("| {} | {} | {} | {:.3f}x | {} |".format(
            label, seconds(row["seconds"]), seconds(row["tutorial"]), row["ratio"],
            "{}x".format(row["target"]) if row["target"] else "-"))
    for length, row in results["upgrades"].items():
        lines.append("| db upgrade from base, {} revisions | {} | {} | {:.3f}x | - |".format(
            length, seconds(row["seconds"]), seconds(row["tutorial"]), row["ratio"]))
    return lines


def autogenerate_lines(results):
    lines = ["", "`db migrate` against raw `alembic revision --autogenerate` (a plain "
             "env, no Flask) writing the same revision: {} new tables, each with an enum "
             "and a foreign key, from an empty database:".format(autogenerate.TABLES), "",
             "| database | db migrate | raw alembic | ratio | raw alembic + "
             "alembic-postgresql-enum | Flask start-up (db heads - alembic heads) "
             "| ratio without it |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for backend, row in results.items():
        lines.append("| {} | {} | {} | {:.2f}x | {} | {} | {:.2f}x |".format(
            backend, seconds(row["seconds"]), seconds(row["alembic"]), row["ratio"],
            seconds(row["with_library"]) if "with_library" in row else "-",
            seconds(row["startup"]), autogenerate.without_startup(row)))
    return lines


def history_lines(history):
    lines = ["", "## 2. A long history (generated revisions, SQLite)", "",
             "db upgrade writes a row of the migration log per revision, with the "
             "revision's checksum; at head it validates every applied revision.", "",
             "| revisions | db upgrade from base | raw alembic | ratio |",
             "| --- | --- | --- | --- |"]
    for length, row in history["upgrades"].items():
        lines.append("| {} | {} | {} | {:.2f}x |".format(
            length, seconds(row["seconds"]), seconds(row["alembic"]), row["ratio"]))
    ours, reference = history["fits"]["seconds"], history["fits"]["alembic"]
    lines += ["", "Per revision (least-squares slope): manage.py {:.2f} ms, raw alembic "
              "{:.2f} ms; start-up (intercept): {} and {}.".format(
                  ours["per_revision"] * 1000, reference["per_revision"] * 1000,
                  seconds(ours["intercept"]), seconds(reference["intercept"])), "",
              "| at {} revisions | manage.py | raw alembic | ratio |".format(history["longest"]),
              "| --- | --- | --- | --- |"]
    for label, row in history["reads"].items():
        lines.append("| {} | {} | {} | {:.2f}x |".format(
            label, seconds(row["seconds"]), seconds(row["alembic"]), row["ratio"]))
    return lines


def lint_lines(results):
    lines = ["", "## 2b. db lint over the long history", "",
             "db lint --all rehearses every revision offline, runs the built-in rules "
             "and, on PostgreSQL, squawk; db upgrade --sql renders the same revisions.", "",
             "| database | revisions | db lint --all | db upgrade --sql | ratio |",
             "| --- | --- | --- | --- | --- |"]
    for backend, row in results.items():
        lines.append("| {} | {} | {} | {} | {:.2f}x |".format(
            backend, row["revisions"], seconds(row["seconds"]), seconds(row["sql"]),
            row["ratio"]))
    return lines


def tables_lines(tables):
    lines = ["", "## 3. Big tables: db upgrade from revision 1 to head", "",
             "The floor is the same DDL and DML sent through the database driver alone.", "",
             "| database | rows | db upgrade | floor | ratio | peak memory | progress reports "
             "(longest gap) |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for backend, sizes in tables.items():
        for rows, row in sizes.items():
            gap = row["longest_progress_gap"]
            lines.append("| {} | {:,} | {} | {} | {:.2f}x | {:.0f} MiB | {:.0f} ({}) |".format(
                backend, rows, seconds(row["seconds"]), seconds(row["floor"]), row["ratio"],
                row["max_rss_mib"], row["progress_reports"],
                seconds(gap) if gap is not None else "-"))
    return lines


def api_lines(api):
    lines = ["", "## 4. The API and the HTML page (SQLite, gunicorn with 2 workers)", "",
             "| users | page | first page: median / p95 | deep page: median / p95 "
             "| deep / first |", "| --- | --- | --- | --- | --- |"]
    for users, pages in api["latency"].items():
        for label, first, deep in (("API", "first", "deep"),
                                   ("HTML", "html first", "html deep")):
            lines.append("| {:,} | {} | {:.1f} / {:.1f} ms | {:.1f} / {:.1f} ms | {:.2f}x |".format(
                users, label, pages[first]["median_ms"], pages[first]["p95_ms"],
                pages[deep]["median_ms"], pages[deep]["p95_ms"],
                pages[deep]["median_ms"] / pages[first]["median_ms"]))
    reference = api["throughput"]["runserver"]
    lines += ["", "Requests per second, first page, {:,} users, 8 client threads on the same "
              "machine:".format(api["throughput_users"]), "",
              "| server | requests/s | ratio to runserver |", "| --- | --- | --- |"]
    for server, rate in api["throughput"].items():
        lines.append("| {} | {:.0f} | {:.2f}x |".format(server, rate, rate / reference))
    return lines


def writes_lines(results):
    lines = ["", "## 5. Writes during db upgrade", "",
             "Two writers, each on its own autocommit connection, alternate an INSERT of a "
             "new user and an UPDATE of a random one, a write every {:.0f} ms each, while "
             "`db upgrade` applies the revision `db migrate` wrote, unedited, for a change "
             "of the models. *ours*: this project; *plain*: the same app with Flask-Migrate's "
             "own env.py and `Migrate(compare_type=True, render_as_batch=True)`. Longest "
             "write: the longest single write that overlapped the upgrade (p99 in "
             "brackets); lock wait: the longest time a writer was seen waiting for a lock "
             "(the server asked every {:.0f} ms), and on PostgreSQL what else the writers "
             "waited for most; upgrade: the wall time of `db upgrade`, start-up included; "
             "db lint: our verdict on the revision (both sides); agrees, at the largest "
             "size: lint says error exactly where the change blocks the writes, that is a "
             "write took {} or more, or the longest lock wait grew more than {:g}x from the "
             "smallest size and past {} (a statement that holds writes while it reads every "
             "row holds them ten times longer on ten times the rows); rows lost: the "
             "loaded rows plus the inserts that succeeded, less the rows the table holds. "
             "One upgrade per case.".format(
                 writes.INTERVAL * 1000, writes.WATCH_INTERVAL * 1000,
                 seconds(writes.TARGET_SECONDS), writes.GROWTH, seconds(writes.NOISE_SECONDS)),
             ""]
    lines += ["- {}: {}".format(change.name, change.label) for change in writes.CHANGES]
    lines += ["", "| database | rows | change | side | wrote | longest write (p99) | lock "
              "wait | failed writes | upgrade | db lint | agrees | db check | downgrade -1, "
              "upgrade | rows lost |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- "
              "| --- | --- | --- | --- | --- |"]
    notes = []
    for backend, rows, change, side, figures in writes.cases(results):
        where = "{} {:,} {} {}".format(backend, rows, change, side)
        if "problem" in figures:
            lines.append("| {} | {:,} | {} | {} | {} | - | - | - | - | - | - | - | - | - |".format(
                backend, rows, change, side, figures["problem"]))
            continue
        if figures["upgrade_error"]:
            notes.append("{}: db upgrade: {}".format(where, figures["upgrade_error"]))
        if figures["down_up"] not in (None, "ok"):
            notes.append("{}: {}".format(where, figures["down_up"]))
        if figures["first_failure"]:
            notes.append("{}: first failed write: {}".format(where, figures["first_failure"]))
        lines.append("| {} | {:,} | {} | {} | {} | {} ({}) | {} | {} | {}{} | {} | {} | {} "
                     "| {} | {} |".format(
                         backend, rows, change, side, ", ".join(figures["wrote"]),
                         seconds(figures["longest_write"]), seconds(figures["p99_write"]),
                         lock_wait_cell(figures), figures["failed_writes"],
                         seconds(figures["upgrade_seconds"]),
                         ", **failed**" if figures["upgrade_error"] else "",
                         lint_cell(figures["lint"]),
                         {True: "yes", False: "**no**", None: "-"}[
                             figures.get("lint_agrees")],
                         {True: "clean", False: "**differs**", None: "-"}[figures["check_clean"]],
                         {None: "-", "ok": "ok"}.get(figures["down_up"], "**failed**"),
                         figures["rows_lost"]))
    if notes:
        lines += ["", "What failed:", ""] + ["- " + note for note in notes]
    return lines


def lock_wait_cell(figures):
    """The longest lock wait of a case and, on PostgreSQL, what else its
    writers waited for most."""
    waits = figures.get("other_waits") or {}
    return seconds(figures["longest_lock_wait"]) + (
        " ({})".format(next(iter(waits))) if waits else "")


def lint_cell(lint):
    """db lint's verdict in a table cell: its errors, else its warnings, else ok."""
    if "problem" in lint:
        return "exit {}: {}".format(lint["exit"], lint["problem"])
    if lint["errors"]:
        return "error: " + ", ".join(lint["errors"])
    if lint["warnings"]:
        return "warning: " + ", ".join(lint["warnings"])
    return "ok"


def expand_lines(measured):
    results, idle = measured["cases"], measured["idle"]
    lines = ["", "## 6. Writes of two releases during the release's two phases", "",
             "Ours as a deploy runs it: `db upgrade -x phase=pre-deploy` while two writers of "
             "the old release write (each on its own autocommit connection, an INSERT of a new "
             "user and an UPDATE of `name` of a loaded one in turn, a write every {:.0f} ms "
             "each), the deploy (the writers switch to the new release's SQL: `display_name` "
             "after the rename), then `db upgrade -x phase=post-deploy` while they write. "
             "*plain*: Flask-Migrate's own env.py and `Migrate(compare_type=True, "
             "render_as_batch=True)`, one `db upgrade` while the old release writes, then "
             "the deploy. Longest write (p99): over both upgrades' windows; failed writes: of "
             "the old release / of the new, from the start of the first upgrade to {:.1f} s "
             "after the last (plain: after its one upgrade, the old release writes on for "
             "{:.1f} s before the deploy, as between a migration and a deploy); lock wait: "
             "the longest a writer was seen waiting for a lock (asked every {:.0f} ms); "
             "upgrade: pre-deploy + post-deploy phase (plain: its one upgrade), start-up "
             "included; lost / changed: rows lost (loaded + inserted - held) and values "
             "changed (a checksum of (id, name or display_name, email, role) of the loaded "
             "rows no writer updates, before and after, and each updated row against the "
             "last value its writer wrote); db check after the post-deploy phase; downgrade: "
             "`db downgrade` once per revision written, then `db upgrade`, every row kept; "
             "agrees, at the largest size: lint says error exactly where the change blocks "
             "the writes (as in section 5: a write took {} or more, or the longest lock wait "
             "grew with the table) or makes a write of either release fail. One run per "
             "case.".format(
                 writes.INTERVAL * 1000, writes.SETTLE, writes.SETTLE,
                 writes.WATCH_INTERVAL * 1000, seconds(expand.TARGET_SECONDS)), ""]
    changes = [expand.ALL] if any("all four" in changes for sizes in results.values()
                                  for changes in sizes.values()) else expand.CHANGES
    lines += ["- {}: {}".format(change.name, change.label) for change in changes]
    notes, stalls = [], []
    for backend, sizes in results.items():
        lines += ["", "### " + backend.replace("postgresql", "PostgreSQL").replace(
                      "mysql", "MariaDB"), "",
                  "| rows | change | side | wrote | longest write (p99) | failed writes old / "
                  "new release | lock wait | upgrade | rows lost / values changed | db check "
                  "| downgrade | db lint | agrees |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
                  "| --- |"]
        for _, rows, change, side, figures in writes.cases({backend: sizes}):
            where = "{} {:,} {} {}".format(backend, rows, change, side)
            if "problem" in figures:
                lines.append("| {:,} | {} | {} | {} | - | - | - | - | - | - | - | - | - "
                             "|".format(rows, change, side, figures["problem"]))
                continue
            if figures["upgrade_error"]:
                notes.append("{}: db upgrade: {}".format(where, figures["upgrade_error"]))
            if figures["down_up"] not in (None, "ok"):
                notes.append("{}: {}".format(where, figures["down_up"]))
            for release, error in figures["first_failure"].items():
                notes.append("{}: first failed write of the {} release: {}".format(
                    where, release, error))
            wrote = "; ".join(("pre: " if number == 0 else "post: ") + ", ".join(names)
                              for number, names in enumerate(figures["wrote"])) \
                if len(figures["wrote"]) > 1 else ", ".join(figures["wrote"][0])
            if figures["how"] == "by hand":
                wrote += " (by hand)"
            lines.append("| {:,} | {} | {} | {} | {} ({}) | {} / {} | {} | {}{} | {} / {} | {} "
                         "| {} | {} | {} |".format(
                             rows, change, side, wrote, seconds(figures["longest_write"]),
                             seconds(figures["p99_write"]), figures["failed_writes"]["old"],
                             figures["failed_writes"]["new"], lock_wait_cell(figures),
                             " + ".join(seconds(s) for s in figures["upgrade_seconds"]),
                             ", **failed**" if figures["upgrade_error"] else "",
                             figures["rows_lost"], figures["values_changed"],
                             {True: "clean", False: "**differs**", None: "-"}[
                                 figures["check_clean"]],
                             {None: "-", "ok": "ok"}.get(figures["down_up"], "**failed**"),
                             lint_cell(figures["lint"]),
                             {True: "yes", False: "**no**", None: "-"}[
                                 figures.get("lint_agrees")]))
            at = figures.get("longest_during")
            if at and figures["longest_write"] >= expand.TARGET_SECONDS / 2:
                stalls.append("{}: {} ({} release) in the {} phase, +{:.2f} s into it; the "
                              "upgrade's last line by then: `{}`".format(
                                  where, seconds(at["seconds"]), at["release"], at["phase"],
                                  at["offset"], at["doing"] or "-"))
        if idle.get(backend):
            lines += ["", "The writers with no upgrade running ({} s each, same machine, "
                      "same load): {}.".format(expand.IDLE_SECONDS, "; ".join(
                          "{:,} rows: longest write {} (p99 {}), lock wait {}".format(
                              rows, seconds(figures["longest_write"]),
                              seconds(figures["p99_write"]),
                              seconds(figures["longest_lock_wait"]))
                          for rows, figures in idle[backend].items()))]
    if stalls:
        lines += ["", "Where each longest write of {} or more fell:".format(
            seconds(expand.TARGET_SECONDS / 2)), ""] + ["- " + stall for stall in stalls]
    if notes:
        lines += ["", "What failed:", ""] + ["- " + note for note in notes]
    return lines


SECTIONS = (("cli", cli_lines), ("tutorial", tutorial_lines),
            ("autogenerate", autogenerate_lines), ("history", history_lines),
            ("lint", lint_lines), ("tables", tables_lines), ("api", api_lines),
            ("writes", writes_lines), ("expand", expand_lines))


def plot(results, path):
    """One panel per section of `results` that has one: two a row, a panel
    left alone taking the row's width."""
    # matplotlib is imported here, not before: the benchmark process stays
    # small while it measures.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(key, draw) for key, draw in PANELS if key in results]
    rows = max(1, (len(panels) + 1) // 2)
    figure = plt.figure(figsize=(12, 4.25 * rows))
    figure.suptitle("manage.py db against raw alembic, the database driver and "
                    "plain Flask-Migrate")
    grid = figure.add_gridspec(rows, 2)
    for index, (key, draw) in enumerate(panels):
        row, column = divmod(index, 2)
        alone = index == len(panels) - 1 and column == 0
        draw(figure.add_subplot(grid[row, :] if alone else grid[row, column]), results[key])
    if not panels:
        ax = figure.add_subplot(grid[0, :])
        ax.text(0.5, 0.5, "no plot for these sections", ha="center", va="center")
        ax.set_axis_off()
    figure.tight_layout(rect=(0, 0, 1, 0.97))  # the rest is the title's
    figure.savefig(path, dpi=90)
    plt.close(figure)


def cli_panel(ax, cli):
    grouped_bars(ax, list(cli), ("raw alembic", [row["alembic"] for row in cli.values()]),
                 ("ours", [row["seconds"] for row in cli.values()]))
    ax.set_xticklabels(list(cli), rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("seconds (median)")
    ax.set_title("1. CLI latency")


def history_panel(ax, history):
    upgrades = history["upgrades"]
    lengths = list(upgrades)
    ax.plot(lengths, [upgrades[n]["seconds"] for n in lengths], "o-",
            label="manage.py db upgrade")
    ax.plot(lengths, [upgrades[n]["alembic"] for n in lengths], "s--", label="alembic upgrade")
    ax.set_xlabel("revisions")
    ax.set_ylabel("seconds (median)")
    ax.set_title("2. Upgrade from base through a long history")
    ax.legend(fontsize=8)


def tables_panel(ax, tables):
    for backend, sizes in tables.items():
        rows = list(sizes)
        line, = ax.plot(rows, [sizes[n]["seconds"] for n in rows], "o-", label=backend)
        ax.plot(rows, [sizes[n]["floor"] for n in rows], "x:", color=line.get_color(),
                label=backend + " floor")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows")
    ax.set_ylabel("seconds (median)")
    ax.set_title("3. db upgrade over a big table, and its floor")
    ax.legend(fontsize=7)


def api_panel(ax, api):
    latency = api["latency"]
    grouped_bars(ax, ["{:,} users".format(n) for n in latency],
                 ("first page", [row["first"]["median_ms"] for row in latency.values()]),
                 ("deep page (after=)", [row["deep"]["median_ms"] for row in latency.values()]))
    ax.set_ylabel("ms (median)")
    ax.set_title("4. GET /api/users?limit=50 under gunicorn")


def writes_panel(ax, results):
    """The longest write during each change's upgrade at the largest size,
    per database and side, against the target."""
    if not results:
        ax.text(0.5, 0.5, "5. writes during db upgrade: no PostgreSQL or MariaDB server "
                "answered", ha="center", va="center")
        ax.set_axis_off()
        return
    changes = [change.name for change in writes.CHANGES]
    series = []
    for backend, sizes in results.items():
        rows = max(sizes)
        for side in writes.SIDES:
            series.append(("{} {} ({:,} rows)".format(backend, side, rows), [
                sizes[rows][change][side].get("longest_write", float("nan"))
                for change in changes]))
    grouped_bars(ax, changes, *series)
    ax.axhline(writes.TARGET_SECONDS, color="black", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    ax.set_ylabel("longest write, seconds")
    ax.set_title("5. The longest write during db upgrade (dotted: the {} target)".format(
        seconds(writes.TARGET_SECONDS)))


def expand_panel(ax, measured):
    """The longest write over the two phases of each change at the largest
    size, per database and side, against the target."""
    results = measured["cases"]
    if not results:
        ax.text(0.5, 0.5, "6. two phases: no PostgreSQL or MariaDB server answered",
                ha="center", va="center")
        ax.set_axis_off()
        return
    changes = list(dict.fromkeys(change for sizes in results.values()
                                 for changes in sizes.values() for change in changes))
    series = []
    for backend, sizes in results.items():
        rows = max(sizes)
        for side in writes.SIDES:
            if any(side in sizes[rows].get(change, {}) for change in changes):
                series.append(("{} {} ({:,} rows)".format(backend, side, rows), [
                    sizes[rows].get(change, {}).get(side, {}).get("longest_write",
                                                                  float("nan"))
                    for change in changes]))
    grouped_bars(ax, changes, *series)
    ax.axhline(expand.TARGET_SECONDS, color="black", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    ax.set_ylabel("longest write, seconds")
    ax.set_title("6. The longest write over the two phases (dotted: the {} target)".format(
        seconds(expand.TARGET_SECONDS)))


def tutorial_panel(ax, tutorial):
    """Each command's ratio to the tutorial's app (db validate: to db current
    here), a bar each, with its target where it has one."""
    rows = tutorial_rows(tutorial)
    labels = [label for label, _ in rows]
    positions = range(len(rows))
    ax.bar(positions, [row["ratio"] for _, row in rows], color="tab:blue")
    for position, (_, row) in zip(positions, rows):
        if row["target"] is not None:
            ax.hlines(row["target"], position - 0.4, position + 0.4, colors="tab:red")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xticks(list(positions))
    ax.set_xticklabels(labels, rotation=25, ha="right", fontsize=7)
    ax.set_ylim(bottom=0.8)
    ax.set_ylabel("ratio of the medians")
    ax.set_title("7. Each db command against the tutorial's app (red: the target)")


PANELS = (("cli", cli_panel), ("history", history_panel), ("tables", tables_panel),
          ("api", api_panel), ("writes", writes_panel), ("expand", expand_panel),
          ("tutorial", tutorial_panel))


def grouped_bars(ax, labels, *series):
    """A group of bars per label, one bar per series, side by side; each
    series is (legend label, values)."""
    width = 0.8 / len(series)
    for number, (label, values) in enumerate(series):
        offset = (number - (len(series) - 1) / 2) * width
        ax.bar([i + offset for i in range(len(labels))], values, width, label=label)
    ax.set_xticks(list(range(len(labels))))
    ax.set_xticklabels(labels)
    ax.legend(fontsize=8)
