#!/usr/bin/env python3
"""`make check`: the layering the linker cannot see.

1. The module graph of gateway/ and handlers/ has no cycle: a module is a .c with its .h (and
   NAME_int.h), and A depends on B when a file of A includes B's header.
2. A pure module (libkabar_pure_a_SOURCES in Makefile.am) includes only pure headers, and db.h
   or kerr.h for their types: no log, metrics, HTTP, outbox or configuration.
Prints what is wrong and exits 1."""
import os
import re
import sys

SRC = os.environ.get("KABAR_SRCDIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TYPES_ONLY = {"db", "kerr"}  # headers a pure module may include for their types


def module(name):
    return name[:-4] if name.endswith("_int") else name


def includes(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r'\s*#\s*include\s+"(?:\.\./\w+/)?(\w+)\.h"', line)
            if m and m.group(1) != "autoconf":
                yield m.group(1)


deps, files = {}, {}
for d in ("gateway", "handlers"):
    for f in sorted(os.listdir(os.path.join(SRC, d))):
        if f.endswith((".c", ".h")):
            mod = module(f[:-2])
            files.setdefault(mod, []).append(os.path.join(d, f))
            deps.setdefault(mod, set()).update(module(h) for h in includes(os.path.join(SRC, d, f)))
for m in deps:
    deps[m] = {x for x in deps[m] if x in deps and x != m}

bad = []
state, stack = {}, []


def visit(m):
    state[m] = 1
    stack.append(m)
    for n in sorted(deps[m]):
        if state.get(n) == 1:
            bad.append("cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
        elif n not in state:
            visit(n)
    stack.pop()
    state[m] = 2


for m in sorted(deps):
    if m not in state:
        visit(m)

with open(os.path.join(SRC, "Makefile.am"), encoding="utf-8") as f:
    am = f.read()
block = re.search(r"^libkabar_pure_a_SOURCES\s*=((?:.*\\\n)*.*)$", am, re.M)
pure = {module(os.path.basename(p)[:-2]) for p in re.findall(r"[\w/]+\.[ch]", block.group(1))}
for m in sorted(pure):
    for path in files.get(m, []):
        for h in includes(os.path.join(SRC, path)):
            if module(h) not in pure and h not in TYPES_ONLY and module(h) in deps:
                bad.append("pure %s includes %s.h" % (path, h))

for b in bad:
    print(b)
print("layering: %d modules, %d pure, %s" % (len(deps), len(pure), "broken" if bad else "ok"))
sys.exit(1 if bad else 0)
