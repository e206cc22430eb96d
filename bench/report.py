"""The results as a Markdown table and a PNG plot."""
from bench import api_load, autogenerate, big_tables, cli_latency, lint, long_history


def seconds(value):
    return "{:.2f} s".format(value) if value >= 1 else "{:.0f} ms".format(value * 1000)


def verdict(met):
    if met is None:
        return "not measured"
    return "met" if met else "**missed**"


def targets(results):
    """[(target, measured, met)] for the README and the closing lines."""
    rows = []
    cli = results["cli"]
    worst = max(cli[label]["ratio"] for label in
                ("db current", "db heads", "db upgrade (at head)"))
    rows.append(("manage.py at most {}x raw alembic".format(cli_latency.TARGET_RATIO),
                 "{:.2f}x at worst (the imports alone: {:.2f}x)".format(
                     worst, cli["imports only (the floor)"]["ratio"]),
                 worst <= cli_latency.TARGET_RATIO))
    tutorial = results["tutorial"]
    rows.append(("manage.py db current at most {}x the tutorial's one-file app".format(
                    cli_latency.TARGET_TUTORIAL_RATIO),
                 "{:.3f}x".format(tutorial["ratio"]),
                 tutorial["ratio"] <= cli_latency.TARGET_TUTORIAL_RATIO))
    for backend, row in results["autogenerate"].items():
        rows.append(("{} db migrate, {} tables with enums, at most {}x raw alembic "
                     "revision --autogenerate".format(backend, autogenerate.TABLES,
                                                      autogenerate.TARGET_RATIO),
                     "{:.2f}x ({:.2f}x without the Flask app's start-up)".format(
                         row["ratio"], autogenerate.without_startup(row)),
                     row["ratio"] <= autogenerate.TARGET_RATIO))
    history = results["history"]
    longest = history["upgrades"][history["longest"]]
    rows.append(("db upgrade of {} revisions with the log and validation at most {}x raw "
                 "alembic".format(history["longest"], long_history.TARGET_RATIO),
                 "{:.2f}x".format(longest["ratio"]),
                 longest["ratio"] <= long_history.TARGET_RATIO))
    fit = results["history"]["fits"]["seconds"]
    rows.append(("long histories: cost linear in the number of revisions",
                 "{:.1f} ms per revision, off a straight line by {:.1%} at most".format(
                     fit["per_revision"] * 1000, fit["worst_residual"]),
                 fit["worst_residual"] <= 0.1))
    for backend, row in results["lint"].items():
        rows.append(("{} db lint --all over {} revisions at most {}x db upgrade --sql".format(
                     backend, row["revisions"], lint.TARGET_RATIO),
                     "{:.2f}x".format(row["ratio"]), row["ratio"] <= lint.TARGET_RATIO))
    for backend, sizes in results["tables"].items():
        if big_tables.TARGET_ROWS in sizes:
            ratio = sizes[big_tables.TARGET_ROWS]["ratio"]
            rows.append(("{} upgrade at most {}x the floor at {:,} rows".format(
                            backend, big_tables.TARGET_RATIO, big_tables.TARGET_ROWS),
                         "{:.2f}x".format(ratio), ratio <= big_tables.TARGET_RATIO))
        else:
            rows.append(("{} upgrade at most {}x the floor at {:,} rows".format(
                            backend, big_tables.TARGET_RATIO, big_tables.TARGET_ROWS),
                         "a quick run stops at {:,} rows".format(max(sizes)), None))
    memory = max(row["max_rss_mib"] for sizes in results["tables"].values()
                 for row in sizes.values())
    rows.append(("upgrade peak memory under {} MiB whatever the rows".format(
                    big_tables.TARGET_MEMORY_MIB),
                 "{:.0f} MiB at most".format(memory), memory < big_tables.TARGET_MEMORY_MIB))
    gaps = [row["longest_progress_gap"] for sizes in results["tables"].values()
            for row in sizes.values() if row["longest_progress_gap"] is not None]
    rows.append(("backfill progress at least every few (5) seconds",
                 "longest gap {}".format(seconds(max(gaps)) if gaps else "none (too quick)"),
                 not gaps or max(gaps) <= 5))
    flatness = max(sizes["deep"]["median_ms"] / sizes["first"]["median_ms"]
                   for sizes in results["api"]["latency"].values())
    rows.append(("API deep page as fast as the first (at most {}x)".format(
                    api_load.TARGET_FLATNESS),
                 "{:.2f}x at worst".format(flatness), flatness <= api_load.TARGET_FLATNESS))
    html = max(sizes["html deep"]["median_ms"] / sizes["html first"]["median_ms"]
               for sizes in results["api"]["latency"].values())
    rows.append(("HTML deep page as fast as the first (at most {}x)".format(
                    api_load.TARGET_FLATNESS),
                 "{:.2f}x at worst".format(html), html <= api_load.TARGET_FLATNESS))
    return rows


def markdown(results, title, plot_name):
    lines = ["# " + title, ""]
    for key, value in results["about"].items():
        lines.append("- {}: {}".format(key, value))
    lines += ["", "![plot]({})".format(plot_name), "", "## Targets", "",
              "| target | measured | |", "| --- | --- | --- |"]
    lines += ["| {} | {} | {} |".format(target, measured, verdict(met))
              for target, measured, met in targets(results)]

    lines += ["", "## 1. CLI latency (SQLite, database at head)", "",
              "| command | manage.py | raw alembic | ratio |", "| --- | --- | --- | --- |"]
    for label, row in results["cli"].items():
        lines.append("| {} | {} | {} | {:.2f}x |".format(
            label, seconds(row["seconds"]), seconds(row["alembic"]), row["ratio"]))

    tutorial = results["tutorial"]
    lines += ["", "`python manage.py db current` here: {}; in the Flask-Migrate tutorial's "
              "one-file app (stock env.py, same database and versions/): {}; ratio "
              "{:.3f}x.".format(seconds(tutorial["seconds"]), seconds(tutorial["tutorial"]),
                                tutorial["ratio"])]

    lines += ["", "`db migrate` against raw `alembic revision --autogenerate` (a plain "
              "env, no Flask) writing the same revision: {} new tables, each with an enum "
              "and a foreign key, from an empty database:".format(autogenerate.TABLES), "",
              "| database | db migrate | raw alembic | ratio | raw alembic + "
              "alembic-postgresql-enum | Flask start-up (db heads - alembic heads) "
              "| ratio without it |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for backend, row in results["autogenerate"].items():
        lines.append("| {} | {} | {} | {:.2f}x | {} | {} | {:.2f}x |".format(
            backend, seconds(row["seconds"]), seconds(row["alembic"]), row["ratio"],
            seconds(row["with_library"]) if "with_library" in row else "-",
            seconds(row["startup"]), autogenerate.without_startup(row)))

    history = results["history"]
    lines += ["", "## 2. A long history (generated revisions, SQLite)", "",
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

    lines += ["", "## 2b. db lint over the long history", "",
              "db lint --all rehearses every revision offline, runs the built-in rules "
              "and, on PostgreSQL, squawk; db upgrade --sql renders the same revisions.", "",
              "| database | revisions | db lint --all | db upgrade --sql | ratio |",
              "| --- | --- | --- | --- | --- |"]
    for backend, row in results["lint"].items():
        lines.append("| {} | {} | {} | {} | {:.2f}x |".format(
            backend, row["revisions"], seconds(row["seconds"]), seconds(row["sql"]),
            row["ratio"]))

    lines += ["", "## 3. Big tables: db upgrade from revision 1 to head", "",
              "The floor is the same DDL and DML sent through the database driver alone.", "",
              "| database | rows | db upgrade | floor | ratio | peak memory | progress reports "
              "(longest gap) |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for backend, sizes in results["tables"].items():
        for rows, row in sizes.items():
            gap = row["longest_progress_gap"]
            lines.append("| {} | {:,} | {} | {} | {:.2f}x | {:.0f} MiB | {:.0f} ({}) |".format(
                backend, rows, seconds(row["seconds"]), seconds(row["floor"]), row["ratio"],
                row["max_rss_mib"], row["progress_reports"],
                seconds(gap) if gap is not None else "-"))

    api = results["api"]
    lines += ["", "## 4. The API and the HTML page (SQLite, gunicorn with 2 workers)", "",
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
    lines.append("")
    return "\n".join(lines)


def plot(results, path):
    # matplotlib is imported here, not before: the benchmark process stays
    # small while it measures.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    figure.suptitle("manage.py db against raw alembic and the database driver")

    cli = results["cli"]
    ax = axes[0][0]
    paired_bars(ax, list(cli), ("raw alembic", [row["alembic"] for row in cli.values()]),
                ("ours", [row["seconds"] for row in cli.values()]))
    ax.set_xticklabels(list(cli), rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("seconds (median)")
    ax.set_title("1. CLI latency")

    history = results["history"]["upgrades"]
    ax = axes[0][1]
    lengths = list(history)
    ax.plot(lengths, [history[n]["seconds"] for n in lengths], "o-", label="manage.py db upgrade")
    ax.plot(lengths, [history[n]["alembic"] for n in lengths], "s--", label="alembic upgrade")
    ax.set_xlabel("revisions")
    ax.set_ylabel("seconds (median)")
    ax.set_title("2. Upgrade from base through a long history")
    ax.legend(fontsize=8)

    ax = axes[1][0]
    for backend, sizes in results["tables"].items():
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

    latency = results["api"]["latency"]
    ax = axes[1][1]
    paired_bars(ax, ["{:,} users".format(n) for n in latency],
                ("first page", [row["first"]["median_ms"] for row in latency.values()]),
                ("deep page (after=)", [row["deep"]["median_ms"] for row in latency.values()]))
    ax.set_ylabel("ms (median)")
    ax.set_title("4. GET /api/users?limit=50 under gunicorn")

    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def paired_bars(ax, labels, left, right):
    """Two bars per label, side by side; `left` and `right` are (legend
    label, values)."""
    x = range(len(labels))
    for offset, (label, values) in ((-0.2, left), (0.2, right)):
        ax.bar([i + offset for i in x], values, 0.4, label=label)
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels)
    ax.legend(fontsize=8)
