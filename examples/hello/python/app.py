"""hello: a wasmplug Component Model plugin in Python (world example:hello/hello).

greet("world") returns "Hello, world!" and logs "greet called for world"
through the host's wasmplug:plugin/host.log. Built by componentize-py, see
pdk/python/README.md.
"""
import wit_world
from wit_world import exports
from wit_world.imports import host


def _greet(name: str) -> str:
    host.log(host.Level.INFO, f"greet called for {name}")
    return f"Hello, {name}!"


class WitWorld(wit_world.WitWorld):
    """The world-level export `greet`."""

    def greet(self, name: str) -> str:
        return _greet(name)


class Greeter(exports.Greeter):
    """The interface export `example:hello/greeter`."""

    def greet(self, name: str) -> str:
        return _greet(name)
