#!/usr/bin/python3
"""Scrapes agentwalld's metrics endpoint and checks it with Prometheus'
own Python client's parsers (python3-prometheus-client), for
tests/integration/t_metrics.sh.

  scrape.py validate URL          OpenMetrics: Content-Type, "# EOF" last,
                                  the OpenMetrics parser accepts it
  scrape.py validate-text URL     the Prometheus text format (Accept:
                                  text/plain): its parser accepts it
  scrape.py value URL SAMPLE [LABEL=VALUE ...]
                                  the sum of the matching samples' values
  scrape.py compare URL DB        agentwall_events_total by action and
                                  decision equals the store's counts
  scrape.py histogram URL FAMILY  buckets cumulative, +Inf = _count;
                                  prints the count
Exit status 0 when the check holds; what differs is printed.
"""
import sqlite3
import sys
import urllib.request

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_om)
from prometheus_client.parser import (
    text_string_to_metric_families as parse_text)

OM_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def fetch(url, accept=None):
    req = urllib.request.Request(url)
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers.get("Content-Type"), r.read().decode()


def samples(url):
    _, text = fetch(url)
    out = []
    for fam in parse_om(text):
        out.extend(fam.samples)
    return out


def value(url, name, want):
    return sum(s.value for s in samples(url)
               if s.name == name and all(s.labels.get(k) == v
                                         for k, v in want.items()))


def main():
    cmd, url = sys.argv[1], sys.argv[2]
    if cmd == "validate":
        ctype, text = fetch(url)
        if ctype != OM_TYPE:
            print("Content-Type", ctype)
            return 1
        if not text.endswith("\n# EOF\n"):
            print("no # EOF at the end")
            return 1
        fams = list(parse_om(text))
        print(len(fams), "families")
        return 0
    if cmd == "validate-text":
        ctype, text = fetch(url, "text/plain;version=0.0.4")
        if not ctype.startswith("text/plain; version=0.0.4"):
            print("Content-Type", ctype)
            return 1
        if "# EOF" in text:
            print("# EOF in the text format")
            return 1
        fams = list(parse_text(text))
        print(len(fams), "families")
        return 0 if any(f.name == "agentwall_events" for f in fams) else 1
    if cmd == "value":
        want = dict(a.split("=", 1) for a in sys.argv[4:])
        v = value(url, sys.argv[3], want)
        print(int(v) if v == int(v) else v)
        return 0
    if cmd == "compare":
        got = {}
        for s in samples(url):
            if s.name == "agentwall_events_total":
                got[(s.labels["action"], s.labels["decision"])] = int(s.value)
        db = sqlite3.connect("file:%s?mode=ro" % sys.argv[3], uri=True)
        store = {(a, d): n for a, d, n in db.execute(
            "select action, decision, count(*) from events "
            "group by action, decision")}
        if got != store:
            for k in sorted(set(got) | set(store)):
                if got.get(k) != store.get(k):
                    print("%s/%s: metrics %s, store %s" %
                          (k[0], k[1], got.get(k), store.get(k)))
            return 1
        print("%d pairs, %d events" % (len(got), sum(got.values())))
        return 0
    if cmd == "histogram":
        fam = sys.argv[3]
        prev, count, inf = -1, None, None
        for s in samples(url):
            if s.name == fam + "_bucket":
                if s.value < prev:
                    print("bucket le=%s below the one before" %
                          s.labels["le"])
                    return 1
                prev = s.value
                if s.labels["le"] == "+Inf":
                    inf = s.value
            elif s.name == fam + "_count":
                count = s.value
        if count is None or inf != count:
            print("+Inf %s, count %s" % (inf, count))
            return 1
        print(int(count))
        return 0
    print("unknown command", cmd)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError) as e:
        print("scrape failed:", e)
        sys.exit(1)
