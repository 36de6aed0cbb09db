import os

import pytest

import wasmplug


def _dir(var):
    d = os.environ.get(var)
    if not d or not os.path.isdir(d):
        raise RuntimeError(f"{var} must name a directory (see bindings/python/README.md)")
    return d


FIXTURES = _dir("WP_FIXTURES")
PLUGINS = _dir("WP_PLUGINS")


def fixture(name):
    return os.path.join(FIXTURES, name)


def plugin_path(name):
    p = os.path.join(PLUGINS, name)
    if not os.path.exists(p):
        # The build always makes the example plugins: a missing one is an
        # error in the setup, never a reason to skip.
        raise RuntimeError(f"{p} is missing: build the plugins (make) first")
    return p


@pytest.fixture
def engine():
    with wasmplug.Engine() as e:
        yield e


@pytest.fixture
def numeric(engine):
    with engine.load(fixture("numeric.wat")) as p:
        yield p


@pytest.fixture
def echo(engine):
    with engine.load(fixture("echo.wat")) as p:
        yield p
