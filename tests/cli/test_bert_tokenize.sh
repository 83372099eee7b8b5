#!/bin/sh
# bert-tokenize end to end: output, exit codes and error messages.
# Usage: test_bert_tokenize.sh BIN_DIR SRC_DIR [SHARED_DIR]
set -u
bin=$1/bert-tokenize
src=$2
shared=${3:-${BERT_SHARED_DIR:-$src/../shared}}
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
# a tokenizer.json alone: RoBERTa's byte-level BPE (ids and offsets as the shared fixture's first
# row, HF tokenizers 0.23), decoding back, and the refusals
rb="$shared/data/tokenizers/roberta-base/tokenizer.json"
printf 'Hello, world!\n' | "$bin" --tokenizer "$rb" > "$tmp/rb.out"; rc=$?
[ $rc -eq 0 ] && grep -q '"ids":\[0,31414,6,232,328,2\]' "$tmp/rb.out" \
    && grep -q '"offsets":\[\[0,0\],\[0,5\],\[5,6\],\[7,12\],\[12,13\],\[0,0\]\]' "$tmp/rb.out"
check "--tokenizer roberta-base: HF's ids and trimmed offsets" $?
printf '[0, 31414, 6, 232, 328, 2]\n0 31414 2\n' | "$bin" --tokenizer "$rb" --decode > "$tmp/dec.out"; rc=$?
[ $rc -eq 0 ] && [ "$(head -1 "$tmp/dec.out")" = '{"line":1,"text":"<s>Hello, world!</s>"}' ] \
    && [ "$(tail -1 "$tmp/dec.out")" = '{"line":2,"text":"<s>Hello</s>"}' ]
check "--decode: the ByteLevel decoder's text" $?
printf '0 31414 6 232 328 2\n' | "$bin" --tokenizer "$rb" --decode --skip-special > "$tmp/dec.out"; rc=$?
[ $rc -eq 0 ] && [ "$(cat "$tmp/dec.out")" = '{"line":1,"text":"Hello, world!"}' ]
check "--decode --skip-special" $?
printf '1 2 x\n' | "$bin" --tokenizer "$rb" --decode > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "<stdin>:1: byte 5: 'x' is not part of a list of token ids" "$tmp/err"
check "--decode: a word that is not an id -> exit 3, line and byte" $?
printf '50265\n' | "$bin" --tokenizer "$rb" --decode > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "id 50265 is not in the vocabulary (50265 ids)" "$tmp/err"
check "--decode: an id out of range -> exit 3" $?
"$bin" --tokenizer "$rb" --skip-special "$tmp/hello.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "skip-special goes with --decode" "$tmp/err"; check "--skip-special alone -> exit 2" $?
"$bin" --tokenizer "$rb" --lower "$tmp/hello.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ]; check "--lower with a tokenizer.json -> exit 2" $?
printf '{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}, "pre_tokenizer": {"type": "Foo"}}' > "$tmp/bad.json"
"$bin" --tokenizer "$tmp/bad.json" "$tmp/hello.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 4 ] && grep -q 'bad.json: pre_tokenizer.type "Foo" is not supported' "$tmp/err"
check "unsupported component -> exit 4 naming its JSON path" $?
printf 'Hello world\n' | "$bin" --model "$shared/data/tokenizers/t5-small" > "$tmp/t5.out"; rc=$?
[ $rc -eq 0 ] && grep -q '"ids":\[8774,296,1\]' "$tmp/t5.out"
check "--model with a tokenizer.json only (T5's Unigram)" $?

[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
