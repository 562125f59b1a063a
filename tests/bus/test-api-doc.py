#!/usr/bin/env python3
# qmgrd tests — docs/dbus-api.md and introspection/*.xml say the same thing: every
# method (in and out arguments, types and names, in order), property (type, access,
# EmitsChangedSignal) and signal (arguments) of each interface in the XML is in the
# page's interface tables with the same signature, and every member those tables
# name is in the XML. The XML is the contract's machine form; the page is what
# people read. Plain python3 (xml.etree), TAP on stdout.
#
# Usage: test-api-doc.py [--doc docs/dbus-api.md] [--introspection-dir introspection]

import argparse
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

ECS = "org.freedesktop.DBus.Property.EmitsChangedSignal"
IFACE_HEADING = re.compile(r"^## (io\.github\.qmgrd\.QMgr1\.[A-Za-z0-9]+)\s*$")
ECS_IN_DOC = re.compile(r"`EmitsChangedSignal`\s*=\s*`([a-z]+)`")

# The interface tables of the page, by their header row.
TABLE_KINDS = {
    ("method", "in → out", "rules"): "method",
    ("method", "arguments"): "callback",   # methods clients implement: in arguments only
    ("signal", "arguments"): "signal",
    ("property", "type", "access", "meaning"): "property",
}


class DocError(Exception):
    pass


def split_row(line):
    """The cells of a markdown table row ("\\|" inside a cell is not a separator)."""
    cells = re.split(r"(?<!\\)\|", line.strip())
    if cells and cells[0] == "":
        cells = cells[1:]
    if cells and cells[-1] == "":
        cells = cells[:-1]
    return [c.strip() for c in cells]


def member_name(cell, where):
    m = re.fullmatch(r"`([A-Za-z_][A-Za-z0-9_]*)`", cell)
    if not m:
        raise DocError(f"{where}: member cell {cell!r} is not a `Name`")
    return m.group(1)


def parse_args_list(text, where):
    """"u prop_id, v value" (backticks allowed) → [("u", "prop_id"), ("v", "value")]."""
    text = text.replace("`", "").strip()
    if text == "":
        return []
    args = []
    for part in text.split(","):
        words = part.split()
        if len(words) != 2:
            raise DocError(f"{where}: argument {part.strip()!r} is not 'type name'")
        args.append((words[0], words[1]))
    return args


def parse_doc(path):
    """{(interface, kind, name): value} from the page's interface tables, and the
    interfaces that have a section. kind is method, signal or property."""
    members, interfaces, errors = {}, [], []
    iface = None
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = IFACE_HEADING.match(line)
        if m:
            iface = m.group(1)
            interfaces.append(iface)
        elif line.startswith("## "):
            iface = None
        if iface is None or not line.startswith("|"):
            i += 1
            continue
        # A table: header, separator, rows.
        start = i
        table = []
        while i < len(lines) and lines[i].startswith("|"):
            table.append(lines[i])
            i += 1
        header = tuple(c.lower() for c in split_row(table[0]))
        kind = TABLE_KINDS.get(header)
        if kind is None:
            if header and header[0] in ("method", "signal", "property"):
                errors.append(f"{path}:{start + 1}: a {header[0]} table of {iface} "
                              f"with unknown columns {header}")
            continue
        for n, row in enumerate(table[2:], start=start + 3):
            where = f"{path}:{n}"
            cells = split_row(row)
            try:
                if len(cells) != len(header):
                    raise DocError(f"{where}: {len(cells)} cells, the header has {len(header)}")
                name = member_name(cells[0], where)
                if kind == "method":
                    if cells[1].count("→") != 1:
                        raise DocError(f"{where}: signature {cells[1]!r} needs one '→'")
                    ins, outs = cells[1].split("→")
                    key = (iface, "method", name)
                    value = (parse_args_list(ins, where), parse_args_list(outs, where))
                elif kind == "callback":
                    key = (iface, "method", name)
                    value = (parse_args_list(cells[1], where), [])
                elif kind == "signal":
                    key = (iface, "signal", name)
                    value = parse_args_list(cells[1], where)
                else:
                    ecs = ECS_IN_DOC.search(cells[3])
                    key = (iface, "property", name)
                    value = (cells[1].replace("`", ""), cells[2],
                             ecs.group(1) if ecs else "true")
                if key in members:
                    raise DocError(f"{where}: {name} is documented twice in {iface}")
                members[key] = value
            except DocError as e:
                errors.append(str(e))
    return members, interfaces, errors


def parse_xml(directory):
    members, interfaces, errors = {}, [], []
    files = sorted(glob.glob(os.path.join(directory, "*.xml")))
    if not files:
        errors.append(f"no introspection XML in {directory}")
    for path in files:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as e:
            errors.append(f"{path}: {e}")
            continue
        for iface_el in root.iter("interface"):
            iface = iface_el.get("name")
            interfaces.append(iface)
            iface_ecs = "true"
            for a in iface_el.findall("annotation"):
                if a.get("name") == ECS:
                    iface_ecs = a.get("value")
            for m in iface_el.findall("method"):
                args = m.findall("arg")
                ins = [(a.get("type"), a.get("name")) for a in args
                       if a.get("direction", "in") == "in"]
                outs = [(a.get("type"), a.get("name")) for a in args
                        if a.get("direction", "in") == "out"]
                members[(iface, "method", m.get("name"))] = (ins, outs)
            for s in iface_el.findall("signal"):
                members[(iface, "signal", s.get("name"))] = [
                    (a.get("type"), a.get("name")) for a in s.findall("arg")]
            for p in iface_el.findall("property"):
                ecs = iface_ecs
                for a in p.findall("annotation"):
                    if a.get("name") == ECS:
                        ecs = a.get("value")
                members[(iface, "property", p.get("name"))] = (p.get("type"),
                                                              p.get("access"), ecs)
    return members, interfaces, errors


def show(kind, value):
    if value is None:
        return "absent"
    if kind == "method":
        ins, outs = value
        return "(" + ", ".join(f"{t} {n}" for t, n in ins) + ") → (" + \
               ", ".join(f"{t} {n}" for t, n in outs) + ")"
    if kind == "signal":
        return "(" + ", ".join(f"{t} {n}" for t, n in value) + ")"
    return f"type {value[0]}, access {value[1]}, EmitsChangedSignal {value[2]}"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.normpath(os.path.join(here, "..", ".."))
    ap = argparse.ArgumentParser(description="Checks docs/dbus-api.md against introspection/*.xml.")
    ap.add_argument("--doc", default=os.path.join(top, "docs", "dbus-api.md"))
    ap.add_argument("--introspection-dir", default=os.path.join(top, "introspection"))
    opts = ap.parse_args()

    doc, doc_ifaces, doc_errors = parse_doc(opts.doc)
    xml, xml_ifaces, xml_errors = parse_xml(opts.introspection_dir)

    results = []   # (ok, description, diagnostics)
    for e in xml_errors + doc_errors:
        results.append((False, "the XML and the page parse", [e]))
    if not xml_errors and not doc_errors:
        results.append((True, "the XML and the page parse", []))
    for iface in sorted(set(xml_ifaces) | set(doc_ifaces)):
        in_xml, in_doc = iface in xml_ifaces, iface in doc_ifaces
        diag = []
        if not in_doc:
            diag.append(f"no '## {iface}' section in {opts.doc}")
        if not in_xml:
            diag.append(f"the page documents {iface}, which no XML file declares")
        if doc_ifaces.count(iface) > 1:
            diag.append(f"{doc_ifaces.count(iface)} sections for {iface}")
        results.append((not diag, f"interface {iface} is in both", diag))
    for key in sorted(set(xml) | set(doc)):
        iface, kind, name = key
        short = iface.rsplit(".", 1)[-1]
        x, d = xml.get(key), doc.get(key)
        results.append((x == d, f"{short}.{name} ({kind}): {show(kind, x)}",
                        [] if x == d else [f"XML:  {show(kind, x)}",
                                           f"page: {show(kind, d)}"]))

    print(f"1..{len(results)}")
    failed = 0
    for n, (ok, what, diag) in enumerate(results, start=1):
        print(f"{'ok' if ok else 'not ok'} {n} - {what}")
        for line in diag:
            print(f"# {line}")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
