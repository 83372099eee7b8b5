#!/bin/sh
# Every public header compiles on its own, as strict C11 and (when a C++ compiler is present) as C++.
# Usage: test_headers.sh INCLUDE_DIR C_COMPILER
set -u
inc=$1
cc=$2
fails=0
for h in "$inc"/bert/*.h; do
    name=bert/$(basename "$h")
    printf '#include <%s>\nint bert_header_test_dummy;\n' "$name" > /tmp/bert-hdr-$$.c
    if ! "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$inc" /tmp/bert-hdr-$$.c; then
        echo "FAIL C11: $name"; fails=$((fails + 1))
    fi
    if command -v c++ >/dev/null 2>&1; then
        if ! c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$inc" -x c++ /tmp/bert-hdr-$$.c; then
            echo "FAIL C++: $name"; fails=$((fails + 1))
        fi
    fi
done
rm -f /tmp/bert-hdr-$$.c
[ $fails -eq 0 ] && echo "all headers compile alone"
[ $fails -eq 0 ]
