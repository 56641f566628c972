#!/usr/bin/env python3
"""Query the JSON-lines export in tests: evq.py FILE [key=value ...] [--count]
[--field PATH] [--valid] [--match key=REGEX ...]. Keys are dotted paths (agent.id, process.pid);
every line must parse as JSON (a line that does not is reported and fails)."""
import json
import re
import signal
import sys

signal.signal(signal.SIGPIPE, signal.SIG_DFL)

path, args = sys.argv[1], sys.argv[2:]
count = "--count" in args
valid = "--valid" in args
field = None
conds = []
res = []
i = 0
while i < len(args):
    a = args[i]
    if a == "--match":
        k, v = args[i + 1].split("=", 1)
        res.append((k, re.compile(v)))
        i += 2
        continue
    if a == "--field":
        field = args[i + 1]
        i += 2
        continue
    if "=" in a and not a.startswith("--"):
        k, v = a.split("=", 1)
        conds.append((k, v))
    i += 1


def get(ev, key):
    for part in key.split("."):
        if isinstance(ev, dict):
            ev = ev.get(part)
        elif isinstance(ev, list) and part.isdigit() and int(part) < len(ev):
            ev = ev[int(part)]
        else:
            return None
    return ev


def norm(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    return str(v)


n = 0
bad = 0
try:
    f = open(path, "rb")
except FileNotFoundError:
    sys.exit(1)
for raw in f:
    try:
        ev = json.loads(raw.decode("utf-8"))
    except Exception as e:  # invalid JSON is a test failure
        print("invalid JSON line: %r (%s)" % (raw[:200], e), file=sys.stderr)
        bad += 1
        continue
    if all(norm(get(ev, k)) == v or (v.endswith("*") and norm(get(ev, k)).startswith(v[:-1])) for k, v in conds) and all(
            r.search(norm(get(ev, k))) for k, r in res):
        n += 1
        if field:
            print(json.dumps(get(ev, field)) if not isinstance(get(ev, field), str) else get(ev, field))
if valid:
    sys.exit(1 if bad else 0)
if count:
    print(n)
    sys.exit(0)
sys.exit(0 if n > 0 and not bad else 1)
