#!/bin/sh
# bert-classify end to end: the README's command, bad inputs and their exit codes, sharding and GNU
# parallel. Usage: test_bert_classify.sh BIN_DIR SRC_DIR SHARED_DIR
set -u
bin=$1/bert-classify
src=$2
shared=$3
. "$(dirname "$0")/common.sh"
# The README's first command: sentiment for every line of the sample, with the embedded model.
"$bin" "$src/examples/sample.txt" > "$tmp/out.tsv"; rc=$?
check "sample exits 0" $rc
[ "$(wc -l < "$tmp/out.tsv")" -eq "$(wc -l < "$src/examples/sample.txt")" ]; check "one line per input line" $?
cut -f1 "$tmp/out.tsv" | grep -qvxE 'positive|negative'; [ $? -eq 1 ]; check "every label is positive/negative" $?
head -1 "$tmp/out.tsv" | grep -q "^positive	0\.99[0-9]*	A gripping"; check "first line is positive" $?

# Empty input (a file, stdin, a header alone): exit 3 naming it. Missing file, directory: exit 3
# naming the file.
: > "$tmp/empty.txt"
"$bin" "$tmp/empty.txt" > "$tmp/e.out" 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && [ ! -s "$tmp/e.out" ] && grep -q "empty.txt: empty input: no lines to classify" "$tmp/err"
check "empty file -> exit 3, named" $?
"$bin" - < "$tmp/empty.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "<stdin>: empty input" "$tmp/err"; check "empty stdin -> exit 3" $?
printf 'sentence\tlabel\n' > "$tmp/hdr.tsv"
"$bin" --input tsv --header --text-col 1 "$tmp/hdr.tsv" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "hdr.tsv: no data lines after the header" "$tmp/err"; check "header alone -> exit 3" $?
# a blank line is a line (an empty text, as HF classifies ""), and a shard may keep none
printf '\n' > "$tmp/blank.txt"
"$bin" "$tmp/blank.txt" > "$tmp/b.out"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/b.out")" -eq 1 ]; check "one blank line -> one row" $?
"$bin" --shard 3/4 "$tmp/blank.txt" > "$tmp/b.out"; rc=$?
[ $rc -eq 0 ] && [ ! -s "$tmp/b.out" ]; check "a shard with no line of its own -> exit 0" $?
"$bin" "$tmp/nope.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "nope.txt: cannot open" "$tmp/err"; check "missing file -> exit 3" $?
"$bin" "$tmp" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "is a directory" "$tmp/err"; check "directory -> exit 3" $?

# Invalid UTF-8 under each policy.
printf 'a fine film\nbad \377 byte\nanother fine film\n' > "$tmp/bad.txt"
"$bin" "$tmp/bad.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "bad.txt:2: malformed UTF-8 at byte 4" "$tmp/err"; check "--on-invalid=error (default) -> exit 3, line 2" $?
"$bin" --on-invalid=replace "$tmp/bad.txt" > "$tmp/r.out"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/r.out")" -eq 3 ]; check "--on-invalid=replace -> 3 rows" $?
"$bin" --on-invalid=skip "$tmp/bad.txt" > "$tmp/s.out" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/s.out")" -eq 2 ] && grep -q "bad.txt:2: warning" "$tmp/err"; check "--on-invalid=skip -> 2 rows and a warning" $?

# A 50 MB line: truncated to max_length, no crash.
head -c 52428800 /dev/zero | tr '\0' 'a' | sed 's/aaaaaaaaa/great film /g' > "$tmp/huge.txt"
echo >> "$tmp/huge.txt"
"$bin" -q "$tmp/huge.txt" > "$tmp/h.out"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/h.out")" -eq 1 ]; check "50 MB line -> one row, exit 0" $?

# A model folder with a missing file; an unknown task; a model that does not fit the task.
mkdir -p "$tmp/broken"
cp "$src/models/mini-sst2/config.json" "$src/models/mini-sst2/vocab.txt" "$tmp/broken/"
"$bin" --model "$tmp/broken" "$src/examples/sample.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 4 ] && grep -q "no model.safetensors" "$tmp/err"; check "model without weights -> exit 4" $?
"$bin" --task translate "$src/examples/sample.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "unknown task 'translate'" "$tmp/err"; check "unknown task -> exit 2" $?
"$bin" --task ner "$src/examples/sample.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 4 ] && grep -q "BertForTokenClassification" "$tmp/err"; check "task the model cannot do -> exit 4" $?
"$bin" --frobnicate > /dev/null 2>&1; [ $? -eq 2 ]; check "unknown option -> exit 2" $?
"$bin" --help | grep -q "EXIT STATUS"; check "--help" $?

# Gold labels: unknown label names the line; SST-2 dev accuracy printed.
printf 'a fine film\tpositive\nawful\tmeh\n' > "$tmp/gold.tsv"
"$bin" --input tsv --label-col 2 "$tmp/gold.tsv" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "gold.tsv:2: unknown label 'meh'" "$tmp/err"; check "unknown gold label -> exit 3, line 2" $?
printf 'only one column\n' > "$tmp/cols.tsv"
"$bin" --pair "$tmp/cols.tsv" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "cols.tsv:1: column 2 is missing (the line has 1)" "$tmp/err"; check "TSV missing column -> exit 3" $?
printf '{"sentence": "a fine film", "y": 1}\n{"text": "no field"}\n' > "$tmp/in.jsonl"
"$bin" --input jsonl --text-field sentence --label-field y "$tmp/in.jsonl" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q 'in.jsonl:2: field "sentence" is missing' "$tmp/err"; check "JSONL missing field -> exit 3, line 2" $?

# Sharding: the shards, merged by line number, equal the unsharded run; and GNU parallel.
sst="$shared/data/glue/SST-2/dev.tsv"
"$bin" -q --input tsv --header --line-numbers "$sst" > "$tmp/all.tsv"; rc=$?
for i in 0 1 2; do "$bin" -q --input tsv --header --shard $i/3 "$sst" > "$tmp/shard$i.tsv" || rc=1; done
sort -n -k1,1 -s "$tmp"/shard*.tsv > "$tmp/merged.tsv"
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/all.tsv")" -eq 872 ] && same_rows "$tmp/all.tsv" "$tmp/merged.tsv" 4
check "--shard 0/3 1/3 2/3 merged = unsharded (872 rows)" $?
tail -n +2 "$sst" | cut -f1 > "$tmp/sents.txt"
"$bin" -q "$tmp/sents.txt" > "$tmp/serial.tsv"
parallel --will-cite --pipe -k -N 100 -j 2 "$bin" -q --threads 1 < "$tmp/sents.txt" > "$tmp/parallel.tsv"; rc=$?
[ $rc -eq 0 ] && same_rows "$tmp/serial.tsv" "$tmp/parallel.tsv" 3; check "GNU parallel --pipe -k output = serial output" $?

# --precision: bf16 and int8 give the sample's labels of f32 (scores differ); a bad value is usage.
# oneDNN 2.6 has bf16 matmuls only on AVX-512 CPUs: elsewhere the documented refusal (exit 4).
for p in bf16 int8; do
    "$bin" --precision "$p" "$src/examples/sample.txt" > "$tmp/p.tsv" 2> "$tmp/p.err"; rc=$?
    if [ "$p" = bf16 ] && ! grep -qw avx512bw /proc/cpuinfo; then
        [ $rc -eq 4 ] && grep -q 'no bf16 matmul for this CPU' "$tmp/p.err"; check "--precision bf16 without AVX-512 -> exit 4" $?
        continue
    fi
    [ $rc -eq 0 ] && [ "$(cut -f1,3 "$tmp/p.tsv")" = "$(cut -f1,3 "$tmp/out.tsv")" ]; check "--precision $p: same labels" $?
done
"$bin" --precision fp64 "$src/examples/sample.txt" > /dev/null 2>&1; [ $? -eq 2 ]; check "--precision fp64 -> exit 2" $?
# --weights mapped on the default model (F16: packed as by default, so the very same output)
"$bin" --weights mapped "$src/examples/sample.txt" > "$tmp/w.tsv"; rc=$?
[ $rc -eq 0 ] && cmp -s "$tmp/w.tsv" "$tmp/out.tsv"; check "--weights mapped: same output" $?
"$bin" --weights lazy "$src/examples/sample.txt" > /dev/null 2>&1; [ $? -eq 2 ]; check "--weights lazy -> exit 2" $?

# Numeric options are bounded, and the bounds are in --help: no crash in libgomp, no wrap-around.
for o in "--threads 65536:1 to 1024" "--threads 4294967296:1 to 1024" "--text-col 4294967297:1 to 65535" \
         "--text-col 18446744073709551615:1 to 65535" "--top-k 1000000:1 to 1000" "--batch-size 0:1 to 4096" \
         "--max-length 2:3 to 1048576"; do
    opt=${o%%:*}; want=${o#*:}
    # shellcheck disable=SC2086
    echo "a fine film" | "$bin" $opt > "$tmp/o.out" 2> "$tmp/err"; rc=$?
    [ $rc -eq 2 ] && [ ! -s "$tmp/o.out" ] && grep -q "is not an integer from $want" "$tmp/err"
    check "$opt -> exit 2, the range named" $?
done
"$bin" --help | grep -q "compute threads, 1-1024"; check "--help gives the ranges" $?
# The one option parser (tools/common/opts.c): --opt=value, '--', choices named, no value for a flag
"$bin" --batch-size=2 --format=tsv "$src/examples/sample.txt" > "$tmp/eq.tsv"; rc=$?
[ $rc -eq 0 ] && cmp -s "$tmp/eq.tsv" "$tmp/out.tsv"; check "--opt=value: same output" $?
cp "$src/examples/sample.txt" "$tmp/-dash.txt"
(cd "$tmp" && "$bin" -- -dash.txt) > "$tmp/dd.tsv"; rc=$?
[ $rc -eq 0 ] && cmp -s "$tmp/dd.tsv" "$tmp/out.tsv"; check "-- then a file named like an option" $?
"$bin" --pooling avg "$src/examples/sample.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "pooling: 'avg' is not cls, mean, pooler, max, mean_sqrt_len, weightedmean or lasttoken" "$tmp/err"; check "a bad choice names the choices" $?
"$bin" --header=1 "$src/examples/sample.txt" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "header takes no value" "$tmp/err"; check "a flag given a value -> exit 2" $?
"$bin" --batch-size > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "batch-size needs a value" "$tmp/err"; check "a missing value -> exit 2" $?
echo "a fine film" | "$bin" --top-k 100 > "$tmp/o.out"; rc=$?
[ $rc -eq 0 ] && [ "$(awk -F'\t' '{print NF}' "$tmp/o.out")" -eq 5 ]; check "--top-k over the labels -> every label" $?
# --on-invalid replace repairs the line itself (each bad byte becomes U+FFFD), so NER's offsets and
# JSONL's parser see valid text; lone surrogate escapes in JSONL are replaced or skipped likewise.
printf 'John \377 Smith\n' | "$bin" -q --model "$shared/models/mini-conll03-ner" --task ner --on-invalid replace \
    > "$tmp/ner.out" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && grep -q '"word":"john smith","start":0,"end":12' "$tmp/ner.out"; check "ner --on-invalid replace -> entities" $?
printf '{"text": "bad \377 byte"}\n{"text": "lone \\ud800 escape"}\n{"text": "pair \\ud83d\\ude00 fine"}\n' > "$tmp/j.jsonl"
"$bin" -q --input jsonl --on-invalid replace "$tmp/j.jsonl" > "$tmp/j.out"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/j.out")" -eq 3 ] && grep -q "bad $(printf '\357\277\275') byte" "$tmp/j.out" &&
    grep -q "lone $(printf '\357\277\275') escape" "$tmp/j.out"
check "jsonl --on-invalid replace -> 3 rows, U+FFFD in both" $?
"$bin" --input jsonl --on-invalid skip "$tmp/j.jsonl" > "$tmp/j.out" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/j.out")" -eq 1 ] && grep -q "j.jsonl:2: warning: a lone UTF-16 surrogate escape" "$tmp/err"
check "jsonl --on-invalid skip -> the good line only" $?
# a JSONL text may hold a newline, tab, carriage return or backslash: TSV output escapes them, so each
# result stays one row of three fields
printf '{"text":"a\\tb\\nc\\\\d\\re"}\n{"text":"plain"}\n' > "$tmp/esc.jsonl"
"$bin" -q --input jsonl "$tmp/esc.jsonl" > "$tmp/esc.out"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/esc.out")" -eq 2 ] && [ "$(awk -F'\t' '{print NF}' "$tmp/esc.out" | sort -u)" = 3 ] \
    && [ "$(head -1 "$tmp/esc.out" | cut -f3)" = 'a\tb\nc\\d\re' ]
check "TSV output escapes tab, newline, CR and backslash of a JSONL text" $?
# Every family through the tool, with every precision and weight mode and two threads: the first
# text of each fixture gets transformers' label (the argmax of fixtures/<model>'s logits) in f32,
# and every mode gives one row per line. RoBERTa's probability is the fixture's softmax, 0.460582.
printf 'The quick brown fox jumps over the lazy dog.\nA second line.\n' > "$tmp/fam.txt"
for fam in distilbert-seqcls:NEGATIVE roberta-seqcls:negative xlmr-seqcls:contradiction electra-seqcls:unacceptable \
           albert-seqcls:equivalent debertav3-seqcls:contradiction mpnet-seqcls:positive; do
    model=${fam%%:*}; want=${fam#*:}
    "$bin" -q --model "$shared/models/tiny-$model" "$tmp/fam.txt" > "$tmp/fam.out"; rc=$?
    [ $rc -eq 0 ] && [ "$(head -1 "$tmp/fam.out" | cut -f1)" = "$want" ]; check "$model: transformers' label" $?
    for mode in "--precision bf16" "--precision int8 --weights mapped" "--weights mapped --threads 2" \
                "--task embed --pooling mean"; do
        # shellcheck disable=SC2086
        "$bin" -q --model "$shared/models/tiny-$model" $mode "$tmp/fam.txt" > "$tmp/fam.out" 2> "$tmp/err"; rc=$?
        [ $rc -eq 0 ] && [ "$(wc -l < "$tmp/fam.out")" -eq 2 ]; check "$model $mode: one row per line" $?
    done
done
"$bin" -q --model "$shared/models/tiny-roberta-seqcls" "$tmp/fam.txt" | head -1 | cut -f2 > "$tmp/p"
[ "$(cat "$tmp/p")" = 0.460582 ]; check "roberta: the probability transformers gives" $?
printf 'The capital of France is <mask>.\n' | "$bin" -q --model "$shared/models/tiny-roberta-mlm" > "$tmp/fm.out"; rc=$?
[ $rc -eq 0 ] && grep -q '"token":"ĠJudgment","token_id":44319' "$tmp/fm.out"; check "roberta fill-mask <mask>" $?
printf 'John lives in Paris.\n' | "$bin" -q --model "$shared/models/tiny-roberta-tokcls" --task ner > "$tmp/ner2.out"; rc=$?
[ $rc -eq 0 ] && grep -q '^{"line":1,"entities":\[' "$tmp/ner2.out"; check "roberta ner runs" $?
# Sentence-transformers folders, cross-encoders and zero-shot through the tool. The expected numbers
# are the references' (fixtures/tiny-sbert-*/embeddings_reference.json, tiny-crossencoder's and
# tiny-nli-zeroshot's), within the issue's tolerances (1e-5 embeddings, 1e-4 scores).
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
sts="$shared/data/glue/STS-B/dev.tsv"
printf 'A man with a hard hat is dancing.\n' > "$tmp/st1.txt"
"$bin" -q --model "$shared/models/tiny-sbert-cls-dense" --task embed "$tmp/st1.txt" > "$tmp/emb.tsv"; rc=$?
[ $rc -eq 0 ] && [ "$(awk -F'\t' '{print NF}' "$tmp/emb.tsv")" -eq 16 ] && near "$(cut -f1 "$tmp/emb.tsv")" -0.3194508 1e-5 &&
    near "$(cut -f2 "$tmp/emb.tsv")" 0.1869141 1e-5
check "embed: the folder's CLS + Dense(32->16, tanh) + Normalize, as sentence-transformers" $?
printf '  A man with a hard hat is dancing. \n' | "$bin" -q --model "$shared/models/tiny-sbert-max-prompts" --task embed \
    --prompt query > "$tmp/q.tsv"; rc=$?
[ $rc -eq 0 ] && near "$(cut -f1 "$tmp/q.tsv")" 0.06345971 1e-5 && near "$(cut -f2 "$tmp/q.tsv")" 0.8999393 1e-5
check "embed --prompt query: the prompted, stripped text's max pooling" $?
"$bin" -q --model "$shared/models/tiny-sbert-max-prompts" --task embed --prompt doc "$tmp/st1.txt" > /dev/null 2> "$tmp/err"
[ $? -eq 2 ] && grep -q "no prompt named 'doc' (query, passage)" "$tmp/err"; check "embed --prompt unknown -> exit 2, the names" $?
# the 40 sentences of the reference (STS-B dev pairs 0-9 and ten long ones): 20 cut at max_seq_length 16
awk -F'\t' 'NR > 1 && ($1 <= 9 || $1 == 1023 || $1 == 1054 || $1 == 1059 || $1 == 1063 || $1 == 1096 || $1 == 1140 ||
    $1 == 1149 || $1 == 1210 || $1 == 1220 || $1 == 1224) { print $8; print $9 }' "$sts" > "$tmp/st40.txt"
"$bin" --model "$shared/models/tiny-sbert-meansqrt" --task embed "$tmp/st40.txt" > "$tmp/e40.tsv" 2> "$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/e40.tsv")" -eq 40 ] &&
    grep -q "20 of 40 inputs were longer than 16 tokens and were truncated (the folder's max_seq_length)" "$tmp/err" &&
    near "$(head -1 "$tmp/e40.tsv" | cut -f1)" 1.842549 1e-5
check "embed: truncation at max_seq_length counted on stderr (the reference's 20 of 40)" $?
head -2 "$shared/data/superglue/BoolQ/val.jsonl" > "$tmp/boolq.jsonl"
"$bin" -q --model "$shared/models/tiny-crossencoder" --task rerank --input jsonl --text-field question \
    --pair-field passage --format tsv "$tmp/boolq.jsonl" > "$tmp/rr.tsv"; rc=$?
[ $rc -eq 0 ] && near "$(sed -n 1p "$tmp/rr.tsv" | cut -f1)" 0.7856075 1e-4 && near "$(sed -n 2p "$tmp/rr.tsv" | cut -f1)" 0.8055647 1e-4
check "rerank: CrossEncoder.predict's sigmoid scores of BoolQ pairs" $?
printf '{"query": "is it a box", "passages": ["A P.O. box is a box.", "Street addresses come first.", "cats"]}\n' > "$tmp/g.jsonl"
printf 'is it a box\tA P.O. box is a box.\nis it a box\tStreet addresses come first.\nis it a box\tcats\n' > "$tmp/g.tsv"
"$bin" -q --model "$shared/models/tiny-crossencoder" --task rerank --input jsonl "$tmp/g.jsonl" > "$tmp/g.out"; rc=$?
"$bin" -q --model "$shared/models/tiny-crossencoder" --task rerank --pair "$tmp/g.tsv" > "$tmp/g2.out"
best=$(awk -F'\t' '{ if (NR == 1 || $1 > m) { m = $1; i = NR - 1 } } END { print i }' "$tmp/g2.out")
[ $rc -eq 0 ] && grep -q "^{\"line\":1,\"query\":\"is it a box\",\"results\":\[{\"index\":$best," "$tmp/g.out"
check "rerank JSONL group: passages best first with their indices" $?
# CrossEncoder.predict strips both texts; with byte-level BPE (RoBERTa) white space changes the
# tokens, so padded pairs score as the bare ones under rerank, and differently under classify
ro="$shared/models/tiny-roberta-seqcls"
printf 'a query\ta passage\n' > "$tmp/bare.tsv"
printf '  a query \t a passage  \n' > "$tmp/padded.tsv"
"$bin" -q --model "$ro" --task rerank --pair "$tmp/bare.tsv" | cut -f1-3 > "$tmp/bare.out"
"$bin" -q --model "$ro" --task rerank --pair "$tmp/padded.tsv" > "$tmp/padded.out"; rc=$?
"$bin" -q --model "$ro" --pair --format jsonl "$tmp/bare.tsv" | sed 's/"text".*//' > "$tmp/cb.out"
"$bin" -q --model "$ro" --pair --format jsonl "$tmp/padded.tsv" | sed 's/"text".*//' > "$tmp/cp.out"
[ $rc -eq 0 ] && [ "$(cut -f1-3 "$tmp/padded.out")" = "$(cat "$tmp/bare.out")" ] && ! cmp -s "$tmp/cb.out" "$tmp/cp.out" &&
    [ "$(cut -f4- "$tmp/padded.out")" = "$(printf '  a query \t a passage  ')" ]
check "rerank strips both texts as CrossEncoder does (and prints them as read)" $?
printf '{"query": "q", "passages": []}\n' | "$bin" -q --model "$shared/models/tiny-crossencoder" --task rerank --input jsonl \
    > /dev/null 2> "$tmp/err"
[ $? -eq 3 ] && grep -q '<stdin>:1: field "passages" is an empty list' "$tmp/err"; check "rerank: an empty passage list names the line" $?
printf "it 's a charming and often affecting journey . \n" | "$bin" -q --model "$shared/models/tiny-nli-zeroshot" \
    --task zero-shot --labels "positive, negative" > "$tmp/zs.out"; rc=$?
sc=$(sed 's/.*"scores":\[\([^,]*\),.*/\1/' "$tmp/zs.out")
[ $rc -eq 0 ] && grep -q '"labels":\["negative","positive"\]' "$tmp/zs.out" && near "$sc" 0.754782 1e-4
check "zero-shot: the pipeline's labels and scores" $?
printf 'x\n' | "$bin" -q --model "$shared/models/tiny-nli-zeroshot" --task zero-shot --labels " , " > /dev/null 2> "$tmp/err"
[ $? -eq 2 ] && grep -q "gives no label" "$tmp/err"; check "zero-shot: an empty label list -> exit 2" $?
printf 'x\n' | "$bin" -q --model "$shared/models/tiny-crossencoder" --task zero-shot --labels a,b > /dev/null 2> "$tmp/err"
[ $? -eq 4 ] && grep -q "needs an NLI model with an entailment label" "$tmp/err"; check "zero-shot without entailment -> exit 4" $?
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
