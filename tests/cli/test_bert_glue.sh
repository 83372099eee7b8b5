#!/bin/sh
# bert-glue end to end. Usage: test_bert_glue.sh BIN_DIR SRC_DIR SHARED_DIR
set -u
bin=$1/bert-glue
src=$2
shared=$3
. "$(dirname "$0")/common.sh"
"$bin" -q --data "$shared/data" --results "$tmp/r.json" --markdown "$tmp/r.md" SST-2="$src/models/mini-sst2"; rc=$?
[ $rc -eq 0 ] && grep -q '"accuracy": 0.884174311926605' "$tmp/r.json" && grep -q '| SST-2 | dev | 872 | accuracy 0.8842' "$tmp/r.md"
check "SST-2 dev: accuracy in the JSON results and the Markdown table" $?
"$bin" -q --data "$shared/data" --split test --out "$tmp/lb" SST-2="$src/models/mini-sst2" > /dev/null; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/lb/SST-2.tsv")" -eq 1822 ] && head -1 "$tmp/lb/SST-2.tsv" | grep -qx 'index	prediction'
check "SST-2 test: leaderboard file with 1821 rows" $?
"$bin" -q --data "$shared/data" RTE="$src/models/mini-sst2" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 4 ] && grep -q "RTE needs the labels {entailment, not_entailment}; the model's id2label has {negative, positive}" "$tmp/err"
check "label mismatch -> exit 4 listing both sets" $?
[ ! -s "$tmp/out" ]; check "no table (not even its header) when no task finished" $?
mkdir -p "$tmp/data/glue/SST-2"
printf 'sentence\tlabel\ngood\t1\nbad\t7\n' > "$tmp/data/glue/SST-2/dev.tsv"
"$bin" -q --data "$tmp/data" SST-2="$src/models/mini-sst2" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "SST-2/dev.tsv:3: unknown label '7'" "$tmp/err"; check "bad row -> exit 3 naming file and line" $?
"$bin" -q --data "$shared/data" FOO="$src/models/mini-sst2" > /dev/null 2>&1; [ $? -eq 2 ]; check "unknown task -> exit 2" $?
"$bin" --help | grep -q "EXIT STATUS"; check "--help" $?

# Writes that fail are exit 5 naming the file, never a silent 0; files appear whole or not at all.
run_test() { "$bin" -q --data "$shared/data" --split test "$@" SST-2="$src/models/mini-sst2"; }
run_test --out "$tmp/lb" --results /dev/full > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 5 ] && grep -q "/dev/full: write error: No space left on device" "$tmp/err"
check "--results /dev/full -> exit 5" $?
run_test --out "$tmp/lb" --markdown /dev/full > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 5 ] && grep -q "/dev/full: write error" "$tmp/err"; check "--markdown /dev/full -> exit 5" $?
run_test --out "$tmp/lb" > /dev/full 2> "$tmp/err"; rc=$?
[ $rc -eq 5 ] && grep -q "standard output: write error" "$tmp/err"; check "table to a full stdout -> exit 5" $?
# an output that cannot be created is found before any task runs (no model is even loaded)
run_test --out /dev/null > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 5 ] && grep -q "\-\-out /dev/null: cannot create files there: Not a directory" "$tmp/err" && ! grep -q "SST-2" "$tmp/err"
check "--out that cannot hold files -> exit 5 before the run" $?
run_test --out "$tmp/lb" --results "$tmp/nodir/r.json" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 5 ] && grep -q "nodir/r.json: cannot create: No such file or directory" "$tmp/err"
check "--results in a missing folder -> exit 5 before the run" $?
# A write that fails half way (the file size limit, SIGXFSZ ignored so that write() says EFBIG)
# leaves the previous leaderboard file as it was and no temporary file beside it.
mkdir -p "$tmp/old" && printf 'index\tprediction\n0\t1\n' > "$tmp/old/SST-2.tsv"
(trap '' XFSZ; ulimit -f 8; run_test --out "$tmp/old" > /dev/null 2> "$tmp/err"); rc=$?
[ $rc -eq 5 ] && grep -q "old/SST-2.tsv: write error: File too large" "$tmp/err" &&
    [ "$(cat "$tmp/old/SST-2.tsv")" = "$(printf 'index\tprediction\n0\t1')" ] && [ "$(ls "$tmp/old")" = "SST-2.tsv" ]
check "a write that fails half way -> exit 5, the old file intact, nothing partial" $?
run_test --out "$tmp/old" --results "$tmp/old/r.json" > /dev/null; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/old/SST-2.tsv")" -eq 1822 ] && [ "$(ls "$tmp/old" | wc -l)" -eq 2 ]
check "the same run with room -> the whole file, no temporary left" $?
"$bin" -q --data "$shared/data" --max-length 1 SST-2="$src/models/mini-sst2" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "max-length: '1' is not an integer from 4 to 1048576" "$tmp/err"; check "--max-length 1 -> exit 2, the range" $?
"$bin" -q --data "$shared/data" --threads 65536 SST-2="$src/models/mini-sst2" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "threads: '65536' is not an integer from 1 to 1024" "$tmp/err"; check "--threads 65536 -> exit 2" $?
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
