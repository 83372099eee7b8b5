#!/bin/sh
# The man pages as man shows them: every option each tool's --help lists appears in its page,
# spelled as typed (roff's hyphens rendered as ASCII '-', never hyphenated across lines), and
# libbert(3) names every function the public headers export.
# usage: test_man_pages.sh TOOLS_DIR MAN_DIR INCLUDE_DIR  (MAN_DIR holds man1/ and man3/)
set -u
. "$(dirname "$0")/common.sh"
tools=$1
mandir=$2
include=$3

show() { # the page as text: no hyphenation or justification, wide lines, no overstrikes
    MANWIDTH=200 MAN_KEEP_FORMATTING= man --nh --nj -M "$mandir" "$@" 2>"$tmp/man.err" | sed 's/.\x08//g'
}

for t in bert-classify bert-glue bert-generate bert-tokenize bert-serve bert-bench; do
    show "$t" > "$tmp/$t.txt"
    [ -s "$tmp/$t.txt" ] && grep -q "^NAME" "$tmp/$t.txt"
    check "man $t renders ($(wc -l < "$tmp/$t.txt") lines)" $?
    # options: "    --name ARG  ...", "    --quiet, -q", "    -h, --help" at the table's indent
    "$tools/$t" --help | grep -oE '^    -[-a-zA-Z0-9]+(, -[-a-zA-Z0-9]+)?' | tr ',' '\n' | tr -d ' ' | sort -u > "$tmp/opts"
    n=$(wc -l < "$tmp/opts")
    missing=""
    while read -r o; do
        grep -qe "(^|[^-a-zA-Z0-9])$o([^-a-zA-Z0-9]|\$)" -E "$tmp/$t.txt" || missing="$missing $o"
    done < "$tmp/opts"
    [ "$n" -ge 5 ] && [ -z "$missing" ]
    check "man $t names all $n options of --help${missing:+ (missing:$missing)}" $?
done

show 3 libbert > "$tmp/libbert.txt"
grep -q "^NAME" "$tmp/libbert.txt"
check "man 3 libbert renders" $?
grep -hoE 'BERT_API [^(]*[ *](bert_[a-z0-9_]+)\(' "$include"/bert/*.h | grep -oE 'bert_[a-z0-9_]+\($' | tr -d '(' | sort -u > "$tmp/fns"
n=$(wc -l < "$tmp/fns")
missing=""
while read -r f; do
    grep -qw "$f" "$tmp/libbert.txt" || missing="$missing $f"
done < "$tmp/fns"
[ "$n" -ge 80 ] && [ -z "$missing" ]
check "man 3 libbert names all $n exported functions${missing:+ (missing:$missing)}" $?

[ "$fails" -eq 0 ]
