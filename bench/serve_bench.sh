#!/bin/sh
# bert-serve's throughput and latency at 1, 8 and 64 concurrent clients sending one 128-token text
# per request (POST /predict), beside bert-bench model's in-process throughput on the same model and
# threads (b8_s128, the [CLS]-only path /predict also takes). wrk drives the clients (it takes CPU
# from the server on a small machine: say so when reporting).
# usage: bench/serve_bench.sh BUILD_DIR MODEL_DIR [SECONDS [THREADS]]
set -eu
build=$1
model=$2
secs=${3:-30}
threads=${4:-$(nproc)}
tmp=$(mktemp -d)
words=$(for _ in $(seq 1 126); do printf 'the '; done)
cat > "$tmp/post.lua" << EOF2
wrk.method = "POST"
wrk.body = '{"inputs": "$words"}'
wrk.headers["Content-Type"] = "application/json"
EOF2
# measured before the server starts, so that nothing else holds the cores
inproc=$("$build/bert-bench" model --model "$model" --threads "$threads" --workload b8_s128 --reps 10 2> /dev/null |
    sed -n 's/.*"seq_per_s":\([0-9.]*\).*/\1/p')
echo "in-process (bert-bench model b8_s128, $threads threads): $inproc sequences/s"
"$build/bert-serve" --model "$model" --port 0 --threads "$threads" --max-batch-requests 64 -q 2> "$tmp/log" &
pid=$!
trap 'kill -TERM $pid 2> /dev/null; rm -rf "$tmp"' EXIT
port=""
for _ in $(seq 1 300); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/log"; exit 1; }
# the text is 128 tokens with [CLS] and [SEP]
curl -s "http://127.0.0.1:$port/tokenize" -d "{\"inputs\": \"$words\"}" | grep -o '"id"' | wc -l | grep -qx 128
for c in 1 8 64; do
    wrk -t1 -c"$c" -d"${secs}s" --timeout 120s --latency -s "$tmp/post.lua" "http://127.0.0.1:$port/predict" > "$tmp/wrk.txt" 2>&1
    rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$tmp/wrk.txt")
    p50=$(sed -n 's/^ *50% *\([0-9.]*[a-z]*\).*/\1/p' "$tmp/wrk.txt")
    p99=$(sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$tmp/wrk.txt")
    fails=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$tmp/wrk.txt")
    grep -q "Socket errors" "$tmp/wrk.txt" && sed -n 's/^ *\(Socket errors.*\)/# \1/p' "$tmp/wrk.txt"
    awk -v c="$c" -v r="$rps" -v i="$inproc" -v a="$p50" -v b="$p99" -v f="${fails:-0}" 'BEGIN {
        printf "{\"clients\":%d,\"requests_per_s\":%s,\"ratio_to_inprocess\":%.3f,\"p50\":\"%s\",\"p99\":\"%s\",\"failed\":%d}\n",
               c, r, r / i, a, b, f }'
done
