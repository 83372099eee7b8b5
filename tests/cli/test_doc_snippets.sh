#!/bin/sh
# Every C and Python block of the README and the manual is a piece of a program the tests build and
# run: each ```c or ```python block must follow a marker line <!-- snippet: docs/examples/FILE NAME -->
# and equal, once dedented, the lines between the two [snippet:NAME] comments of that file
# (/* [snippet:NAME] */ in C, # [snippet:NAME] in Python).
# usage: test_doc_snippets.sh SOURCE_DIR
set -eu
src=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bert-snippets-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
checked=0

dedent() {
    awk '{ lines[NR] = $0 }
         END {
             min = -1
             for (i = 1; i <= NR; i++) {
                 if (lines[i] ~ /^[ \t]*$/) continue
                 match(lines[i], /^ */)
                 if (min < 0 || RLENGTH < min) min = RLENGTH
             }
             for (i = 1; i <= NR; i++) print (lines[i] ~ /^[ \t]*$/ ? "" : substr(lines[i], min + 1))
         }' "$1"
}

for md in "$src/README.md" "$src"/docs/*.md; do
    # blocks: tmp/b.N (the code) and tmp/b.N.ref ("FILE NAME" from the marker, or "-")
    rm -f "$tmp"/b.*
    awk -v dir="$tmp" '
        /^<!-- snippet: .* -->$/ { ref = $3 " " $4; next }
        /^```(c|python)$/ { n++; inblock = 1; out = dir "/b." n; printf "%s\n", (ref == "" ? "-" : ref) > (out ".ref"); ref = ""; next }
        /^```/ && inblock { inblock = 0; close(out); next }
        inblock { print > out; next }
        { if ($0 !~ /^[ \t]*$/) ref = "" }
    ' "$md"
    for ref in "$tmp"/b.*.ref; do
        [ -e "$ref" ] || continue
        block=${ref%.ref}
        set -- $(cat "$ref")
        if [ "$1" = "-" ]; then
            echo "FAIL: $md: a code block with no <!-- snippet: docs/examples/FILE NAME --> marker before it"
            fail=1
            continue
        fi
        file=$src/$1
        name=$2
        if [ ! -f "$file" ]; then
            echo "FAIL: $md: snippet file $1 does not exist"
            fail=1
            continue
        fi
        awk -v tag="[snippet:$name]" 'index($0, tag) { inside = !inside; n++; next } inside { print } END { if (n != 2) exit 1 }' \
            "$file" > "$tmp/want.raw" || { echo "FAIL: $md: $1 has no pair of [snippet:$name] markers"; fail=1; continue; }
        dedent "$tmp/want.raw" > "$tmp/want"
        dedent "$block" > "$tmp/got"
        if ! diff -u "$tmp/want" "$tmp/got" > "$tmp/diff"; then
            echo "FAIL: $md: the block marked $1 $name differs from the program:"
            cat "$tmp/diff"
            fail=1
            continue
        fi
        checked=$((checked + 1))
    done
done
echo "$checked C and Python blocks of the README and docs/ equal their programs' snippets"
[ "$fail" = 0 ] && [ "$checked" -gt 0 ]
