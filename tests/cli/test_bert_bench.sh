#!/bin/sh
# bert-bench runs (no timing is checked): make-model writes a loadable folder, model and load run on
# it, tokenizer runs on a small file. Usage: test_bert_bench.sh BIN_DIR
set -u
bin=$1/bert-bench
. "$(dirname "$0")/common.sh"
"$bin" make-model "$tmp/m" --layers 1 --hidden 32 --heads 4 --intermediate 64 > /dev/null; check "make-model" $?
"$bin" model --model "$tmp/m" --reps 1 --threads 1 > "$tmp/out"; rc=$?
[ $rc -eq 0 ] && [ "$(grep -c '"bench":"model"' "$tmp/out")" -eq 4 ]; check "model: four workloads" $?
grep -q '"cls_only":1' "$tmp/out" && grep -q '"fma_peak_gflop_per_s"' "$tmp/out"; check "model: cls_only runs, FMA peak" $?
"$bin" model --model "$tmp/m" --reps 1 --threads 1 --workload b1_s128 --all-rows | grep -q '"cls_only":0'
check "model --all-rows" $?
"$bin" load --model "$tmp/m" --reps 1 | grep -q '"peak_rss_mib"'; check "load" $?
"$bin" load --model "$tmp/m" --reps 1 --weights mapped > "$tmp/load"; rc=$?
# make-model writes F32: mapped reads the layer weights in place, packed only the embedding tables
[ $rc -eq 0 ] && grep -q '"weights":"mapped"' "$tmp/load" &&
    [ "$(sed 's/.*"mapped_bytes":\([0-9]*\).*/\1/' "$tmp/load")" != "$("$bin" load --model "$tmp/m" --reps 1 | sed 's/.*"mapped_bytes":\([0-9]*\).*/\1/')" ]
check "load --weights mapped: more read in place" $?
# Shapes that are not multiples of the loader's 64-row pieces (QKV parts of 80 rows: 64 + 16; the
# intermediate's 200: 64 x 3 + 8): the packed weights, transposed piece by piece at load, give the
# embeddings that the weights read in place from the file give (another GEMM: within 1e-4)
"$bin" make-model "$tmp/odd" --layers 2 --hidden 80 --heads 4 --intermediate 200 > /dev/null
printf 'the loader splits every weight into pieces\n' > "$tmp/odd.txt"
for w in packed mapped; do
    "$1/bert-classify" --model "$tmp/odd" --task embed --weights $w "$tmp/odd.txt" | tr '\t' '\n' > "$tmp/odd.$w"
done
[ "$(wc -l < "$tmp/odd.packed")" -eq 80 ] &&
    paste "$tmp/odd.packed" "$tmp/odd.mapped" | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-4) bad = 1 } END { exit bad }'
check "odd shapes: packed = mapped within 1e-4" $?
printf 'a line\nanother line\n' > "$tmp/t.txt"
"$bin" tokenizer --reps 1 "$tmp/t.txt" | grep -q '"tokens":8'; check "tokenizer" $?
"$bin" nosuch > /dev/null 2>&1; [ $? -eq 2 ]; check "unknown benchmark -> exit 2" $?
# results that do not reach stdout are a failure, not exit 0
"$bin" tokenizer --reps 1 "$tmp/t.txt" > /dev/full 2> "$tmp/err"; rc=$?
[ $rc -eq 5 ] && grep -q "standard output: write error" "$tmp/err"; check "stdout on a full device -> exit 5" $?
"$bin" model --model "$tmp/m" --reps 1 --threads 1 --workload b1_s128 >&- 2> "$tmp/err"; rc=$?
[ $rc -eq 5 ] && grep -q "standard output: write error" "$tmp/err"; check "closed stdout -> exit 5" $?
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
