"""Throughput of the same classification job three ways on one machine, side by side, ROUNDS rounds
(each round runs every way once, so a noisy machine's drift hits all of them), medians at the end:

  process-2t   one Python process, one Model with threads=2 (libbert's OpenMP inside each call)
  dask-2x1t    a Dask scheduler and two `dask worker --nthreads 1` processes, each Model threads=1,
               the texts in 8 partitions
  dask-1x2t    one `dask worker --nthreads 1` with Model threads=2 (Dask's overhead alone)
  bert-classify --threads 2 on the same file, as the C reference

usage: python3 bench/dask_bench.py MODEL_DIR FILE.tsv [ROUNDS]
       (FILE.tsv: a header, then text<TAB>...; LIBBERT_LIBRARY, PYTHONPATH=python, BERT_TOOLS_DIR=build)
Prints one JSON line per round and way (seconds, texts/s, tokens/s) and a median table.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import dask.bag as db
from distributed import Client

import libbert
import libbert.dask


def start(args, log):
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, OMP_NUM_THREADS="1"),
                            start_new_session=True)


def cluster(n_workers, tmp):
    f = os.path.join(tmp, "sched.json")
    if os.path.exists(f):
        os.unlink(f)
    log = open(os.path.join(tmp, "log"), "a")
    procs = [start([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                    "--no-dashboard", "--scheduler-file", f], log)]
    while not os.path.exists(f) or os.path.getsize(f) == 0:
        time.sleep(0.1)
    for i in range(n_workers):
        procs.append(start([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", f, "--nthreads",
                            "1", "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}"], log))
    client = Client(scheduler_file=f, timeout=60)
    client.wait_for_workers(n_workers, timeout=120)
    return client, procs


def stop(client, procs):
    client.close()
    for p in reversed(procs):
        p.terminate()
        p.wait(timeout=30)


def run_dask(model_dir, texts, n_workers, threads, tmp):
    client, procs = cluster(n_workers, tmp)
    try:
        client.register_worker_plugin(libbert.dask.ModelPlugin(model_dir, threads=threads))
        bag = db.from_sequence(texts, npartitions=8)
        t = time.perf_counter()
        out = bag.map_partitions(libbert.dask.classify_partition).compute()
        secs = time.perf_counter() - t
    finally:
        stop(client, procs)
    per = {}
    for rec in out:
        if "partition" in rec:
            p = rec["partition"]
            per[p["worker"]] = round(per.get(p["worker"], 0.0) + p["seconds"], 3)
    return secs, [r["label"] for r in out if "label" in r], per


def main(model_dir, path, rounds):
    with open(path, encoding="utf-8") as f:
        texts = [line.rstrip("\n").split("\t")[0] for line in f][1:]
    m = libbert.Model(model_dir, threads=2)
    tokens = int(sum(m.tokenize(texts)["lengths"]))
    tools = os.environ.get("BERT_TOOLS_DIR", "build")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(rounds):
            t = time.perf_counter()
            ref = m.classify(texts).labels
            rows = [("process-2t", time.perf_counter() - t, ref, {})]
            for name, nw, th in (("dask-2x1t", 2, 1), ("dask-1x2t", 1, 2)):
                secs, labels, per = run_dask(model_dir, texts, nw, th, tmp)
                assert labels == ref, name
                rows.append((name, secs, labels, per))
            t = time.perf_counter()
            subprocess.run([os.path.join(tools, "bert-classify"), "-q", "--threads", "2", "--model", model_dir,
                            "--input", "tsv", "--header", path], check=True, stdout=subprocess.DEVNULL)
            rows.append(("bert-classify-2t", time.perf_counter() - t, ref, {}))
            for name, secs, _, per in rows:
                rec = {"round": rnd, "way": name, "seconds": round(secs, 3), "texts_per_s": round(len(texts) / secs, 1),
                       "tokens_per_s": round(tokens / secs, 1), "worker_seconds": per}
                print(json.dumps(rec), flush=True)
                results.setdefault(name, []).append(secs)
    base = statistics.median(results["process-2t"])
    print(f"\n{len(texts)} texts, {tokens} tokens, {os.path.basename(os.path.normpath(model_dir))}, medians of {rounds}")
    print("| way | seconds | texts/s | vs process-2t |\n|---|---:|---:|---:|")
    for name, v in results.items():
        med = statistics.median(v)
        print(f"| {name} | {med:.3f} | {len(texts) / med:.1f} | {base / med:.3f} |")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3)
