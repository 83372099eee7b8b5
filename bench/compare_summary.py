#!/usr/bin/python3
"""Summarise bench/compare_peers.sh results: per model, threads and workload, the median over
rounds of each tool's median ms per batch, each libbert precision's ratio to the faster fp32 ONNX
Runtime variant (plain or fused), libbert int8's ratio to ONNX Runtime's int8 model (ort-int8,
dynamic quantisation) and to libbert bf16 (latency ratios: below 1 is faster; throughput ratio =
1 / that). Markdown on stdout.

  /usr/bin/python3 bench/compare_summary.py RESULTS.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict


def main(path):
    runs = defaultdict(list)  # (model, threads, workload, tool) -> [median_ms per round]
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        tool = "libbert " + r["precision"] if r.get("tool") == "libbert" else r.get("peer")
        if tool == "ort:model.int8.onnx":
            tool = "ort-int8"
        if r.get("weights") == "mapped":
            tool += " mapped"
        runs[(r["model"], r["threads"], r["workload"], tool)].append(r["median_ms"])
    med = {k: statistics.median(v) for k, v in runs.items()}
    n_rounds = max(len(v) for v in runs.values())
    tools = sorted({k[3] for k in med}, key=lambda t: (not t.startswith("libbert"), t))
    order = ["b1_s128", "b8_s128", "b32_s64_var", "b1_s512"]
    print(f"medians over {n_rounds} rounds of each run's median ms per batch ({path})\n")
    precs = ("f32", "f32 mapped", "bf16", "int8")
    print("| model | threads | workload | " + " | ".join(tools) + " | " +
          " | ".join(f"{p} / best ORT f32" for p in precs) +
          " | int8 / ORT int8 | int8 / bf16 | int8 speed-up over f32 |")
    print("|" + "---|" * (3 + len(tools) + len(precs) + 3))
    for (model, threads) in sorted({(k[0], k[1]) for k in med}, key=lambda x: (x[0], -x[1])):
        for w in order:
            row = {t: med.get((model, threads, w, t)) for t in tools}
            if not any(row.values()):
                continue
            orts = [v for t, v in row.items() if t and t.startswith("ort") and t != "ort-int8" and v]
            best = min(orts) if orts else None
            cells = [f"{row[t]:.1f}" if row[t] else "-" for t in tools]
            ratios = []
            for p in precs:
                v = row.get("libbert " + p)
                ratios.append(f"{v / best:.2f}" if v and best else "-")
            f32, i8 = row.get("libbert f32"), row.get("libbert int8")
            o8, b16 = row.get("ort-int8"), row.get("libbert bf16")
            ratios.append(f"{i8 / o8:.2f}" if i8 and o8 else "-")
            ratios.append(f"{i8 / b16:.2f}" if i8 and b16 else "-")
            ratios.append(f"{f32 / i8:.2f}x" if f32 and i8 else "-")
            print(f"| {model} | {threads} | {w} | " + " | ".join(cells + ratios) + " |")
    print("\nRatios are latency ratios (libbert ms / the peer's ms); throughput ratio = 1 / that.")


if __name__ == "__main__":
    main(sys.argv[1])
