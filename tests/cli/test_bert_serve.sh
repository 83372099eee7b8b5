#!/bin/sh
# bert-serve end to end with curl on 127.0.0.1: every route's shape, the vectors equal to
# bert-classify --task embed's (1e-6), the references' cross-encoder scores (1e-4), the error
# statuses, overload answered with 429, a bounded wrk load test with /metrics consistent with it,
# and SIGTERM draining. Usage: test_bert_serve.sh BIN_DIR SHARED_DIR
set -u
bindir=$1
shared=$2
. "$(dirname "$0")/common.sh"
pids=""
trap 'for p in $pids; do kill -KILL "$p" 2> /dev/null; done; rm -rf "$tmp"' EXIT

# start NAME MODEL [OPTIONS...]: a server on a free port; sets $port and $pid
start() {
    name=$1
    shift
    "$bindir/bert-serve" --port 0 "$@" 2> "$tmp/$name.log" &
    pid=$!
    pids="$pids $pid"
    port=""
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/$name.log" | head -1)
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "FAIL $name did not start:"; cat "$tmp/$name.log"; exit 1; }
}
# post PATH BODY: the reply body in $tmp/r, the status in $code
post() {
    code=$(curl -s -o "$tmp/r" -w '%{http_code}' -H 'Content-Type: application/json' "http://127.0.0.1:$port$1" -d "$2")
}
# fire N PATH BODY: N requests at once; their statuses, one per line, in $tmp/codes when all are back
fire() {
    rm -f "$tmp/codes"
    for _ in $(seq 1 "$1"); do
        curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$port$2" -d "$3" >> "$tmp/codes" &
    done
    waited=0
    while [ "$(wc -l < "$tmp/codes" 2> /dev/null || echo 0)" -lt "$1" ] && [ $waited -lt 300 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
}
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
# the floats of a JSON reply's first list, one per line
floats() { tr -d '[]' < "$1" | tr ',' '\n' | grep -E '^-?[0-9]' ; }

start embed --model "$shared/models/tiny-sbert-cls-dense" --payload-limit 100000
code=$(curl -s -o "$tmp/r" -w '%{http_code}' "http://127.0.0.1:$port/health")
[ "$code" = 200 ]; check "GET /health -> 200" $?
code=$(curl -s -o "$tmp/r" -w '%{http_code}' "http://127.0.0.1:$port/info")
[ "$code" = 200 ] && grep -q '"max_input_length":256' "$tmp/r" && grep -q '"model_type":{"embedding":{"pooling":"cls"}}' "$tmp/r" && grep -q '"model_sha":null' "$tmp/r"
check "GET /info: TEI's fields (max_input_length = the folder's max_seq_length)" $?

text='A man with a hard hat is dancing.'
printf '%s\n' "$text" | "$bindir/bert-classify" -q --model "$shared/models/tiny-sbert-cls-dense" --task embed |
    tr '\t' '\n' > "$tmp/cli.txt"
post /embed "{\"inputs\": \"$text\"}"
floats "$tmp/r" > "$tmp/srv.txt"
[ "$code" = 200 ] && [ "$(wc -l < "$tmp/srv.txt")" -eq 16 ] &&
    paste "$tmp/cli.txt" "$tmp/srv.txt" | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-6) bad = 1 } END { exit bad }'
check "POST /embed: [[16 floats]] equal to bert-classify --task embed's (1e-6)" $?
near "$(head -1 "$tmp/srv.txt")" -0.3194508 1e-5; check "POST /embed: sentence-transformers' value" $?
post /embed '{"inputs": ["a", "b", "c"], "normalize": false}'
[ "$code" = 200 ] && [ "$(grep -o '\],\[' "$tmp/r" | wc -l)" -eq 2 ]; check "POST /embed batch: three vectors" $?
post /v1/embeddings "{\"input\": \"$text\", \"model\": \"m\"}"
sed 's/.*"embedding":\[\([^]]*\)\].*/\1/' "$tmp/r" | tr ',' '\n' > "$tmp/oa.txt"
[ "$code" = 200 ] && grep -q '"object":"list"' "$tmp/r" && grep -q '"usage":{"prompt_tokens":' "$tmp/r" &&
    paste "$tmp/cli.txt" "$tmp/oa.txt" | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-6) bad = 1 } END { exit bad }'
check "POST /v1/embeddings (float): OpenAI's shape, the same vector" $?
post /v1/embeddings "{\"input\": [\"$text\"], \"encoding_format\": \"base64\"}"
sed 's/.*"embedding":"\([^"]*\)".*/\1/' "$tmp/r" | base64 -d | od -An -v -t f4 | tr -s ' ' '\n' | grep -v '^$' > "$tmp/b64.txt"
[ "$code" = 200 ] && [ "$(wc -l < "$tmp/b64.txt")" -eq 16 ] &&
    paste "$tmp/cli.txt" "$tmp/b64.txt" | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-6) bad = 1 } END { exit bad }'
check "POST /v1/embeddings (base64): little-endian float32, the same vector" $?
post /v1/embeddings '{"input": "hello world"}'
sed 's/.*"embedding":\[\([^]]*\)\].*/\1/' "$tmp/r" > "$tmp/t1.txt"
post /v1/embeddings '{"input": [[101, 7592, 2088, 102]]}'
sed 's/.*"embedding":\[\([^]]*\)\].*/\1/' "$tmp/r" > "$tmp/t2.txt"
[ "$code" = 200 ] && [ -s "$tmp/t1.txt" ] && cmp -s "$tmp/t1.txt" "$tmp/t2.txt"
check "POST /v1/embeddings with token ids: the text's vector" $?
post /v1/embeddings '{"input": [101, 99999]}'
[ "$code" = 422 ] && grep -q 'id 99999 is outside the vocabulary' "$tmp/r"; check "token ids outside the vocabulary -> 422" $?
post /tokenize '{"inputs": "Hello world"}'
[ "$code" = 200 ] && grep -q '^\[\[{"id":101,"text":"\[CLS\]","special":true,"start":null,"stop":null},{"id":7592,"text":"hello","special":false,"start":0,"stop":5}' "$tmp/r"
check "POST /tokenize: TEI's token objects" $?

# the error classes
post /embed '{"inputs": 3}'
[ "$code" = 422 ] && grep -q '"error":"inputs: expected a string' "$tmp/r" && grep -q '"error_type":"Validation"' "$tmp/r"
check "a wrong field -> 422 naming it" $?
post /embed '{"inputs": "x", "normalize": "yes"}'
[ "$code" = 422 ] && grep -q 'normalize: expected true or false' "$tmp/r"; check "a wrong option -> 422 naming it" $?
post /embed '{"inputs": "x",'
[ "$code" = 422 ] && grep -q 'invalid JSON at line 1' "$tmp/r"; check "malformed JSON -> 422" $?
long=$(seq 1 400 | tr '\n' ' ')
post /embed "{\"inputs\": \"$long\"}"
[ "$code" = 413 ] && grep -q 'inputs\[0\]: the input has [0-9]* tokens, more than the 256 allowed' "$tmp/r"
check "too long an input -> 413" $?
post /embed "{\"inputs\": \"$long\", \"truncate\": true}"
[ "$code" = 200 ]; check "... or truncated when the request says so" $?
head -c 150000 /dev/zero | tr '\0' 'a' > "$tmp/big"
code=$(curl -s -o "$tmp/r" -w '%{http_code}' "http://127.0.0.1:$port/embed" --data-binary @"$tmp/big")
[ "$code" = 413 ] && grep -q 'over --payload-limit 100000' "$tmp/r"; check "a body over the limit -> 413" $?
post /predict '{"inputs": "x"}'
[ "$code" = 424 ]; check "/predict on an embedding model -> 424" $?
post /nothing '{}'
[ "$code" = 404 ]; check "an unknown route -> 404" $?
code=$(curl -s -o "$tmp/r" -w '%{http_code}' "http://127.0.0.1:$port/embed")
[ "$code" = 405 ]; check "GET on a POST route -> 405" $?

# a bounded load test: every request answered 200, and /metrics counted each
cat > "$tmp/post.lua" << EOF
wrk.method = "POST"
wrk.body = '{"inputs": ["$text", "a second, longer sentence for the batch"]}'
wrk.headers["Content-Type"] = "application/json"
EOF
if command -v wrk > /dev/null; then
    before=$(curl -s "http://127.0.0.1:$port/metrics" | sed -n 's/^bert_requests_total{route="\/embed",status="200"} //p')
    wrk -t2 -c8 -d3s -s "$tmp/post.lua" "http://127.0.0.1:$port/embed" > "$tmp/wrk.txt" 2>&1
    sent=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$tmp/wrk.txt")
    after=$(curl -s "http://127.0.0.1:$port/metrics" | sed -n 's/^bert_requests_total{route="\/embed",status="200"} //p')
    echo "wrk: $sent requests in 3 s, /metrics /embed 200: $before -> $after"
    [ -n "$sent" ] && [ "$sent" -gt 0 ] && ! grep -q "Non-2xx" "$tmp/wrk.txt" && ! grep -q "Socket errors" "$tmp/wrk.txt" &&
        [ "$((after - before))" -ge "$sent" ] && [ "$((after - before))" -le "$((sent + 8))" ]
    check "wrk load: no failed request, /metrics counted each (up to the 8 in flight at the end)" $?
    curl -s "http://127.0.0.1:$port/metrics" > "$tmp/m.txt"
    grep -q '^bert_batch_requests_bucket{le="+Inf"} ' "$tmp/m.txt" && grep -q '^bert_queue_depth{model="tiny-sbert-cls-dense"} 0$' "$tmp/m.txt" &&
        grep -q '^bert_inference_seconds_count ' "$tmp/m.txt"
    check "/metrics: batch sizes, queue depth, time histograms" $?
else
    echo "FAIL wrk is not installed (scripts/install-deps.sh installs it)"
    fails=$((fails + 1))
fi
kill -TERM "$pid"
wait "$pid"; rc=$?
[ $rc -eq 0 ] && grep -q "SIGTERM: finishing the requests in flight" "$tmp/embed.log"; check "SIGTERM -> drains, exit 0" $?

# a cross-encoder: /rerank and /predict, the references' scores
start rerank --model "$shared/models/tiny-crossencoder" --api-key s3cret -q
q=$(head -1 "$shared/data/superglue/BoolQ/val.jsonl" | sed 's/^{"question": \("[^"]*"\).*/\1/')
p=$(head -1 "$shared/data/superglue/BoolQ/val.jsonl" | sed 's/.*"passage": \("\([^"\\]\|\\.\)*"\).*/\1/')
code=$(curl -s -o "$tmp/r" -w '%{http_code}' "http://127.0.0.1:$port/rerank" -d "{\"query\": $q, \"texts\": [\"no\", $p]}")
[ "$code" = 401 ] && grep -q 'Authorization: Bearer' "$tmp/r"; check "--api-key: no key -> 401" $?
code=$(curl -s -o "$tmp/r" -w '%{http_code}' -H 'Authorization: Bearer s3cret' "http://127.0.0.1:$port/rerank" \
    -d "{\"query\": $q, \"texts\": [\"no\", $p], \"return_text\": true}")
first=$(sed 's/^\[{"index":\([0-9]*\),"score":\([^,}]*\).*/\1 \2/' "$tmp/r")
[ "$code" = 200 ] && [ "${first%% *}" = 1 ] && near "${first#* }" 0.7856075 1e-4 && grep -q '"text":"no"' "$tmp/r"
check "POST /rerank: sorted, the reference's sigmoid score (BoolQ pair 0), return_text" $?
code=$(curl -s -o "$tmp/r" -w '%{http_code}' -H 'Authorization: Bearer s3cret' "http://127.0.0.1:$port/predict" \
    -d "{\"inputs\": [$q, $p], \"raw_scores\": true}")
[ "$code" = 200 ] && near "$(sed 's/.*"score":\([^,}]*\).*/\1/' "$tmp/r")" 1.298649 1e-4 && grep -q '"label":"LABEL_0"' "$tmp/r"
check "POST /predict with a [text, pair] input: the reference's raw logit" $?
code=$(curl -s -o "$tmp/r" -w '%{http_code}' "http://127.0.0.1:$port/health")
[ "$code" = 200 ]; check "/health needs no key" $?
kill -TERM "$pid"
wait "$pid"

# overload: one worker, a queue of one, many clients at once -> some 429, no crash
start busy --model "$shared/models/tiny-sbert-meanpool" --max-concurrent-requests 1 --max-batch-requests 1 -q
body=$(printf '{"inputs": ["%s"]}' "$(seq 1 60 | tr '\n' ' ')")
fire 24 /embed "$body"
ok=$(grep -c '^200$' "$tmp/codes"); busy=$(grep -c '^429$' "$tmp/codes")
echo "overload: $ok answered 200, $busy answered 429"
[ $((ok + busy)) -eq 24 ] && [ "$ok" -ge 1 ] && kill -0 "$pid"; check "overload -> 429 or 200 for each, the server alive" $?
kill -TERM "$pid"
wait "$pid"

# --request-timeout: requests that waited that long in the queue answer 503, the others 200
start slow --model "$shared/models/mini-sst2" --max-batch-requests 1 --threads 1 --request-timeout 0.002 -q
long=$(seq 1 500 | tr '\n' ' ')
body=$(printf '{"inputs": ["%s", "%s", "%s", "%s", "%s", "%s", "%s", "%s"], "truncate": true}' "$long" "$long" "$long" \
    "$long" "$long" "$long" "$long" "$long")
fire 16 /predict "$body"
ok=$(grep -c '^200$' "$tmp/codes"); late=$(grep -c '^503$' "$tmp/codes")
echo "request timeout: $ok answered 200, $late answered 503"
[ $((ok + late)) -eq 16 ] && [ "$ok" -ge 1 ] && [ "$late" -ge 1 ]; check "--request-timeout -> 503 for those left waiting" $?
kill -TERM "$pid"
wait "$pid"

# several models in one server: the request's "model" picks, the first is the default
start two --model "$shared/models/tiny-sbert-cls-dense" --model "ce=$shared/models/tiny-crossencoder" -q
post /embed "{\"inputs\": \"$text\"}"
[ "$code" = 200 ] && near "$(floats "$tmp/r" | head -1)" -0.3194508 1e-5; check "two models: /embed on the first (default)" $?
post /rerank "{\"model\": \"ce\", \"query\": $q, \"texts\": [$p]}"
[ "$code" = 200 ] && near "$(sed 's/.*"score":\([^,}]*\).*/\1/' "$tmp/r")" 0.7856075 1e-4; check "two models: /rerank on \"model\": \"ce\"" $?
post /embed '{"model": "gpt", "inputs": "x"}'
[ "$code" = 404 ] && grep -q "model: no model named 'gpt' here (tiny-sbert-cls-dense, ce)" "$tmp/r"
check "two models: an unknown model -> 404 naming the ones served" $?
code=$(curl -s -o "$tmp/r" -w '%{http_code}' "http://127.0.0.1:$port/info?model=ce")
[ "$code" = 200 ] && grep -q '"model_name":"ce"' "$tmp/r" && grep -q '"model_type":{"reranker":{"id2label":{"0":"LABEL_0"}' "$tmp/r"; check "two models: GET /info?model=ce" $?
kill -TERM "$pid"
wait "$pid"

# what TEI lacks: /ner, /fill-mask, /zero-shot, and /decode; the references' answers
start ner --model "$shared/models/mini-conll03-ner" -q
post /ner '{"inputs": "West Indian all-rounder Phil Simmons took four for 38 on Friday as Leicestershire beat Somerset by an innings and 39 runs in two days to take over at the head of the county championship ."}'
[ "$code" = 200 ] && grep -q '^\[{"entity_group":"MISC","score":0\.5166[0-9]*,"word":"west indian","start":0,"end":11},{"entity_group":"PER","score":0\.98755[0-9]*,"word":"phil simmons","start":24,"end":36}' "$tmp/r"
check "POST /ner: the pipeline's simple entities (fixtures/mini-conll03-ner)" $?
post /ner '{"inputs": "x", "aggregation_strategy": "best"}'
[ "$code" = 422 ] && grep -q 'aggregation_strategy: expected none, simple' "$tmp/r"; check "/ner: a bad aggregation -> 422" $?
post /decode '{"ids": [101, 7592, 2088, 102]}'
[ "$code" = 200 ] && [ "$(cat "$tmp/r")" = '["hello world"]' ]; check "POST /decode" $?
post /decode '{"ids": [[101], [99999]]}'
[ "$code" = 422 ] && grep -q 'outside the vocabulary' "$tmp/r"; check "/decode: an id outside the vocabulary -> 422" $?
kill -TERM "$pid"
wait "$pid"
start mlm --model "$shared/models/mini-mlm" -q
post /fill-mask '{"inputs": "The capital of France is [MASK].", "top_k": 2}'
[ "$code" = 200 ] && grep -q '"token":3007,"token_str":"capital"' "$tmp/r" && grep -q '"token":2605,"token_str":"france"' "$tmp/r" &&
    near "$(sed 's/^\[{"position":6,"score":\([^,]*\),.*/\1/' "$tmp/r")" 0.123862 1e-4
check "POST /fill-mask: the reference's top 2 (fixtures/mini-mlm)" $?
kill -TERM "$pid"
wait "$pid"
start zs --model "$shared/models/tiny-nli-zeroshot" -q
post /zero-shot "{\"inputs\": \"it 's a charming and often affecting journey . \", \"candidate_labels\": \"positive, negative\"}"
[ "$code" = 200 ] && grep -q '"labels":\["negative","positive"\]' "$tmp/r" &&
    near "$(sed 's/.*"scores":\[\([^,]*\),.*/\1/' "$tmp/r")" 0.754782 1e-4
check "POST /zero-shot: the pipeline's labels and scores" $?
post /zero-shot '{"inputs": "x", "candidate_labels": []}'
[ "$code" = 422 ] && grep -q 'candidate_labels: expected a non-empty list' "$tmp/r"; check "/zero-shot: no labels -> 422" $?
kill -TERM "$pid"
wait "$pid"

"$bindir/bert-serve" --host example.org > /dev/null 2> "$tmp/err"
[ $? -eq 2 ] && grep -q "not an IPv4 address" "$tmp/err"; check "--host not an address -> exit 2" $?
"$bindir/bert-serve" --model /nonexistent > /dev/null 2> "$tmp/err"
[ $? -eq 4 ]; check "a model that does not load -> exit 4" $?
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
