#!/usr/bin/env python3
"""Generates Rfc6330Tables.java from the RFC 6330 text (run once; the output is committed).

Usage: gen_rfc6330_tables.py path/to/rfc6330.txt > arrow-codec/src/main/java/io/runicquanta/codec/raptorq/Rfc6330Tables.java
Tables: V0..V3 (section 5.5) and Table 2 (section 5.6). Rfc6330TablesTest re-parses the RFC text
and compares every entry, so a hand edit of the generated file fails the build's tests.
"""
import re
import sys


def section(text, start, end):
    i = text.index(start)
    j = text.index(end, i + len(start))
    return text[i + len(start):j]


def strip_pages(s):
    out = []
    for line in s.splitlines():
        if line.startswith("Luby, et al.") or line.startswith("RFC 6330 "):
            continue
        out.append(line)
    return "\n".join(out)


def main():
    text = open(sys.argv[1], encoding="ascii").read()
    body = text[text.index("5.5.1.  The Table V0\n\n      "):]
    vs = []
    names = ["5.5.1.  The Table V0", "5.5.2.  The Table V1", "5.5.3.  The Table V2",
             "5.5.4.  The Table V3", "5.6.  Systematic Indices"]
    for a, b in zip(names, names[1:]):
        s = strip_pages(section(body, a, b))
        nums = [int(x) for x in re.findall(r"\d+", s)]
        assert len(nums) == 256, (a, len(nums))
        vs.append(nums)
    t2 = strip_pages(section(body, "| K'    | J(K') | S(K') | H(K') | W(K') |", "Table 2: Systematic"))
    rows = []
    for line in t2.splitlines():
        m = re.match(r"^\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*$", line)
        if m:
            rows.append([int(g) for g in m.groups()])
    assert len(rows) == 477, len(rows)
    w = sys.stdout.write
    w("package io.runicquanta.codec.raptorq;\n\n")
    w("/**\n * Tables of RFC 6330, generated from the RFC text by {@code arrow-codec/src/tools/gen_rfc6330_tables.py}\n")
    w(" * (do not edit; {@code Rfc6330TablesTest} compares every entry with the RFC text): the random number\n")
    w(" * tables V0..V3 (section 5.5, unsigned 32-bit values stored in ints) and Table 2 (section 5.6).\n */\n")
    w("final class Rfc6330Tables {\n  private Rfc6330Tables() {}\n\n")

    def arr(name, vals, doc):
        w("  /** %s */\n" % doc)
        w("  static final int[] %s = {\n" % name)
        for i in range(0, len(vals), 8):
            w("    " + ", ".join(str(v if v < 2**31 else v - 2**32) for v in vals[i:i + 8]) + ",\n")
        w("  };\n\n")

    for i, v in enumerate(vs):
        arr("V%d" % i, v, "Table V%d of section 5.5.%d." % (i, i + 1))
    for c, (n, d) in enumerate([("K_PRIME", "K'"), ("J", "J(K')"), ("S", "S(K')"), ("H", "H(K')"), ("W", "W(K')")]):
        arr(n, [r[c] for r in rows], "Column %s of Table 2 (section 5.6), 477 rows." % d)
    w("}\n")


main()
