#!/usr/bin/env python3
"""Small, fully controllable authoritative DNS server for the integration
tests (standard library only).

Usage:
  python3 dnsd.py --zone ZONEFILE --pidfile FILE [--listen ADDR:PORT ...]
                  [--log FILE]

  --listen   address to serve on, UDP and TCP; repeatable.  IPv4 as
             10.200.1.2:53, IPv6 as [fd00::2]:53.  Default 127.0.0.1:5353.
             Bind specific addresses (not 0.0.0.0 / [::]): answers leave
             from the bound address.  An address that is not (yet) usable
             (e.g. IPv6 still doing DAD) is retried for up to 5 seconds.
  --pidfile  written (atomically, via rename) once every socket is bound;
             removed again on a clean exit.
  --raw      one line per message received, before it is parsed: the
             client's protocol and the message in hex (what the server
             really got: flags, EDNS options, letter case)
  --log      one line per query, written and flushed at once:
               <client addr> <udp|tcp> <qname as sent> <qtype number> <summary>
             e.g.
               127.0.0.1:40000 udp Allowed.Test 1 NOERROR A=10.200.1.2
               [::1]:40001 tcp huge.test 1 NOERROR A*200 mode=huge
               127.0.0.1:40002 udp nope.test 28 NXDOMAIN
               127.0.0.1:40003 udp d.test 1 DROP mode=drop
               127.0.0.1:40004 udp - - FORMERR
             The summary is the rcode, then "TC" if set, then the answer
             records (TYPE=data, at most 4 listed, then "+N"; a run of the
             same type longer than 4 is shown as TYPE*N), then mode=M.
             The file is created (empty) at startup; nothing but queries
             is written to it, except SIGHUP reload results, as lines
             starting with "#" (so a server that got no query and no
             SIGHUP leaves it empty).  Reload results also go to stderr.

Signals: SIGHUP re-reads the zone file (a file that does not parse or
validate keeps the old zone; the error goes to stderr and the log).
SIGTERM / SIGINT: clean exit, status 0.  A zone that is bad at startup is
a startup error (status 1, no pidfile).

Zone file (JSON object; keys are names, case-insensitive, trailing dot
optional; "*.x" matches any name below x, but not x itself, when no exact
key matches; the most specific wildcard wins):

  {
    "allowed.test": {"A": ["10.200.1.2"], "AAAA": ["fd00::2"], "ttl": 30},
    "alias.test":   {"CNAME": "allowed.test", "ttl": 5},
    "*.wild.test":  {"A": ["10.200.1.3"]},
    "bad.test":     {"mode": "malformed"}
  }

  Keys of an entry: "A" (list of IPv4 strings, or one string), "AAAA"
  (likewise, IPv6), "CNAME" (a name), "ttl" (default 60), "mode",
  "delay" (seconds to wait before answering; default 0, or 3 for "slow"),
  "length" (cname-chain only), "target" (cname-loop only).  Unknown keys
  and invalid addresses are errors.

Answers (AA and RA set, RD and ID copied, the question echoed byte for byte
as sent, so the client's case is kept):
  - unknown name: NXDOMAIN.
  - qtype A or AAAA: the name's CNAME (if any) and, following the chain
    inside the zone (at most 20 CNAMEs), the final target's records of that
    type; then the name's own records of that type.  A chain leaving the
    zone (target not a key) ends in NXDOMAIN, with the CNAMEs in the answer
    (like a recursive resolver would report), unless the name itself has
    records of the asked type.
  - qtype CNAME: the name's CNAME record, if any.
  - any other qtype: NOERROR, no answers.
  - class other than IN/ANY: REFUSED; opcode other than QUERY: NOTIMP;
    a query that cannot be parsed: FORMERR (ignored if under 12 bytes, or
    if it has the QR bit set).
  - If the query carries EDNS (an OPT record) the answer carries one too
    (payload size 1232).  Over UDP, when the query has no EDNS, an answer
    larger than 512 bytes is replaced by an empty one with TC set; with
    EDNS the whole answer is sent whatever payload size the client
    advertised (so "huge" with EDNS gives a ~3.2 KB datagram).  Over TCP
    everything is sent.
  No SOA is put in negative answers (so they are not cacheable by RFC 2308).
  "mode" applies to queries of the name itself (not to a name reached
  through a CNAME).

Modes (the answer to any query type of that name):
  malformed         ANCOUNT 1, the record says RDLENGTH 4 but only 2 bytes
                    of data follow (end of message).
  truncated         UDP: TC set, no answers.  TCP: the normal answer.
  compression-loop  one answer whose owner name is a compression pointer to
                    itself.
  huge              200 records: A 10.201.0.1 ... 10.201.0.200 (AAAA
                    fd00:201::1 ... fd00:201::c8 for an AAAA query).  Over
                    UDP without EDNS: TC and no answers; with EDNS, or over
                    TCP: all of them.
  cname-loop        <name> CNAME <target>, <target> CNAME <name>, both in
                    the answer; target defaults to "loop.<name>".
  cname-chain       "length" (default 20) CNAME records <name> -> c1.<name>
                    -> c2.<name> ... -> c<length>.<name>, then the last name's
                    records of the asked type: "A" (default 10.201.0.1) or
                    "AAAA" (default none).
  ttl0              the normal answer, TTL 0 on every record.
  big-ttl           the normal answer, TTL 0xFFFFFFFF on every record.
  wrong-id          the normal answer with ID+1.
  wrong-question    the normal answer with the question name replaced by
                    "other.test" (answer owners keep the real name).
  slow              the normal answer after "delay" seconds (default 3);
                    other queries are not held up.
  drop              no answer at all.
The "normal answer" of a mode entry comes from its A/AAAA/CNAME keys, as
for any other entry (an entry with none of them gives NOERROR, no answers).
"""

import argparse
import ipaddress
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback

T_A = 1
T_CNAME = 5
T_AAAA = 28
T_OPT = 41
C_IN = 1
C_ANY = 255

RCODE_NAMES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
               4: "NOTIMP", 5: "REFUSED"}
TYPE_NAMES = {T_A: "A", T_CNAME: "CNAME", T_AAAA: "AAAA"}

DEFAULT_TTL = 60
MAX_CHAIN = 20
EDNS_SIZE = 1232
TCP_IDLE = 30.0

MODES = ("malformed", "truncated", "compression-loop", "huge", "cname-loop",
         "cname-chain", "ttl0", "wrong-id", "wrong-question", "slow", "drop",
         "big-ttl", "spread")
ENTRY_KEYS = ("A", "AAAA", "CNAME", "ttl", "mode", "delay", "length",
              "target")

HUGE_A = [bytes((10, 201, (i + 1) >> 8, (i + 1) & 0xFF)) for i in range(200)]
HUGE_AAAA = [ipaddress.IPv6Address("fd00:201::%x" % (i + 1)).packed
             for i in range(200)]
OTHER_TEST = (b"other", b"test")


class FormErr(Exception):
    pass


class ZoneError(Exception):
    pass


def note(msg):
    try:
        sys.stderr.write("dnsd: %s\n" % msg)
        sys.stderr.flush()
    except Exception:
        pass


# ---------------------------------------------------------------- names

def labels_text(labels):
    """Presentation form of a name given as label bytes (no trailing dot)."""
    if not labels:
        return "."
    parts = []
    for lab in labels:
        try:
            s = lab.decode("ascii")
            if s.isprintable() and " " not in s and "." not in s \
                    and "\\" not in s:
                parts.append(s)
                continue
        except UnicodeDecodeError:
            pass
        out = []
        for b in lab:
            c = chr(b)
            if c in ".\\":
                out.append("\\" + c)
            elif 0x21 <= b <= 0x7E:
                out.append(c)
            else:
                out.append("\\%03d" % b)
        parts.append("".join(out))
    return ".".join(parts)


def name_labels(text, what):
    """Zone-file name -> tuple of lower-case label bytes."""
    if not isinstance(text, str):
        raise ZoneError("%s: name must be a string" % what)
    t = text.strip()
    if t.endswith("."):
        t = t[:-1]
    if not t:
        raise ZoneError("%s: empty name" % what)
    try:
        raw = t.encode("ascii").lower()
    except UnicodeEncodeError:
        raise ZoneError("%s: %r is not ASCII (use punycode)" % (what, text))
    labels = tuple(raw.split(b"."))
    for lab in labels:
        if not lab or len(lab) > 63:
            raise ZoneError("%s: bad label in %r" % (what, text))
    if sum(len(lab) + 1 for lab in labels) + 1 > 255:
        raise ZoneError("%s: name too long" % what)
    return labels


# ---------------------------------------------------------------- zone

class Entry(object):
    __slots__ = ("key", "ttl", "a", "aaaa", "cname", "mode", "delay",
                 "length", "target")


def _addr_list(val, cls, what):
    if isinstance(val, str):
        val = [val]
    if not isinstance(val, list):
        raise ZoneError("%s: must be a list of addresses" % what)
    out = []
    for v in val:
        if not isinstance(v, str):
            raise ZoneError("%s: %r is not a string" % (what, v))
        try:
            out.append(cls(v).packed)
        except ValueError as e:
            raise ZoneError("%s: %s" % (what, e))
    return out


def _number(val, what, lo, hi, integer):
    if isinstance(val, bool) or not isinstance(val, (int, float)) or \
            (integer and not isinstance(val, int)):
        raise ZoneError("%s: %r is not a%s number" %
                        (what, val, "n integer" if integer else ""))
    if not lo <= val <= hi:
        raise ZoneError("%s: %r out of range [%s, %s]" % (what, val, lo, hi))
    return val


class Zone(object):
    def __init__(self, entries):
        self.entries = entries
        self.has_wild = any(k[:1] == (b"*",) for k in entries)

    def lookup(self, lower_labels):
        e = self.entries.get(lower_labels)
        if e is not None or not self.has_wild:
            return e
        for i in range(1, len(lower_labels)):
            e = self.entries.get((b"*",) + lower_labels[i:])
            if e is not None:
                return e
        return None


def load_zone(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ZoneError("cannot read %s: %s" % (path, e))
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ZoneError("%s: bad JSON: %s" % (path, e))
    if not isinstance(doc, dict):
        raise ZoneError("%s: top level must be an object" % path)
    entries = {}
    for name, spec in doc.items():
        key = name_labels(name, "zone key %r" % name)
        if key in entries:
            raise ZoneError("name %r appears twice" % name)
        if not isinstance(spec, dict):
            raise ZoneError("%s: entry must be an object" % name)
        for k in spec:
            if k not in ENTRY_KEYS:
                raise ZoneError("%s: unknown key %r (known: %s)" %
                                (name, k, ", ".join(ENTRY_KEYS)))
        e = Entry()
        e.key = key
        e.ttl = _number(spec.get("ttl", DEFAULT_TTL), name + ": ttl",
                        0, 0xFFFFFFFF, True)
        e.a = _addr_list(spec.get("A", []), ipaddress.IPv4Address,
                         name + ": A")
        e.aaaa = _addr_list(spec.get("AAAA", []), ipaddress.IPv6Address,
                            name + ": AAAA")
        e.cname = None
        if "CNAME" in spec:
            e.cname = name_labels(spec["CNAME"], name + ": CNAME")
        e.mode = spec.get("mode")
        if e.mode is not None and e.mode not in MODES:
            raise ZoneError("%s: unknown mode %r (known: %s)" %
                            (name, e.mode, ", ".join(MODES)))
        e.delay = _number(spec.get("delay", 3 if e.mode == "slow" else 0),
                          name + ": delay", 0, 3600, False)
        e.length = _number(spec.get("length", MAX_CHAIN), name + ": length",
                           0, 1000, True)
        e.target = None
        if "target" in spec:
            e.target = name_labels(spec["target"], name + ": target")
        entries[key] = e
    return Zone(entries)


# ---------------------------------------------------------------- wire

class Query(object):
    __slots__ = ("id", "flags", "opcode", "labels", "lower", "qwire",
                 "qtype", "qclass", "edns")


def parse_query(data):
    """Returns a Query, or None to ignore the packet.  Raises FormErr."""
    n = len(data)
    if n < 12:
        return None
    qid, flags, qd, an, ns, ar = struct.unpack_from("!HHHHHH", data)
    if flags & 0x8000:
        return None                      # a response: never answer those
    q = Query()
    q.id = qid
    q.flags = flags
    q.opcode = (flags >> 11) & 0xF
    q.labels = None
    q.edns = None
    if qd != 1:
        raise FormErr(q)
    pos = 12
    labels = []
    total = 1
    while True:
        if pos >= n:
            raise FormErr(q)
        ln = data[pos]
        if ln == 0:
            pos += 1
            break
        if ln & 0xC0:
            raise FormErr(q)             # no pointers in a question
        total += ln + 1
        if total > 255 or pos + 1 + ln > n:
            raise FormErr(q)
        labels.append(data[pos + 1:pos + 1 + ln])
        pos += 1 + ln
    if pos + 4 > n:
        raise FormErr(q)
    q.qtype, q.qclass = struct.unpack_from("!HH", data, pos)
    q.labels = tuple(labels)
    q.qwire = data[12:pos + 4]
    pos += 4
    # Skip answer/authority, look for OPT in additional.
    for i in range(an + ns + ar):
        while True:                      # owner name, pointers allowed
            if pos >= n:
                raise FormErr(q)
            ln = data[pos]
            if ln == 0:
                pos += 1
                break
            if ln & 0xC0 == 0xC0:
                pos += 2
                break
            if ln & 0xC0:
                raise FormErr(q)
            pos += 1 + ln
        if pos + 10 > n:
            raise FormErr(q)
        rtype, rclass, _ttl, rdlen = struct.unpack_from("!HHIH", data, pos)
        pos += 10 + rdlen
        if pos > n:
            raise FormErr(q)
        if i >= an + ns and rtype == T_OPT:
            q.edns = rclass
    q.lower = tuple(lab.lower() for lab in labels)
    return q


def put_name(out, labels, table):
    """Append a name to out with compression; table maps suffix -> 2-byte
    pointer.  Case-sensitive on purpose: a zone name never borrows the
    client's spelling of a shared suffix from the question."""
    for i in range(len(labels)):
        key = b".".join(labels[i:])
        ptr = table.get(key)
        if ptr is not None:
            out += ptr
            return
        off = len(out)
        if off < 0x3FFF:
            table[key] = bytes((0xC0 | (off >> 8), off & 0xFF))
        lab = labels[i]
        out.append(len(lab))
        out += lab
    out.append(0)


def header(q, rcode, an, ar, tc=False, qd=1, qid=None):
    flags = 0x8000 | (q.opcode << 11) | 0x0400 | 0x0080 | \
        (q.flags & 0x0100) | (rcode & 0xF)
    if tc:
        flags |= 0x0200
    return struct.pack("!HHHHHH", q.id if qid is None else qid, flags,
                       qd, an, 0, ar)


OPT_RR = b"\x00" + struct.pack("!HHIH", T_OPT, EDNS_SIZE, 0, 0)


def build(q, rcode, records, ttl=None, qid=None, qname=None, tc=False):
    """records: list of (owner labels, type, ttl, rdata) where rdata is the
    packed address or, for CNAME, the target labels."""
    out = bytearray(12)
    table = {}
    if qname is None:
        out += q.qwire
        off = 12
        labels = q.labels
        for i in range(len(labels)):
            if off < 0x3FFF:
                table[b".".join(labels[i:])] = \
                    bytes((0xC0 | (off >> 8), off & 0xFF))
            off += 1 + len(labels[i])
    else:
        put_name(out, qname, table)
        out += q.qwire[-4:]
    for owner, rtype, rttl, rdata in records:
        put_name(out, owner, table)
        if ttl is not None:
            rttl = ttl
        if rtype == T_CNAME:
            out += struct.pack("!HHI", rtype, C_IN, rttl)
            lp = len(out)
            out += b"\x00\x00"
            put_name(out, rdata, table)
            struct.pack_into("!H", out, lp, len(out) - lp - 2)
        else:
            out += struct.pack("!HHIH", rtype, C_IN, rttl, len(rdata))
            out += rdata
    ar = 0
    if q.edns is not None:
        out += OPT_RR
        ar = 1
    out[0:12] = header(q, rcode, len(records), ar, tc=tc, qid=qid)
    return bytes(out)


def formerr(q):
    """FORMERR answer (question echoed if it was parsed)."""
    if q.labels is not None:
        q.edns = None
        return build(q, 1, [])
    return header(q, 1, 0, 0, qd=0)


# ---------------------------------------------------------------- logic

def resolve(zone, q, e, owner):
    """Normal answer for a name whose entry is e (may be None).
    Returns (rcode, records)."""
    if e is None:
        return 3, []
    qtype = q.qtype
    if qtype == T_CNAME:
        if e.cname is not None:
            return 0, [(owner, T_CNAME, e.ttl, e.cname)]
        return 0, []
    if qtype != T_A and qtype != T_AAAA:
        return 0, []
    records = []
    rcode = 0
    first = e
    cur, cur_owner = e, owner
    steps = 0
    while cur.cname is not None and steps < MAX_CHAIN:
        records.append((cur_owner, T_CNAME, cur.ttl, cur.cname))
        steps += 1
        cur_owner = cur.cname
        nxt = zone.lookup(cur.cname)
        if nxt is None:
            cur = None
            rcode = 3
            break
        cur = nxt
    if cur is not None and cur is not first and cur.cname is None:
        for rd in (cur.a if qtype == T_A else cur.aaaa):
            records.append((cur_owner, qtype, cur.ttl, rd))
    own = first.a if qtype == T_A else first.aaaa
    if own:
        rcode = 0
        for rd in own:
            records.append((owner, qtype, first.ttl, rd))
    return rcode, records


def summarize(rcode, records, tc=False):
    parts = [RCODE_NAMES.get(rcode, "RCODE%d" % rcode)]
    if tc:
        parts.append("TC")
    if records:
        types = [r[1] for r in records]
        if len(records) > 4 and all(t == types[0] for t in types):
            parts.append("%s*%d" % (TYPE_NAMES.get(types[0]), len(records)))
        else:
            for owner, rtype, _ttl, rd in records[:4]:
                if rtype == T_CNAME:
                    val = labels_text(rd)
                elif rtype == T_A:
                    val = socket.inet_ntop(socket.AF_INET, rd)
                else:
                    val = socket.inet_ntop(socket.AF_INET6, rd)
                parts.append("%s=%s" % (TYPE_NAMES.get(rtype), val))
            if len(records) > 4:
                parts.append("+%d" % (len(records) - 4))
    return " ".join(parts)


def fit(q, resp, proto, rcode, records, **kw):
    """Over UDP, replace an answer that is too big by an empty TC one."""
    if proto != "udp":
        return resp, False
    # As the tests want it: without EDNS the classic 512-byte limit; with
    # EDNS everything goes (whatever payload size the client advertised).
    limit = 512 if q.edns is None else 65000
    if len(resp) <= limit:
        return resp, False
    kw.pop("tc", None)
    return build(q, rcode, [], tc=True, **kw), True


class Server(object):
    def __init__(self, zone_path, zone, log_fd):
        self.zone_path = zone_path
        self.zone = zone
        self.log_fd = log_fd
        self.raw_fd = None

    # -- logging
    def log(self, line):
        if self.log_fd is None:
            return
        try:
            os.write(self.log_fd, (line + "\n").encode("utf-8", "replace"))
        except OSError:
            pass

    def reload(self):
        try:
            z = load_zone(self.zone_path)
        except ZoneError as e:
            msg = "zone reload failed, keeping old zone: %s" % e
            note(msg)
            self.log("# " + msg)
            return False
        except Exception as e:           # never die on a reload
            msg = "zone reload failed, keeping old zone: %r" % e
            note(msg)
            self.log("# " + msg)
            return False
        self.zone = z
        msg = "zone reloaded: %d names" % len(z.entries)
        note(msg)
        self.log("# " + msg)
        return True

    # -- one query
    def handle(self, data, proto, client):
        """Returns (response bytes or None, delay seconds)."""
        if self.raw_fd is not None:
            try:
                os.write(self.raw_fd, ("%s %s\n" % (proto, data.hex())).encode())
            except OSError:
                pass
        try:
            q = parse_query(data)
        except FormErr as e:
            q = e.args[0]
            resp = formerr(q)
            if self.log_fd is not None:
                if q.labels is not None:
                    self.log("%s %s %s %d FORMERR" % (
                        client, proto, labels_text(q.labels), q.qtype))
                else:
                    self.log("%s %s - - FORMERR" % (client, proto))
            return resp, 0
        if q is None:
            return None, 0
        logging = self.log_fd is not None
        if q.opcode != 0 or (q.qclass != C_IN and q.qclass != C_ANY):
            rcode = 4 if q.opcode != 0 else 5
            resp = build(q, rcode, [])
            if logging:
                self.log("%s %s %s %d %s" % (
                    client, proto, labels_text(q.labels), q.qtype,
                    RCODE_NAMES[rcode]))
            return resp, 0
        zone = self.zone
        e = zone.lookup(q.lower)
        mode = e.mode if e is not None else None
        delay = e.delay if e is not None else 0
        tc = False
        resp = None
        summary = None
        owner = q.labels
        if mode is None:
            rcode, records = resolve(zone, q, e, owner)
            resp = build(q, rcode, records)
            resp, tc = fit(q, resp, proto, rcode, records)
        elif mode == "drop":
            summary = "DROP"
            records = []
            rcode = 0
        elif mode == "malformed":
            rtype = T_AAAA if q.qtype == T_AAAA else T_A
            q.edns = None
            out = bytearray(build(q, 0, []))
            out += b"\xc0\x0c" + struct.pack("!HHIH", rtype, C_IN, e.ttl, 4)
            out += b"\x0a\xc8"           # 2 of the promised 4 bytes
            struct.pack_into("!H", out, 6, 1)
            resp = bytes(out)
            rcode, records = 0, []
            summary = "NOERROR malformed-record"
        elif mode == "compression-loop":
            q.edns = None
            out = bytearray(build(q, 0, []))
            p = len(out)
            out += bytes((0xC0 | (p >> 8), p & 0xFF))
            out += struct.pack("!HHIH", T_A, C_IN, e.ttl, 4)
            out += b"\x0a\xc8\x01\x02"
            struct.pack_into("!H", out, 6, 1)
            resp = bytes(out)
            rcode, records = 0, []
            summary = "NOERROR compression-loop"
        elif mode == "huge":
            if q.qtype == T_AAAA:
                records = [(owner, T_AAAA, e.ttl, rd) for rd in HUGE_AAAA]
            else:
                records = [(owner, T_A, e.ttl, rd) for rd in HUGE_A]
            rcode = 0
            resp = build(q, 0, records)
            resp, tc = fit(q, resp, proto, 0, records)
        elif mode == "spread":
            # A different address per name (10.210.x.y from a hash of
            # the name): floods of names make floods of addresses.
            import zlib
            h = zlib.crc32(b".".join(q.lower)) & 0xFFFF
            records = [(owner, T_A, e.ttl, bytes((10, 210, h >> 8, h & 0xFF)))] \
                if q.qtype == T_A else []
            rcode = 0
            resp = build(q, 0, records)
            resp, tc = fit(q, resp, proto, 0, records)
        elif mode == "cname-loop":
            target = e.target or ((b"loop",) + q.lower)
            records = [(owner, T_CNAME, e.ttl, target),
                       (target, T_CNAME, e.ttl, owner)]
            rcode = 0
            resp = build(q, 0, records)
            resp, tc = fit(q, resp, proto, 0, records)
        elif mode == "cname-chain":
            records = []
            prev = owner
            for i in range(1, e.length + 1):
                nxt = (b"c%d" % i,) + q.lower
                records.append((prev, T_CNAME, e.ttl, nxt))
                prev = nxt
            if q.qtype == T_A:
                for rd in (e.a or [bytes((10, 201, 0, 1))]):
                    records.append((prev, T_A, e.ttl, rd))
            elif q.qtype == T_AAAA:
                for rd in e.aaaa:
                    records.append((prev, T_AAAA, e.ttl, rd))
            rcode = 0
            resp = build(q, 0, records)
            resp, tc = fit(q, resp, proto, 0, records)
        else:
            rcode, records = resolve(zone, q, e, owner)
            kw = {}
            if mode == "ttl0":
                kw["ttl"] = 0
            elif mode == "big-ttl":
                kw["ttl"] = 0xFFFFFFFF
            elif mode == "wrong-id":
                kw["qid"] = (q.id + 1) & 0xFFFF
            elif mode == "wrong-question":
                kw["qname"] = OTHER_TEST
            if mode == "truncated" and proto == "udp":
                resp = build(q, rcode, [], tc=True)
                tc = True
                records = []
            else:
                resp = build(q, rcode, records, **kw)
                resp, tc = fit(q, resp, proto, rcode, records, **kw)
        if logging:
            if summary is None:
                summary = summarize(rcode, [] if tc else records, tc)
            if mode:
                summary += " mode=" + mode
            self.log("%s %s %s %d %s" % (client, proto,
                                         labels_text(q.labels), q.qtype,
                                         summary))
        return resp, delay


# ---------------------------------------------------------------- transport

def fmt_addr(addr):
    if ":" in addr[0]:
        return "[%s]:%d" % (addr[0], addr[1])
    return "%s:%d" % (addr[0], addr[1])


def parse_listen(text):
    t = text.strip()
    if t.startswith("["):
        host, sep, port = t[1:].partition("]:")
        if not sep:
            raise ValueError("bad IPv6 listen address %r (use [ADDR]:PORT)"
                             % text)
        fam = socket.AF_INET6
    else:
        host, sep, port = t.rpartition(":")
        if not sep:
            raise ValueError("bad listen address %r (use ADDR:PORT)" % text)
        fam = socket.AF_INET
    ip = ipaddress.ip_address(host)
    if (ip.version == 6) != (fam == socket.AF_INET6):
        raise ValueError("bad listen address %r (IPv4 as ADDR:PORT, IPv6 as "
                         "[ADDR]:PORT)" % text)
    port = int(port)
    if not 0 <= port <= 65535:
        raise ValueError("bad port in %r" % text)
    return fam, host, port


def bind_retry(sock, addr, text):
    deadline = time.monotonic() + 5.0
    while True:
        try:
            sock.bind(addr)
            return
        except OSError as e:
            # EADDRNOTAVAIL: e.g. an IPv6 address still tentative (DAD).
            if e.errno != 99 or time.monotonic() > deadline:
                raise OSError(e.errno, "cannot bind %s: %s" %
                              (text, e.strerror))
            time.sleep(0.1)


def open_sockets(listens):
    udp, tcp = [], []
    for text in listens:
        fam, host, port = parse_listen(text)
        addr = (host, port)
        u = socket.socket(fam, socket.SOCK_DGRAM)
        t = socket.socket(fam, socket.SOCK_STREAM)
        for s in (u, t):
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        for size in (8 << 20, 4 << 20, 1 << 20):
            try:
                u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
                break
            except OSError:
                pass
        bind_retry(u, addr, text)
        bind_retry(t, addr, text)
        t.listen(128)
        u.setblocking(False)
        t.setblocking(False)
        udp.append(u)
        tcp.append(t)
    return udp, tcp


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_conn(server, conn, peer, stopping):
    client = fmt_addr(peer)
    lock = threading.Lock()
    pending = []

    def send(resp):
        with lock:
            try:
                conn.sendall(struct.pack("!H", len(resp)) + resp)
            except OSError:
                pass

    try:
        conn.settimeout(TCP_IDLE)
        while not stopping.is_set():
            hdr = recv_exact(conn, 2)
            if hdr is None:
                break
            (n,) = struct.unpack("!H", hdr)
            body = recv_exact(conn, n)
            if body is None:
                break
            try:
                resp, delay = server.handle(body, "tcp", client)
            except Exception:
                note("error handling TCP query:\n" + traceback.format_exc())
                continue
            if resp is None:
                continue
            if delay > 0:
                tm = threading.Timer(delay, send, (resp,))
                tm.daemon = True
                tm.start()
                pending.append(tm)
            else:
                send(resp)
    except (OSError, socket.timeout):
        pass
    except Exception:
        note("error on TCP connection:\n" + traceback.format_exc())
    finally:
        # The client may have half-closed after its last query: still
        # deliver slow answers before closing.
        for tm in pending:
            tm.join()
        try:
            conn.close()
        except OSError:
            pass


def udp_send_later(sock, resp, addr):
    try:
        sock.sendto(resp, addr)
    except OSError:
        pass


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="controllable DNS server for the agentwall tests")
    ap.add_argument("--zone", required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--listen", action="append", default=[],
                    metavar="ADDR:PORT")
    ap.add_argument("--log")
    ap.add_argument("--raw")
    args = ap.parse_args(argv)
    listens = args.listen or ["127.0.0.1:5353"]

    try:
        zone = load_zone(args.zone)
    except ZoneError as e:
        note("bad zone: %s" % e)
        return 1
    log_fd = None
    if args.log:
        log_fd = os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                         0o644)
    server = Server(args.zone, zone, log_fd)
    if args.raw:
        server.raw_fd = os.open(args.raw, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                                0o644)

    flags = {"hup": False, "term": False}
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)

    def on_hup(signum, frame):
        flags["hup"] = True

    def on_term(signum, frame):
        flags["term"] = True

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    try:
        udp, tcp = open_sockets(listens)
    except (OSError, ValueError) as e:
        note(str(e))
        return 1

    pid = str(os.getpid())
    tmp = "%s.tmp.%s" % (args.pidfile, pid)
    with open(tmp, "w") as f:
        f.write(pid + "\n")
    os.rename(tmp, args.pidfile)
    note("pid %s, %d names, serving %s" %
         (pid, len(zone.entries), " ".join(listens)))

    stopping = threading.Event()
    udp_set = set(udp)
    tcp_set = set(tcp)
    client_names = {}
    rlist = [wake_r] + udp + tcp
    handle = server.handle
    try:
        while not flags["term"]:
            if flags["hup"]:
                flags["hup"] = False
                server.reload()
            try:
                ready, _, _ = select.select(rlist, [], [], 1.0)
            except InterruptedError:
                continue
            for s in ready:
                if s is wake_r:
                    try:
                        while wake_r.recv(512):
                            pass
                    except OSError:
                        pass
                elif s in udp_set:
                    for _ in range(512):
                        try:
                            data, addr = s.recvfrom(65535)
                        except (BlockingIOError, InterruptedError):
                            break
                        except OSError:
                            break
                        client = client_names.get(addr)
                        if client is None:
                            if len(client_names) > 100000:
                                client_names.clear()
                            client = client_names[addr] = fmt_addr(addr)
                        try:
                            resp, delay = handle(data, "udp", client)
                        except Exception:
                            note("error handling UDP query:\n" +
                                 traceback.format_exc())
                            continue
                        if resp is None:
                            continue
                        if delay > 0:
                            tm = threading.Timer(delay, udp_send_later,
                                                 (s, resp, addr))
                            tm.daemon = True
                            tm.start()
                            continue
                        try:
                            s.sendto(resp, addr)
                        except OSError:
                            pass
                elif s in tcp_set:
                    while True:
                        try:
                            conn, peer = s.accept()
                        except (BlockingIOError, InterruptedError):
                            break
                        except OSError as e:
                            note("accept: %s" % e)
                            break
                        th = threading.Thread(
                            target=tcp_conn,
                            args=(server, conn, peer, stopping),
                            daemon=True)
                        th.start()
    finally:
        stopping.set()
        for s in udp + tcp:
            try:
                s.close()
            except OSError:
                pass
        try:
            with open(args.pidfile) as f:
                if f.read().strip() == pid:
                    os.unlink(args.pidfile)
        except OSError:
            pass
        note("exiting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
