"""{{name}}: a wasmplug Component Model plugin in Python (world
local:greeter/greeter, wit/world.wit), built by componentize-py.

greet("world") returns "Hello, world!"; the manifest's config key `greeting`
replaces "Hello", read through the host's wasmplug:plugin/host.
"""
import wit_world
from wit_world.imports import host


class WitWorld(wit_world.WitWorld):
    def greet(self, name: str) -> str:
        greeting = host.config_get("greeting") or "Hello"
        return f"{greeting}, {name}!"
