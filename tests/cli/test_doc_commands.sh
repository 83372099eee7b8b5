#!/bin/sh
# The command-line examples of docs/*.md are run and their output compared, character for character:
# a ```console block right after a line <!-- checked --> holds commands ("$ " lines, run by sh with
# the built tools first on PATH and $SHARED set to the shared folder) each followed by the output it
# must print on stdout: the same text, and the same numbers within 2e-6 (relative above 1), so that
# another CPU's last printed digit of a float does not fail it.
# usage: test_doc_commands.sh TOOLS_DIR SOURCE_DIR SHARED_DIR
set -eu
tools=$1
src=$2
SHARED=$3
export SHARED
PATH="$tools:$PATH"
export PATH
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bert-doccmd-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
checked=0

# same WANT GOT: line by line, the text between numbers equal and the numbers close
same() {
    [ "$(wc -l < "$1")" -eq "$(wc -l < "$2")" ] || return 1
    sep=$(printf '\001')
    paste -d "$sep" "$1" "$2" | awk -F "$sep" '
        function split_nums(s, txt, num,    n, re) {
            n = 0
            re = "-?[0-9]+(\\.[0-9]+)?(e[-+]?[0-9]+)?"
            while (match(s, re)) {
                txt[n] = substr(s, 1, RSTART - 1); num[n] = substr(s, RSTART, RLENGTH) + 0; n++
                s = substr(s, RSTART + RLENGTH)
            }
            txt[n] = s
            return n
        }
        {
            na = split_nums($1, ta, xa); nb = split_nums($2, tb, xb)
            if (na != nb) exit 1
            for (i = 0; i <= na; i++) if (ta[i] != tb[i]) exit 1
            for (i = 0; i < na; i++) {
                d = xa[i] - xb[i]; if (d < 0) d = -d
                m = xa[i] < 0 ? -xa[i] : xa[i]; if (m < 1) m = 1
                if (d > 2e-6 * m) exit 1
            }
        }'
}
for md in "$src"/docs/*.md; do
    rm -f "$tmp"/c.* "$tmp"/w.*
    # c.N: command N; w.N: the output it must print
    awk -v dir="$tmp" '
        /^<!-- checked -->$/ { armed = 1; next }
        /^```console$/ && armed { inblock = 1; armed = 0; next }
        /^```/ && inblock { inblock = 0; next }
        inblock && /^\$ / { n++; printf "%s\n", substr($0, 3) > (dir "/c." n); printf "" > (dir "/w." n); next }
        inblock && n { print > (dir "/w." n); next }
        { if ($0 !~ /^[ \t]*$/) armed = 0 }
    ' "$md"
    for c in "$tmp"/c.*; do
        [ -e "$c" ] || continue
        k=${c##*.}
        (cd "$tmp" && sh "$c") > "$tmp/got" 2> "$tmp/err" || { echo "FAIL: $md: \`$(cat "$c")\` exited $?:"; cat "$tmp/err"; fail=1; continue; }
        if ! same "$tmp/w.$k" "$tmp/got"; then
            diff -u "$tmp/w.$k" "$tmp/got" > "$tmp/diff" || true
            echo "FAIL: $md: \`$(cat "$c")\` printed something else:"
            cat "$tmp/diff"
            fail=1
            continue
        fi
        checked=$((checked + 1))
    done
done
echo "$checked documented commands printed what docs/ says"
[ "$fail" = 0 ] && [ "$checked" -gt 0 ]
