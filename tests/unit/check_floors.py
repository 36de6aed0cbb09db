#!/usr/bin/env python3
"""Checks that no file under src/ includes from a higher floor.

The floors, lowest first (also in HACKING.md):

    util < engine < plugin < instance < {core, component, proxywasm} < isolation < host
         < src/*.c (the top)

A file may include headers of its own floor and of lower ones; the kinds
(core, component) are side by side and do not include each other; only the
top (src/wasmplug.c) sees them all. Public headers ("wasmplug.h") and
headers next to the file are always allowed. The capabilities (src/host/<name>/)
are built on the public API, like a program: from the floors below they
include only src/util/ (libc-only helpers, one home for each), besides
public headers and other headers under src/host/.

Programs on the library (cli/, server/) use its public API only: they may
include "wasmplug.h", "wasmplug/..." and headers of their own directory,
nothing from src/.

    check_floors.py SRC_DIR [PROGRAM_DIR...]  check; exit 1 naming file and line
    check_floors.py --self-test               show that bad includes are caught
"""
import os
import re
import sys
import tempfile

FLOORS = {"util": 0, "engine": 1, "plugin": 2, "instance": 3, "core": 4, "component": 4,
          "proxywasm": 4, "isolation": 5, "host": 6}
TOP = 7
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def floor_of(rel):
    """The floor of a file given its path relative to src/."""
    parts = rel.split("/")
    return TOP if len(parts) == 1 else FLOORS.get(parts[0])


def violations(src):
    found = []
    for dirpath, _, names in os.walk(src):
        for name in sorted(names):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, src)
            mine = floor_of(rel)
            if mine is None:
                found.append(f"{rel}:1: directory '{rel.split('/')[0]}' is not a known floor")
                continue
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m or "/" not in m.group(1):
                        continue  # public or same-directory header
                    target = m.group(1).split("/")[0]
                    theirs = FLOORS.get(target)
                    if theirs is None:
                        continue
                    same_dir = os.path.dirname(rel) == target
                    if rel.split("/")[0] == "host":
                        if target not in ("host", "util"):
                            found.append(f"{rel}:{lineno}: includes {m.group(1)} "
                                         f"(capabilities use the public API and util/ only)")
                        continue
                    if theirs > mine or (theirs == mine and not same_dir and mine != TOP):
                        found.append(f"{rel}:{lineno}: includes {m.group(1)} "
                                     f"(floor '{target}' is not below '{rel.split('/')[0]}')")
    return found


def program_violations(prog):
    """Includes of library internals from a program directory (cli/, server/)."""
    found = []
    for name in sorted(os.listdir(prog)):
        if not name.endswith((".c", ".h")):
            continue
        path = os.path.join(prog, name)
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m and "/" in m.group(1) and m.group(1).split("/")[0] != "wasmplug":
                    found.append(f"{os.path.basename(prog)}/{name}:{lineno}: includes "
                                 f"{m.group(1)} (programs use the public API only)")
    return found


def self_test():
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        for d in ("engine", "component", "core", "host/kv"):
            os.makedirs(os.path.join(src, d))
        with open(os.path.join(src, "component", "component.h"), "w") as f:
            f.write('#include "engine/engine.h"\n')
        with open(os.path.join(src, "engine", "engine.c"), "w") as f:
            f.write('#include "engine/engine.h"\n\n#include "component/component.h"\n')
        with open(os.path.join(src, "core", "x.c"), "w") as f:
            f.write('#include "component/component.h"\n')
        with open(os.path.join(src, "host", "kv", "kv.c"), "w") as f:
            f.write('#include "wasmplug.h"\n#include "host/kv/kv.h"\n#include "util/buf.h"\n'
                    '#include "engine/engine.h"\n')
        prog = os.path.join(tmp, "programs", "server")
        os.makedirs(prog)
        with open(os.path.join(prog, "s.c"), "w") as f:
            f.write('#include "wasmplug.h"\n#include "wasmplug/server.h"\n#include "mine.h"\n'
                    '#include "instance/instance.h"\n')
        got = violations(os.path.join(tmp, "src")) + program_violations(prog)
        want = ["core/x.c:1: includes component/component.h",
                "engine/engine.c:3: includes component/component.h",
                "server/s.c:4: includes instance/instance.h",
                "host/kv/kv.c:4: includes engine/engine.h"]
        ok = len(got) == 4 and all(any(g.startswith(w) for g in got) for w in want)
        print("\n".join(got))
        print("self-test:", "upward, sideways and internal includes caught" if ok else "FAILED")
        return 0 if ok else 1


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    found = violations(sys.argv[1])
    for prog in sys.argv[2:]:
        found += program_violations(prog)
    for v in found:
        print(v)
    print(f"{len(found)} include(s) against the floor order" if found else "floors: ok")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
