#!/usr/bin/env python3
# Turn the OCSF schema's source files (a checkout of the ocsf-schema
# repository: dictionary.json, categories.json, events/, objects/,
# profiles/, includes/) into one JSON Schema (draft 2020-12) holding the
# event classes named on the command line and every object they reach.
# tests/ocsf/ keeps the result; the integration test validates what
# agentwalld and `agentwall log --ocsf` write against it.
#
# Usage: tools/ocsf-jsonschema.py OCSF_CHECKOUT CLASS_NAME... > out.json
#
# What the generated schema checks: every attribute is one the class or
# object defines (additionalProperties false, profiles included), its
# type (string, integer, number, boolean, object, array), the values of
# enumerated *_id attributes, the required attributes, and the objects'
# at_least_one / just_one constraints. Descriptions are left out.
import json
import os
import sys

root = sys.argv[1]


def load(rel):
    with open(os.path.join(root, rel)) as f:
        return json.load(f)


dictionary = load("dictionary.json")
dict_attrs = dictionary["attributes"]
dict_types = dictionary["types"]["attributes"]
categories = load("categories.json")["attributes"]

events = {}
for dirpath, _, files in os.walk(os.path.join(root, "events")):
    for fn in files:
        if fn.endswith(".json"):
            d = json.load(open(os.path.join(dirpath, fn)))
            events[d["name"]] = d
objects = {}
for fn in os.listdir(os.path.join(root, "objects")):
    if fn.endswith(".json"):
        d = json.load(open(os.path.join(root, "objects", fn)))
        objects[d["name"]] = d


def merge_attrs(into, attrs, profile=False):
    """Attributes of one definition over those it extends; $include
    files (profiles, shared attribute sets) count as written there. A
    profile's attributes are required only of events that apply the
    profile (metadata.profiles), unless a class takes one over as its
    own ("profile": null)."""
    for inc in attrs.get("$include", []):
        merge_attrs(into, load(inc).get("attributes", {}),
                    profile or inc.startswith("profiles/"))
    for name, a in attrs.items():
        if name == "$include":
            continue
        cur = into.setdefault(name, {})
        cur.update(a)
        if profile:
            cur["_profile"] = True
        elif "profile" in a and a["profile"] is None:
            cur.pop("_profile", None)


def resolved(defs, name):
    chain = []
    d = defs[name]
    while d is not None:
        chain.append(d)
        ext = d.get("extends")
        d = defs.get(ext) if ext else None
    attrs = {}
    constraints = None
    for d in reversed(chain):
        merge_attrs(attrs, d.get("attributes", {}))
        if "constraints" in d:
            constraints = d["constraints"]
    return chain, attrs, constraints


def base_type(t):
    while t in dict_types and dict_types[t].get("type"):
        t = dict_types[t]["type"]
    return t


JSON_TYPE = {
    "string_t": "string",
    "integer_t": "integer",
    "long_t": "integer",
    "float_t": "number",
    "boolean_t": "boolean",
}

needed = []


def attr_schema(name, local):
    a = dict(dict_attrs.get(name, {}))
    enum = dict(a.get("enum", {}))
    a.update(local)
    enum.update(local.get("enum", {}))
    t = a.get("type")
    obj = a.get("object_type", t)
    if (t == "object_t" or t in objects) and obj == "object":
        # The open object (unmapped, xattributes): any members.
        s = {"type": "object"}
    elif t == "object_t" or t in objects:
        if obj not in needed:
            needed.append(obj)
        s = {"$ref": "#/$defs/object." + obj}
    elif t == "json_t" or t is None:
        s = {}
    else:
        bt = base_type(t)
        s = {"type": JSON_TYPE.get(bt, "string")}
        ti = dict_types.get(t, {})
        if "range" in ti:
            s["minimum"], s["maximum"] = ti["range"]
        if enum and name.endswith("_id") and s["type"] == "integer":
            s["enum"] = sorted(int(k) for k in enum)
    if a.get("is_array"):
        s = {"type": "array", "items": s}
    return s, a.get("requirement") == "required" and not a.get("_profile")


def object_schema(props_attrs, constraints):
    props, req = {}, []
    for name, local in sorted(props_attrs.items()):
        s, r = attr_schema(name, local)
        props[name] = s
        if r:
            req.append(name)
    out = {"type": "object", "properties": props,
           "additionalProperties": False}
    if req:
        out["required"] = req
    if constraints:
        alls = []
        if "at_least_one" in constraints:
            alls.append({"anyOf": [{"required": [k]}
                                   for k in constraints["at_least_one"]]})
        if "just_one" in constraints:
            alls.append({"oneOf": [{"required": [k]}
                                   for k in constraints["just_one"]]})
        if alls:
            out["allOf"] = alls
    return out


defs = {}
for cname in sys.argv[2:]:
    chain, attrs, constraints = resolved(events, cname)
    cat = next((d["category"] for d in chain if "category" in d), None)
    cat_uid = categories[cat]["uid"] if cat in categories else 0
    uid = chain[0].get("uid", 0)
    s = object_schema(attrs, constraints)
    s["properties"]["class_uid"] = {"const": cat_uid * 1000 + uid}
    s["properties"]["category_uid"] = {"const": cat_uid}
    ids = s["properties"]["activity_id"].get("enum", [0, 99])
    s["properties"]["type_uid"] = {
        "enum": [(cat_uid * 1000 + uid) * 100 + i for i in ids]}
    defs["class." + cname] = s

while needed:
    o = needed.pop(0)
    if "object." + o in defs:
        continue
    _, attrs, constraints = resolved(objects, o)
    defs["object." + o] = object_schema(attrs, constraints)

version = load("version.json")["version"]
json.dump({"$schema": "https://json-schema.org/draft/2020-12/schema",
           "title": "OCSF %s: %s" % (version, ", ".join(sys.argv[2:])),
           "ocsf_version": version,
           "classes": {n: "#/$defs/class." + n for n in sys.argv[2:]},
           "$defs": defs}, sys.stdout, indent=None, sort_keys=True,
          separators=(",", ":"))
sys.stdout.write("\n")
