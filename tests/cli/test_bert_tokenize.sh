#!/bin/sh
# bert-tokenize end to end: output, exit codes and error messages. Usage: test_bert_tokenize.sh BIN_DIR SRC_DIR
set -u
bin=$1/bert-tokenize
src=$2
. "$(dirname "$0")/common.sh"

# the README's first command: the sample file with the embedded default model
# (expected ids checked against HF tokenizers 0.23 via ../shared/bench/peer_tokenizers.js --dump)
"$bin" "$src/examples/sample.txt" > "$tmp/out.jsonl"; rc=$?
check "sample exits 0" $rc
[ "$(wc -l < "$tmp/out.jsonl")" -eq "$(wc -l < "$src/examples/sample.txt")" ]; check "one object per line" $?
head -1 "$tmp/out.jsonl" | grep -q '"ids":\[101,1037,13940,1010,17950' ; check "first line ids" $?
grep -q '"tokens":\["\[CLS\]","cr","##eme","br","##ule","##e"' "$tmp/out.jsonl" ; check "accents stripped" $?

# stdin, pairs, truncation with overflow, char offsets
printf 'a b c d e f g hh ii jj\n' | "$bin" --max-length 8 --overflow - > "$tmp/o.jsonl"; rc=$?
check "overflow exits 0" $rc
[ "$(wc -l < "$tmp/o.jsonl")" -eq 2 ] && grep -q '"window":1,"ids":\[101,1043,1044,2232,102\]' "$tmp/o.jsonl"
check "overflow window like HF" $?
printf 'caf\303\251\tb\n' | "$bin" --pair --char-offsets > "$tmp/p.jsonl"; rc=$?
check "pair exits 0" $rc
grep -q '"type_ids":\[0,0,0,1,1\]' "$tmp/p.jsonl" && grep -q '"offsets":\[\[0,0\],\[0,5\],\[0,0\],\[0,1\],\[0,0\]\]' "$tmp/p.jsonl" \
  && grep -q '"char_offsets":\[\[0,0\],\[0,4\],\[0,0\],\[0,1\],\[0,0\]\]' "$tmp/p.jsonl"
check "pair type ids, byte and char offsets" $?

# bad input: malformed UTF-8 names file and line; replace and skip
printf 'good\nbad \377 byte\n' > "$tmp/bad.txt"
"$bin" "$tmp/bad.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "bad.txt:2: malformed UTF-8 at byte 4" "$tmp/err"; check "bad UTF-8 -> exit 3 naming line 2" $?
"$bin" --on-invalid replace "$tmp/bad.txt" > "$tmp/r.jsonl"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/r.jsonl")" -eq 2 ]; check "--on-invalid replace" $?
"$bin" -q --on-invalid skip "$tmp/bad.txt" > "$tmp/s.jsonl"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/s.jsonl")" -eq 1 ]; check "--on-invalid skip" $?
printf 'no tab here\n' | "$bin" --pair > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "<stdin>:1: --pair needs a TAB" "$tmp/err"; check "pair without TAB -> exit 3" $?
printf 'a b c\td\n' | "$bin" --pair --max-length 4 --truncation only_second > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "<stdin>:1: input 0: truncation only_second" "$tmp/err"; check "HF refusal -> exit 3" $?

# usage and model errors
"$bin" --max-length x > /dev/null 2>&1; [ $? -eq 2 ]; check "bad number -> exit 2" $?
"$bin" --frobnicate > /dev/null 2>&1; [ $? -eq 2 ]; check "unknown option -> exit 2" $?
"$bin" --model "$tmp" "$src/examples/sample.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 4 ] && grep -q "vocab.txt: cannot open" "$tmp/err"; check "missing model -> exit 4" $?
"$bin" "$tmp/nope.txt" > /dev/null 2> "$tmp/err"; [ $? -eq 3 ]; check "missing input -> exit 3" $?
"$bin" --help | grep -q "EXIT STATUS"; check "--help" $?
: > "$tmp/empty.txt"
"$bin" "$tmp/empty.txt" > "$tmp/e.jsonl" 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && [ ! -s "$tmp/e.jsonl" ] && grep -q "empty.txt: empty input" "$tmp/err"
check "empty file -> exit 3, named" $?

# a vocabulary without [CLS] is the tokenizer's fault, said at start (exit 4), not blamed on the input
printf '[PAD]\n[UNK]\n[SEP]\nhello\n' > "$tmp/nocls.txt"
printf 'hello\n' > "$tmp/hello.txt"
"$bin" --vocab "$tmp/nocls.txt" "$tmp/hello.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 4 ] && grep -q "nocls.txt: the vocabulary has no '\[CLS\]' token" "$tmp/err" && ! grep -q "hello.txt" "$tmp/err"
check "vocabulary without [CLS] -> exit 4 naming it" $?
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
