"""Sphinx configuration of the documentation site (make docs)."""

project = "Users"
author = "the Users project"
copyright = "the Users project"  # noqa: A001 - the name Sphinx reads

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "requirements.txt"]

# Headings get GitHub's anchors (#the-migration-log), so the links the README
# used inside one page work between pages too, and MyST reports any that
# point nowhere.
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence"]

html_theme = "alabaster"
html_theme_options = {
    "description": "the classic Flask-Script manage.py project, done right",
    "fixed_sidebar": True,
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}

# make docs checks the links between pages without a network: every web
# address is left alone.
linkcheck_ignore = [r"https?://.*"]
