#!/bin/sh
# Tokenizer throughput, libbert vs Hugging Face tokenizers (Rust, via its npm binding), side by side:
# alternating rounds on the same machine, then the ratio of the medians of the best-of-N runs, for
# BERT's WordPiece (mini-sst2), RoBERTa's byte-level BPE and T5's Unigram (their tokenizer.json).
#   bench/compare_tokenizer.sh [ROUNDS] [BUILD_DIR]
# Needs the peer installed once (see ../shared/bench/README.md):
#   mkdir -p /tmp/tokpeer && cd /tmp/tokpeer && npm init -y >/dev/null && npm install tokenizers
set -eu
rounds=${1:-3}
build=${2:-build}
shared=${BERT_SHARED_DIR:-../shared}
tmp=${TMPDIR:-/tmp}/bert-tokbench
mkdir -p "$tmp"
tail -n +2 "$shared/data/glue/SST-2/train.tsv" | cut -f1 > "$tmp/sst2-train.txt"
awk 'NF==0{if(s!="")print s;s="";next} $1=="-DOCSTART-"{next} {s=(s==""?$1:s" "$1)} END{if(s!="")print s}' \
    "$shared/data/conll2003/eng.train" > "$tmp/conll-train.txt"
: > "$tmp/results.jsonl"
for r in $(seq "$rounds"); do
  for t in models/mini-sst2 data/tokenizers/roberta-base data/tokenizers/t5-small; do
    for f in sst2-train conll-train; do
      node "$shared/bench/peer_tokenizers.js" "$shared/$t/tokenizer.json" "$tmp/$f.txt" |
        sed "s|^{|{\"tok\":\"${t##*/}\",|" >> "$tmp/results.jsonl"
      "$build/bert-bench" tokenizer --model "$shared/$t" "$tmp/$f.txt" |
        sed "s|^{|{\"tok\":\"${t##*/}\",|" >> "$tmp/results.jsonl"
    done
  done
done
python3 - "$tmp/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def name(p): return p.rsplit('/', 1)[-1].replace('.txt', '')
res = {}
for r in rows:
    if 'peer' in r:
        for mode in ('one_by_one', 'batch'):
            res.setdefault((r['tok'], name(r['input']), mode, 'peer'), []).append(r['bytes'] / 1e6 / r[mode]['best_s'])
    else:
        res.setdefault((r['tok'], name(r['file']), r['mode'], 'libbert'), []).append(r['mb_per_s'])
print('| tokenizer | input | mode | HF tokenizers MB/s | libbert MB/s | ratio |')
print('|---|---|---|---|---|---|')
for t in ('mini-sst2', 'roberta-base', 't5-small'):
    for f in ('sst2-train', 'conll-train'):
        for mode in ('one_by_one', 'batch'):
            p = statistics.median(res[(t, f, mode, 'peer')]); l = statistics.median(res[(t, f, mode, 'libbert')])
            print(f'| {t} | {f} | {mode} | {p:.2f} | {l:.2f} | {l / p:.1f}x |')
PY
