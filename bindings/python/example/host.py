#!/usr/bin/env python3
"""host.py - a complete program embedding wasmplug from Python (the Python
twin of examples/host/host.c).

    python3 host.py PLUGIN EXPORT [INPUT]

Loads PLUGIN, offers it the host function plugin.call_me(name) -> string
(which the callback examples import), prints what the plugin logs, calls
the bytes export EXPORT with INPUT and prints the result.
"""
import sys

import wasmplug


def call_me(name):
    """plugin.call_me: answers "Hello <name>" (the Wasp seed's example)."""
    if len(name.encode()) > 200:
        raise ValueError("call_me: name longer than 200 bytes")
    return f"Hello {name}"


def print_log(level, plugin, message):
    print(f"  [{level.name.lower()}] {plugin}: {message}", file=sys.stderr)


def main(argv):
    if len(argv) < 3:
        print(f"usage: {argv[0]} PLUGIN EXPORT [INPUT]", file=sys.stderr)
        return 2
    path, export, text = argv[1], argv[2], argv[3] if len(argv) > 3 else ""
    try:
        # One engine per process; plugin logs go to print_log.
        with wasmplug.Engine(log=print_log) as engine:
            # Host functions are defined before the plugins that import them load.
            engine.define_string("plugin", "call_me", call_me)
            # Deny by default, plus a time and memory limit.
            manifest = wasmplug.Manifest(timeout_ms=1000, memory="64MiB")
            with manifest, engine.load(path, manifest) as plugin, plugin.instance() as inst:
                print(inst.call_string(export, text))
    except wasmplug.Error as err:
        print(f"error ({err.kind_name}): {err.message}", file=sys.stderr)
        if err.backtrace:
            print(err.backtrace, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
