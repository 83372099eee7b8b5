#!/bin/sh
# bert-serve's throughput and latency at 1, 8 and 64 concurrent clients sending one 128-token text
# per request (POST /predict), side by side with bert-bench model's in-process throughput on the
# same model and threads (b8_s128, the [CLS]-only path /predict also takes): ROUNDS rounds, each
# measuring in-process first (no server running) and then the server, so that a noisy machine's
# drift hits both; one JSON line per round and level, then the medians. wrk drives the clients (it
# shares the CPU with the server on a small machine: say so when reporting).
# usage: [ROUNDS=3] [MAX_BATCH_REQUESTS=64] [MAX_BATCH_TOKENS=2048] bench/serve_bench.sh BUILD_DIR MODEL_DIR [SECONDS [THREADS]]
set -eu
build=$1
model=$2
secs=${3:-20}
threads=${4:-$(nproc)}
rounds=${ROUNDS:-3}
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -TERM $pid 2> /dev/null; rm -rf "$tmp"' EXIT
words=$(for _ in $(seq 1 126); do printf 'the '; done)
cat > "$tmp/post.lua" << EOF2
wrk.method = "POST"
wrk.body = '{"inputs": "$words"}'
wrk.headers["Content-Type"] = "application/json"
EOF2
for round in $(seq 1 "$rounds"); do
    inproc=$("$build/bert-bench" model --model "$model" --threads "$threads" --workload b8_s128 --reps 10 2> /dev/null |
        sed -n 's/.*"seq_per_s":\([0-9.]*\).*/\1/p')
    "$build/bert-serve" --model "$model" --port 0 --threads "$threads" \
        --max-batch-requests "${MAX_BATCH_REQUESTS:-64}" --max-batch-tokens "${MAX_BATCH_TOKENS:-2048}" -q 2> "$tmp/log" &
    pid=$!
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
        wrk -t1 -c"$c" -d"${secs}s" --timeout 120s --latency -s "$tmp/post.lua" "http://127.0.0.1:$port/predict" \
            > "$tmp/wrk.txt" 2>&1
        rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$tmp/wrk.txt")
        p50=$(sed -n 's/^ *50% *\([0-9.]*[a-z]*\).*/\1/p' "$tmp/wrk.txt")
        p99=$(sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$tmp/wrk.txt")
        fails=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$tmp/wrk.txt")
        errs=$(sed -n 's/^ *Socket errors: \(.*\)/\1/p' "$tmp/wrk.txt")
        printf '{"round":%d,"clients":%d,"inprocess_seq_per_s":%s,"requests_per_s":%s,"ratio":%s,"p50":"%s","p99":"%s","failed":%d,"socket_errors":"%s"}\n' \
            "$round" "$c" "$inproc" "$rps" "$(awk -v r="$rps" -v i="$inproc" 'BEGIN { printf "%.3f", r / i }')" \
            "$p50" "$p99" "${fails:-0}" "$errs" | tee -a "$tmp/all.jsonl"
    done
    kill -TERM "$pid"
    wait "$pid" || true
    pid=""
done
# medians per level of the round ratios
for c in 1 8 64; do
    grep "\"clients\":$c," "$tmp/all.jsonl" | sed 's/.*"ratio":\([0-9.]*\).*/\1/' | sort -n |
        awk -v c="$c" '{ v[NR] = $1 } END { printf "median ratio to in-process at %d clients: %s (%d rounds)\n", c, v[int((NR + 1) / 2)], NR }'
done
