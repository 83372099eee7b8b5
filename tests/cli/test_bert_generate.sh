#!/bin/sh
# bert-generate end to end. Usage: test_bert_generate.sh BIN_DIR SHARED_DIR
set -u
bin=$1/bert-generate
shared=$2
model=$shared/models/tiny-causal
. "$(dirname "$0")/common.sh"

# greedy: the text and ids of fixtures/tiny-causal/greedy_reference.json (prompt 0)
"$bin" --model "$model" --max-new-tokens 24 --ids the quick brown fox > "$tmp/g.txt"; rc=$?
[ $rc -eq 0 ] && head -1 "$tmp/g.txt" | grep -qxF 'the quick brown foxno pi 加 加 rotate hoop fiscal destinations discreetス baghdadno convictions destinationsス pathno clubs 加phic clubs rained compilations [unused36]'
check "greedy text = reference" $?
sed -n 2p "$tmp/g.txt" | grep -qx '101 1996 4248 2829 4419 3630 14255 1779 1779 24357 27669 10807 14345 29321 30233 13952 3630 20488 14345 30233 4130 3630 4184 1779 17926 4184 28270 22754 37'
check "greedy ids = reference" $?
# --weights mapped: the F32 file's weights read in place (another GEMM call): the same greedy ids
"$bin" --model "$model" --weights mapped --max-new-tokens 24 --ids the quick brown fox > "$tmp/m.txt"; rc=$?
[ $rc -eq 0 ] && cmp -s "$tmp/g.txt" "$tmp/m.txt"; check "--weights mapped: greedy output = packed" $?
"$bin" --model "$model" --weights lazy x > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "packed or mapped" "$tmp/err"; check "--weights lazy -> exit 2" $?
# --precision int8: the same decoding loop on quantised products (a random tiny model's argmax can
# tip, so only the shape is checked: 5 prompt ids + 24 new); a bad value is usage
"$bin" --model "$model" --precision int8 --max-new-tokens 24 --ids the quick brown fox > "$tmp/q.txt"; rc=$?
[ $rc -eq 0 ] && [ "$(sed -n 2p "$tmp/q.txt" | wc -w)" -eq 29 ]; check "--precision int8: 24 new tokens" $?
"$bin" --model "$model" --precision fp64 x > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "precision" "$tmp/err"; check "--precision fp64 -> exit 2" $?
# prompts from stdin, sampling reproducible by seed
printf 'once upon a time\nthe film\n' | "$bin" --model "$model" --seed 5 --top-p 0.9 > "$tmp/s1.txt"; rc=$?
printf 'once upon a time\nthe film\n' | "$bin" --model "$model" --seed 5 --top-p 0.9 > "$tmp/s2.txt"
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/s1.txt")" -eq 2 ] && cmp -s "$tmp/s1.txt" "$tmp/s2.txt"
check "stdin prompts, same seed -> same text" $?
# errors
"$bin" --model "$model" --top-p 1.5 x > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "top-p: '1.5' is not a number in (0, 1\]" "$tmp/err"; check "top-p 1.5 -> exit 2" $?
"$bin" --model "$model" --temperature -1 x > /dev/null 2> "$tmp/err"; [ $? -eq 2 ]; check "negative temperature -> exit 2" $?
echo "" | "$bin" --model "$model" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "prompt is empty" "$tmp/err"; check "empty prompt -> exit 3" $?
: | "$bin" --model "$model" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "<stdin>: empty input: no prompts" "$tmp/err"; check "empty stdin -> exit 3" $?
"$bin" x > /dev/null 2>&1; [ $? -eq 2 ]; check "no --model -> exit 2" $?
"$bin" --model "$shared/models/tiny-gelu-3labels" x > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 4 ] && grep -q "no LM head" "$tmp/err"; check "classifier model -> exit 4" $?
"$bin" --help | grep -q "EXIT STATUS"; check "--help" $?
# text that does not reach stdout stops the generation with exit 5
"$bin" --model "$model" the quick brown fox > /dev/full 2> "$tmp/err"; rc=$?
[ $rc -eq 5 ] && grep -q "standard output: write error: No space left on device" "$tmp/err"
check "stdout on a full device -> exit 5" $?
"$bin" --model "$model" the quick brown fox >&- 2> "$tmp/err"; rc=$?
[ $rc -eq 5 ] && grep -q "standard output: write error: Bad file descriptor" "$tmp/err"; check "closed stdout -> exit 5" $?
echo "the quick brown fox" | "$bin" --model "$model" --ids > /dev/full 2> "$tmp/err"; rc=$?
[ $rc -eq 5 ] && grep -q "standard output: write error" "$tmp/err"; check "stdin prompts, full stdout -> exit 5" $?
# bounded options; running out of positions is said, not silent
"$bin" --model "$model" --top-p 0 the quick > "$tmp/o.out" 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && [ ! -s "$tmp/o.out" ] && grep -q "top-p: '0' is not a number in (0, 1\]" "$tmp/err"
check "--top-p 0 -> exit 2 before any output" $?
"$bin" --model "$model" --threads 65536 the quick > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "threads: '65536' is not an integer from 1 to 1024" "$tmp/err"; check "--threads 65536 -> exit 2" $?
"$bin" --model "$model" --max-new-tokens 100000 the quick > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && grep -q "note: stopped after [0-9]* new tokens, not 100000: the model has" "$tmp/err"
check "--max-new-tokens past the positions -> a note on stderr" $?
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
