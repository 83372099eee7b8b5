#!/bin/sh
# Fault injection for every tool's output: the file size limit (ulimit -f, in 512-byte blocks, with
# SIGXFSZ ignored so that write() fails with EFBIG as on a full disk) is set at every block of each
# output (every 1/64th of the longer ones), from no byte at all to just short of the whole. stdio
# writes a file in 4096-byte writes (and bert-generate one write per token), so each write fails
# in turn. Every run must exit 5 naming the write error, and bert-glue must leave no partial
# leaderboard or results file. (A write() shim cannot do this: glibc's stdio calls its own.)
# Usage: test_write_failures.sh BIN_DIR SRC_DIR SHARED_DIR
set -u
bin=$1
src=$2
shared=$3
. "$(dirname "$0")/common.sh"
# stdout goes to part.out under the limit; stderr and the exit status are caught outside it
limited() { # blocks command...
    k=$1
    shift
    ( (trap '' XFSZ; ulimit -f "$k" && "$@") > "$tmp/part.out"; echo $? > "$tmp/rc") 2>&1 | cat > "$tmp/err"
    rc=$(cat "$tmp/rc")
}
# Runs the command whole once, then cut at every block of its output (at most 64 points).
each_cut() { # name command...
    name=$1
    shift
    "$@" > "$tmp/full.out" 2> /dev/null || { check "$name: runs without a limit" 1; return; }
    blocks=$(( ($(wc -c < "$tmp/full.out") + 511) / 512 ))
    step=$(( (blocks + 63) / 64 ))
    k=0
    bad=0
    cuts=0
    while [ $k -lt $blocks ]; do
        limited $k "$@"
        cuts=$((cuts + 1))
        if [ "$rc" -ne 5 ] || ! grep -q "write error" "$tmp/err"; then
            echo "    $name cut at $k blocks: exit $rc, $(head -c 200 "$tmp/err")"
            bad=1
        fi
        k=$((k + step))
    done
    check "$name: output cut at $cuts points -> exit 5, 'write error', every time" $bad
}

tail -n +2 "$shared/data/glue/SST-2/dev.tsv" | cut -f1 | head -n 100 > "$tmp/dev.txt"
# a small GLUE folder: SST-2's first 200 dev and 400 test rows, in their own layout
mkdir -p "$tmp/data/glue/SST-2"
head -n 201 "$shared/data/glue/SST-2/dev.tsv" > "$tmp/data/glue/SST-2/dev.tsv"
head -n 401 "$shared/data/glue/SST-2/test.tsv" > "$tmp/data/glue/SST-2/test.tsv"
each_cut "bert-classify" "$bin/bert-classify" -q "$tmp/dev.txt"
each_cut "bert-classify jsonl" "$bin/bert-classify" -q --format jsonl "$src/examples/sample.txt"
each_cut "bert-tokenize" "$bin/bert-tokenize" "$tmp/dev.txt"
each_cut "bert-generate" "$bin/bert-generate" --model "$shared/models/tiny-causal" --max-new-tokens 600 the quick brown fox
each_cut "bert-bench" "$bin/bert-bench" tokenizer --reps 1 "$src/examples/sample.txt"
each_cut "bert-glue table" "$bin/bert-glue" -q --data "$tmp/data" SST-2="$src/models/mini-sst2"

# bert-glue's files: cut anywhere (the limit is on each file's size: every block of the largest),
# the folder holds each file whole, as the full run wrote it, or not at all (the leaderboard file
# is complete before the predictions file is written); the table goes to stdout, which is not
# limited here, and the results file is never left by a failed run
"$bin/bert-glue" -q --data "$tmp/data" --split test --predictions --out "$tmp/full" SST-2="$src/models/mini-sst2" > /dev/null
blocks=$(( ($(wc -c "$tmp/full/"* | sort -n | tail -n 2 | head -n 1 | awk '{print $1}') + 511) / 512 ))
bad=0
k=0
cuts=0
while [ $k -lt "$blocks" ]; do
    rm -rf "$tmp/lb" && mkdir "$tmp/lb"
    (trap '' XFSZ; ulimit -f "$k" && "$bin/bert-glue" -q --data "$tmp/data" --split test --predictions --out "$tmp/lb" \
        --results "$tmp/lb/r.json" SST-2="$src/models/mini-sst2" > /dev/null 2> /dev/null); rc=$?
    partial=0
    for f in "$tmp/lb/"*; do
        [ -e "$f" ] || continue
        cmp -s "$f" "$tmp/full/${f##*/}" || partial=1
    done
    if [ $rc -ne 5 ] || [ $partial -ne 0 ]; then
        echo "    bert-glue files cut at $k blocks: exit $rc, left: $(ls "$tmp/lb" | tr '\n' ' ')"
        bad=1
    fi
    k=$((k + 1))
    cuts=$((cuts + 1))
done
check "bert-glue leaderboard, predictions and results cut at every one of $cuts blocks -> exit 5, each file whole or absent" $bad
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
