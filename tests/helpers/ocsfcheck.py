#!/usr/bin/env python3
"""Checks of the daemon's OCSF and syslog outputs in tests.

  ocsfcheck.py validate SCHEMA FILE   every line of FILE is an OCSF event
      that validates against its class in SCHEMA (tests/ocsf/); prints
      "valid N classes C:N,..." or the first errors, exit 1 if any line
      fails.
  ocsfcheck.py samples SCHEMA FILE    FILE has {"class_uid":N,...} lines
      (rendered samples): same validation.
  ocsfcheck.py syslog FILE            every line is an RFC 5424 message
      (PRI, VERSION 1, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID,
      STRUCTURED-DATA, a BOM and a JSON MSG); prints "syslog N".
  ocsfcheck.py find FILE KEY=VALUE...  print the lines (OCSF or native)
      whose dotted KEYs equal VALUEs (numbers compared as text).
"""
import json
import re
import sys

CLASSES = {0: "base_event", 1001: "file_activity", 1003: "kernel_activity",
           1007: "process_activity", 2004: "detection_finding",
           4001: "network_activity", 4003: "dns_activity"}


def validate(schema_path, path):
    import jsonschema
    schema = json.load(open(schema_path))
    validators = {}
    counts = {}
    bad = 0
    n = 0
    for lineno, line in enumerate(open(path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        n += 1
        try:
            ev = json.loads(line)
        except ValueError as e:
            print("line %d: not JSON: %s" % (lineno, e))
            bad += 1
            continue
        cls = ev.get("class_uid")
        if cls not in CLASSES:
            print("line %d: class_uid %r is not one we map to" % (lineno, cls))
            bad += 1
            continue
        if cls not in validators:
            validators[cls] = jsonschema.Draft202012Validator(
                {"$defs": schema["$defs"],
                 "$ref": "#/$defs/class." + CLASSES[cls]})
        errs = list(validators[cls].iter_errors(ev))
        # What the schema cannot say: the derived numbers agree.
        if ev.get("type_uid") != cls * 100 + ev.get("activity_id", -1):
            errs.append("type_uid is not class_uid * 100 + activity_id")
        if ev.get("category_uid") != cls // 1000:
            errs.append("category_uid does not match class_uid")
        if ev.get("metadata", {}).get("product", {}).get("name") != "agentwall":
            errs.append("metadata.product.name is not agentwall")
        if errs:
            bad += 1
            if bad <= 5:
                print("line %d (class %d): %s" % (lineno, cls, "; ".join(
                    "%s: %s" % ("/".join(map(str, getattr(e, "absolute_path", []))),
                                getattr(e, "message", e))[:300] for e in errs[:3])))
        counts[cls] = counts.get(cls, 0) + 1
    print("valid %d classes %s" % (n - bad, ",".join(
        "%d:%d" % kv for kv in sorted(counts.items()))))
    return 1 if bad or not n else 0


SYSLOG = re.compile(
    r"^<(\d{1,3})>1 (\S+) (\S{1,255}) (\S{1,48}) (\S{1,128}) (\S{1,32}) "
    r"(-|(?:\[[^\]]*\])+) \ufeff(.*)$")
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")


def syslog(path):
    n = 0
    for lineno, raw in enumerate(open(path, "rb"), 1):
        line = raw.rstrip(b"\n").decode("utf-8")
        m = SYSLOG.match(line)
        if not m:
            print("line %d: not RFC 5424: %.120r" % (lineno, line))
            return 1
        pri, ts, host, app, procid, msgid, sd, msg = m.groups()
        if int(pri) > 191 or (ts != "-" and not TS.match(ts)):
            print("line %d: bad PRI or TIMESTAMP: %s %s" % (lineno, pri, ts))
            return 1
        if any(ord(c) < 33 or ord(c) > 126 for c in host + app + procid + msgid):
            print("line %d: header field not PRINTUSASCII" % lineno)
            return 1
        json.loads(msg)
        n += 1
    print("syslog %d" % n)
    return 0 if n else 1


def get(ev, key):
    for part in key.split("."):
        ev = ev.get(part) if isinstance(ev, dict) else None
    return ev


def find(path, conds):
    conds = [c.split("=", 1) for c in conds]
    for line in open(path, encoding="utf-8"):
        ev = json.loads(line)
        if all(str(get(ev, k)) == v for k, v in conds):
            sys.stdout.write(line)
    return 0


def main():
    cmd = sys.argv[1]
    if cmd in ("validate", "samples"):
        return validate(sys.argv[2], sys.argv[3])
    if cmd == "syslog":
        return syslog(sys.argv[2])
    if cmd == "find":
        return find(sys.argv[2], sys.argv[3:])
    return 2


sys.exit(main())
