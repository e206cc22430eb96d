"""The requirements files pin everything, transitive packages included, and
the environment running the tests is the one they describe."""
import re
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support import PROJECT_ROOT

STACK_FILES = {"classic": "requirements.txt", "modern": "requirements-modern.txt"}
DEV_FILE = "requirements-dev.txt"
SAFETY_NET_FILES = {"classic": "app/migrating/requirements.txt",
                    "modern": "app/migrating/requirements-modern.txt"}
# The web app's own packages, which an adopting app may pin its own way.
WEB_APP_PACKAGES = {"flask-wtf", "wtforms", "gunicorn"}
BENCH_FILE = "bench/requirements.txt"
# What pip and venv bring along, pinned by neither file.
TOOLING = {"pip", "setuptools", "wheel"}


def running_stack():
    return "classic" if metadata.version("flask").startswith("1.") else "modern"


def read_requirements(name):
    """[Requirement] of a requirements file, following -r includes."""
    requirements = []
    for line in (PROJECT_ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            requirements += read_requirements(line[3:].strip())
        else:
            requirements.append(Requirement(line))
    return requirements


def pins_here(names):
    """{package: version} of the files' pins whose marker holds on this Python."""
    pins = {}
    for name in names:
        for requirement in read_requirements(name):
            if requirement.marker is None or requirement.marker.evaluate():
                pins[canonicalize_name(requirement.name)] = str(requirement.specifier)[2:]
    return pins


@pytest.mark.parametrize("name", list(STACK_FILES.values()) + [DEV_FILE, BENCH_FILE])
def test_every_requirement_is_pinned_with_double_equals(name):
    for requirement in read_requirements(name):
        assert re.fullmatch(r"==[\w.]+", str(requirement.specifier)), requirement


def test_the_installed_packages_are_the_pinned_ones():
    pins = pins_here([STACK_FILES[running_stack()], DEV_FILE])
    for package, version in pins.items():
        assert metadata.version(package) == version, package


def test_every_dependency_of_a_pinned_package_is_pinned_too():
    assert not unpinned_dependencies(pins_here([STACK_FILES[running_stack()], DEV_FILE]))


def test_the_safety_net_pins_stand_alone_for_an_adopting_app():
    """An app that adopts app/migrating/ takes only its requirements file:
    that file pins all the safety net needs, and nothing of the web app."""
    pins = pins_here([SAFETY_NET_FILES[running_stack()]])
    assert not unpinned_dependencies(pins)
    assert not set(pins) & WEB_APP_PACKAGES


def unpinned_dependencies(pins):
    """The dependencies of the installed `pins` that `pins` leave out."""
    missing = set()
    for package in pins:
        for text in metadata.requires(package) or []:
            dependency = Requirement(text)
            if dependency.marker is not None and not dependency.marker.evaluate({"extra": ""}):
                continue
            if canonicalize_name(dependency.name) not in set(pins) | TOOLING:
                missing.add("{} (needed by {})".format(dependency.name, package))
    return missing
