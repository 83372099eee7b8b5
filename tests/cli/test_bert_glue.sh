#!/bin/sh
# bert-glue end to end. Usage: test_bert_glue.sh BIN_DIR SRC_DIR SHARED_DIR
set -u
bin=$1/bert-glue
src=$2
shared=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {
    if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
"$bin" -q --data "$shared/data" --results "$tmp/r.json" --markdown "$tmp/r.md" SST-2="$src/models/mini-sst2"; rc=$?
[ $rc -eq 0 ] && grep -q '"accuracy": 0.884174311926605' "$tmp/r.json" && grep -q '| SST-2 | dev | 872 | accuracy 0.8842' "$tmp/r.md"
check "SST-2 dev: accuracy in the JSON results and the Markdown table" $?
"$bin" -q --data "$shared/data" --split test --out "$tmp/lb" SST-2="$src/models/mini-sst2" > /dev/null; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/lb/SST-2.tsv")" -eq 1822 ] && head -1 "$tmp/lb/SST-2.tsv" | grep -qx 'index	prediction'
check "SST-2 test: leaderboard file with 1821 rows" $?
"$bin" -q --data "$shared/data" RTE="$src/models/mini-sst2" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 4 ] && grep -q "RTE needs the labels {entailment, not_entailment}; the model's id2label has {negative, positive}" "$tmp/err"
check "label mismatch -> exit 4 listing both sets" $?
mkdir -p "$tmp/data/glue/SST-2"
printf 'sentence\tlabel\ngood\t1\nbad\t7\n' > "$tmp/data/glue/SST-2/dev.tsv"
"$bin" -q --data "$tmp/data" SST-2="$src/models/mini-sst2" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "SST-2/dev.tsv:3: unknown label '7'" "$tmp/err"; check "bad row -> exit 3 naming file and line" $?
"$bin" -q --data "$shared/data" FOO="$src/models/mini-sst2" > /dev/null 2>&1; [ $? -eq 2 ]; check "unknown task -> exit 2" $?
"$bin" --help | grep -q "EXIT STATUS"; check "--help" $?
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
