#!/usr/bin/env python3
"""What an agent does on the network, step by step, one line of output
per step (tests grep them):

  netprobe.py STEP [STEP ...]    each STEP one argument, words split:
    resolve NAME [4|6]        getaddrinfo (the system resolver)
                              -> "resolve NAME ok ADDR..." / "... error MSG"
    connect HOST PORT         TCP connect (HOST a name or an address),
                              read the banner -> "connect ... ok BANNER"
    udp HOST PORT             unconnected sendto + recvfrom
    udpc HOST PORT            connected UDP send + recv
    dig SERVER NAME [TYPE] [tcp]  a raw DNS query to SERVER:53
                              -> "dig NAME rcode=N addrs=A,B"
    many COUNT FMT SERVER     COUNT raw queries of FMT % i to SERVER:53,
                              -> "many answered=N refused=N failed=N
                              servfail=N"
    digx SERVER NAME          a query as a tunnel would write it: NAME's
                              case as given, CD and AD set, an EDNS
                              record with a UDP size of 4000 and an
                              option carrying data -> "digx NAME rcode=N
                              addrs=A question=same|changed"
    listen ADDR PORT [SECS]   TCP bind + listen (PORT 0: ephemeral, ADDR
                              "-": no bind, listen() picks), then
                              "listen ADDR PORT ok BOUNDPORT" (or error),
                              then wait SECS (default 5) for a
                              connection, send "secret" on it ->
                              "accept ok PEER" / "accept timeout"
    netlink [PROTO]           socket(AF_NETLINK, SOCK_RAW, PROTO), default
                              4 (NETLINK_SOCK_DIAG) -> "netlink P ok|error"
    raw                       a raw socket -> "raw ok" / "raw error"
    rthdr                     set an IPv6 routing header on a socket
    udpopt HOST PORT          a UDP datagram carrying IPv4 options given
                              per message (ancillary IP_RETOPTS), the
                              reply awaited -> "udpopt H P ok|error ..."
    sleep SECONDS
"""
import errno
import random
import socket
import struct
import sys
import time

TYPES = {"A": 1, "AAAA": 28, "TXT": 16}


def err(e):
    if isinstance(e, OSError) and e.errno:
        return errno.errorcode.get(e.errno, str(e.errno))
    return str(e).replace(" ", "_")


def query(name, qtype=1, qid=None):
    qid = random.randrange(65536) if qid is None else qid
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        b = label.encode("utf-8", "surrogateescape")
        msg += bytes([len(b)]) + b
    return qid, msg + b"\0" + struct.pack(">HH", qtype, 1)


def skip_name(m, i):
    while True:
        n = m[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n


def parse(m):
    rcode = m[3] & 15
    qd, an = struct.unpack(">HH", m[4:8])
    i = 12
    for _ in range(qd):
        i = skip_name(m, i) + 4
    addrs = []
    for _ in range(an):
        i = skip_name(m, i)
        t, _c, _ttl, ln = struct.unpack(">HHIH", m[i:i + 10])
        i += 10
        if t == 1 and ln == 4:
            addrs.append(socket.inet_ntop(socket.AF_INET, m[i:i + 4]))
        elif t == 28 and ln == 16:
            addrs.append(socket.inet_ntop(socket.AF_INET6, m[i:i + 16]))
        i += ln
    return rcode, addrs


def dig(server, name, qtype="A", tcp=False, timeout=8.0):
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    qid, msg = query(name, TYPES.get(qtype, 1))
    if tcp:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((server, 53))
        s.sendall(struct.pack(">H", len(msg)) + msg)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        s.close()
        m = buf[2:]
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(timeout)
        s.sendto(msg, (server, 53))
        m, peer = s.recvfrom(65536)
        s.close()
    return parse(m)


def step(words):
    op = words[0]
    if op == "sleep":
        time.sleep(float(words[1]))
        return "sleep ok"
    if op == "resolve":
        fam = {"4": socket.AF_INET, "6": socket.AF_INET6}.get(words[2] if len(words) > 2 else "", 0)
        try:
            r = socket.getaddrinfo(words[1], 80, fam, socket.SOCK_STREAM)
            return "resolve %s ok %s" % (words[1], " ".join(sorted({x[4][0] for x in r})))
        except Exception as e:
            return "resolve %s error %s" % (words[1], err(e))
    if op in ("connect", "udp", "udpc"):
        host, port = words[1], int(words[2])
        kind = socket.SOCK_STREAM if op == "connect" else socket.SOCK_DGRAM
        try:
            ai = socket.getaddrinfo(host, port, 0, kind)[0]
            s = socket.socket(ai[0], kind)
            s.settimeout(3)
            if op == "connect":
                s.connect(ai[4])
                data = s.recv(200)
            elif op == "udpc":
                s.connect(ai[4])
                s.send(b"ping")
                data = s.recv(200)
            else:
                s.sendto(b"ping", ai[4])
                data, _ = s.recvfrom(200)
            s.close()
            return "%s %s %s ok %s" % (op, host, port, data.decode().strip().replace(" ", "_"))
        except Exception as e:
            return "%s %s %s error %s" % (op, host, port, err(e))
    if op == "dig":
        tcp = "tcp" in words[3:]
        qtype = next((w for w in words[3:] if w in TYPES), "A")
        try:
            rcode, addrs = dig(words[1], words[2], qtype, tcp)
            return "dig %s rcode=%d addrs=%s" % (words[2], rcode, ",".join(addrs))
        except Exception as e:
            return "dig %s error %s" % (words[2], err(e))
    if op == "many":
        count, fmt, server = int(words[1]), words[2], words[3]
        res = {"answered": 0, "refused": 0, "servfail": 0, "failed": 0}
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        window = {}
        i = 0
        # Up to 32 queries in flight.
        while i < count or window:
            while i < count and len(window) < 32:
                qid, msg = query(fmt % i, 1, i & 0xFFFF)
                s.sendto(msg, (server, 53))
                window[qid] = time.time()
                i += 1
            try:
                m, _ = s.recvfrom(65536)
            except socket.timeout:
                res["failed"] += len(window)
                window.clear()
                continue
            qid = struct.unpack(">H", m[:2])[0]
            if window.pop(qid, None) is None:
                continue
            rc = m[3] & 15
            if rc == 0:
                res["answered"] += 1
            elif rc == 5:
                res["refused"] += 1
            elif rc == 2:
                res["servfail"] += 1
            else:
                res["failed"] += 1
        return "many " + " ".join("%s=%d" % kv for kv in sorted(res.items()))
    if op == "rthdr":
        # An IPv6 segment routing header (type 4) naming ::1: it would
        # route the socket's packets past the address decided at connect.
        hdr = bytes([0, 2, 4, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, "::1")
        try:
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IPV6, 57, hdr)
            s.close()
            return "rthdr ok"
        except Exception as e:
            return "rthdr error %s" % err(e)
    if op == "udpopt":
        # NOP NOP NOP EOL: harmless options, but any would do; they come
        # with this one message only, past the setsockopt check.
        host, port = words[1], int(words[2])
        try:
            ai = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)[0]
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2)
            s.sendmsg([b"ping"], [(socket.IPPROTO_IP, 7, bytes([1, 1, 1, 0]))], 0, ai[4])
            data, _ = s.recvfrom(200)
            s.close()
            return "udpopt %s %s ok %s" % (host, port, data.decode().strip())
        except Exception as e:
            return "udpopt %s %s error %s" % (host, port, err(e))
    if op == "digx":
        server, name = words[1], words[2]
        fam = socket.AF_INET6 if ":" in server else socket.AF_INET
        qid, msg = query(name, 1)
        # flags: RD, AD, CD; ARCOUNT 1
        msg = msg[:2] + struct.pack(">HHHHH", 0x0130, 1, 0, 0, 1) + msg[12:]
        opt = struct.pack(">HH", 65001, 6) + b"SECRET"
        msg += b"\0" + struct.pack(">HHIH", 41, 4000, 0x8000, len(opt)) + opt
        try:
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.settimeout(8)
            s.sendto(msg, (server, 53))
            m, _ = s.recvfrom(65536)
            s.close()
            rcode, addrs = parse(m)
            qend = skip_name(m, 12)
            same = m[:2] == msg[:2] and m[12:qend] == msg[12:qend]
            return "digx %s rcode=%d addrs=%s question=%s" % (
                name, rcode, ",".join(addrs), "same" if same else "changed")
        except Exception as e:
            return "digx %s error %s" % (name, err(e))
    if op == "listen":
        addr, port = words[1], int(words[2])
        secs = float(words[3]) if len(words) > 3 else 5
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        try:
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if addr != "-":
                s.bind((addr, port))
            s.listen(4)
            bound = s.getsockname()[1]
        except Exception as e:
            return "listen %s %s error %s" % (addr, port, err(e))
        print("listen %s %s ok %d" % (addr, port, bound), flush=True)
        s.settimeout(secs)
        try:
            c, peer = s.accept()
            try:
                c.sendall(b"secret\n")
            except Exception as e:
                return "accept ok %s send error %s" % (peer[0], err(e))
            c.close()
            return "accept ok %s" % peer[0]
        except socket.timeout:
            return "accept timeout"
        except Exception as e:
            return "accept error %s" % err(e)
    if op == "netlink":
        proto = int(words[1]) if len(words) > 1 else 4
        try:
            socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto).close()
            return "netlink %d ok" % proto
        except Exception as e:
            return "netlink %d error %s" % (proto, err(e))
    if op == "raw":
        try:
            socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
            return "raw ok"
        except Exception as e:
            return "raw error %s" % err(e)
    return "unknown step %s" % op


def main():
    for arg in sys.argv[1:]:
        print(step(arg.split()), flush=True)


if __name__ == "__main__":
    main()
