#!/bin/sh
# Every tool that reads lines (bert-classify, bert-tokenize, bert-generate, bert-bench tokenizer)
# bounds a line: over the maximum is exit 3 naming the line; a line whose buffer cannot grow is
# exit 5 naming it (never taken for the end of the input); /dev/zero ends with an error, not with
# the system killing the process. Usage: test_line_limits.sh BIN_DIR SHARED_DIR
set -u
bin=$1
shared=$2
. "$(dirname "$0")/common.sh"
# the tools as each is run on lines: name, then the command (stdin or a file argument)
run() { # tool input_file
    case "$1" in
    classify) "$bin/bert-classify" -q "$2" ;;
    tokenize) "$bin/bert-tokenize" "$2" ;;
    generate) "$bin/bert-generate" --model "$shared/models/tiny-causal" --max-new-tokens 2 < "$2" ;;
    bench) "$bin/bert-bench" tokenizer --reps 1 "$2" ;;
    esac
}
where() { case "$1" in generate) echo "<stdin>" ;; *) echo "$2" ;; esac; }

# a 200-byte second line against a 100-byte maximum
{ echo "first line"; head -c 200 /dev/zero | tr '\0' 'a'; echo; echo "last line"; } > "$tmp/long.txt"
for t in classify tokenize generate bench; do
    BERT_MAX_LINE_BYTES=100 run $t "$tmp/long.txt" > /dev/null 2> "$tmp/err"; rc=$?
    [ $rc -eq 3 ] && grep -qF "$(where $t "$tmp/long.txt"):2: the line is longer than 100 bytes" "$tmp/err"
    check "$t: line 2 over BERT_MAX_LINE_BYTES -> exit 3 naming line 2" $?
    BERT_MAX_LINE_BYTES=201 run $t "$tmp/long.txt" > /dev/null 2> "$tmp/err"; rc=$?
    [ $rc -eq 0 ]; check "$t: the same line within the maximum -> exit 0" $?
done

# /dev/zero: one endless line of NUL bytes, stopped at the default maximum (256 MiB)
"$bin/bert-classify" -q /dev/zero > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "/dev/zero:1: the line is longer than 268435456 bytes" "$tmp/err"
check "classify /dev/zero -> exit 3 at the default maximum" $?

# out of memory while a line grows: ulimit -v for a plain build; under AddressSanitizer (which
# reserves terabytes of address space) its allocator refuses allocations over 64 MiB instead
{ echo "first line"; head -c 150000000 /dev/zero | tr '\0' 'a'; echo; echo "last line"; } > "$tmp/huge.txt"
if ldd "$bin/bert-classify" 2>/dev/null | grep -q libasan; then
    limit() { ASAN_OPTIONS="${ASAN_OPTIONS:-}:allocator_may_return_null=1:max_allocation_size_mb=64" "$@"; }
else
    limit() { (ulimit -v 250000 && "$@"); }
fi
for t in classify tokenize generate bench; do
    limit run $t "$tmp/huge.txt" > /dev/null 2> "$tmp/err"; rc=$?
    [ $rc -eq 5 ] && grep -qF "$(where $t "$tmp/huge.txt"):2: out of memory reading the line" "$tmp/err"
    check "$t: no memory for line 2 -> exit 5 naming line 2 (not the end of the input)" $?
done
[ $fails -eq 0 ]
