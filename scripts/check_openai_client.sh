#!/bin/sh
# bert-serve's /v1/embeddings through the official `openai` npm client (float, base64, and the
# client's default, which asks for base64 and decodes it): every vector equal to
# bert-classify --task embed's within 1e-6. Run by .ci/run (it needs the npm registry).
# usage: check_openai_client.sh BUILD_DIR SHARED_DIR OPENAI_MODULE_DIR
set -eu
build=$1
shared=$2
OPENAI_MODULE=$3
export OPENAI_MODULE
here=$(cd "$(dirname "$0")" && pwd)
model=$shared/models/tiny-sbert-cls-dense
tmp=$(mktemp -d)
"$build/bert-serve" --model "$model" --port 0 -q 2> "$tmp/log" &
pid=$!
trap 'kill -TERM $pid 2> /dev/null; rm -rf "$tmp"' EXIT
port=""
for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/log"; exit 1; }
printf 'A man with a hard hat is dancing.\nA man wearing a hard hat is dancing.\n' > "$tmp/in.txt"
"$build/bert-classify" -q --model "$model" --task embed "$tmp/in.txt" | tr '\t' ' ' > "$tmp/cli.txt"
for format in float base64 default; do
    node "$here/openai_embed.mjs" "$port" "$format" "A man with a hard hat is dancing." \
        "A man wearing a hard hat is dancing." > "$tmp/oa.txt"
    paste -d '\n' "$tmp/cli.txt" "$tmp/oa.txt" | awk '
        NR % 2 { n = split($0, a, " "); next }
        { m = split($0, b, " "); if (m != n) bad = 1
          for (i = 1; i <= n; i++) { d = a[i] - b[i]; if (d < 0) d = -d; if (d > worst) worst = d } }
        END { printf "openai client, encoding %s: %d vectors, max |difference| from bert-classify %.3g\n", fmt, NR / 2, worst
              exit bad || worst > 1e-6 }' fmt="$format"
done
