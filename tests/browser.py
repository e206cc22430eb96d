"""The browser the end-to-end tests drive: the system's Chromium.

CHROMIUM names its executable; otherwise the first of CHROMIUM_NAMES on the
PATH (Debian's chromium package installs /usr/bin/chromium). Without one the
browser tests are skipped and the run says so at the end; with
REQUIRE_ALL_BACKENDS=1 (CI) a missing browser is a failure instead.
"""
import os
import shutil

import pytest

from tests import backends

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
SKIP_PREFIX = "browser unavailable: "


def chromium_path():
    """The Chromium executable, or None."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium():
    """The Chromium executable; skips (or, in CI, fails) the test without one."""
    path = chromium_path()
    if path is not None:
        return path
    problem = ("Chromium is not installed (apt-get install chromium, or set CHROMIUM "
               "to its executable)")
    if backends.require_all():
        pytest.fail("REQUIRE_ALL_BACKENDS=1 but " + problem, pytrace=False)
    pytest.skip(SKIP_PREFIX + problem)


def skipped_browser(terminalreporter):
    """The reason the browser tests were skipped in this run, or None."""
    for report in terminalreporter.stats.get("skipped", []):
        _, _, reason = report.longrepr if isinstance(report.longrepr, tuple) else ("", 0, "")
        if SKIP_PREFIX in reason:
            return reason.split(SKIP_PREFIX, 1)[1]
    return None
