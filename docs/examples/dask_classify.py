"""Classifies a TSV file's sentences on a Dask cluster, the model loaded once per worker, and writes
label<TAB>probability<TAB>text per line in input order, as bert-classify does; on stderr, what each
worker did. tests: python/tests/test_dask.py runs it on a real scheduler and two workers.

usage: dask_classify.py SCHEDULER_FILE_OR_ADDRESS MODEL_DIR FILE.tsv [PARTITIONS]
(FILE.tsv: a header line, then text<TAB>...; SST-2's dev.tsv)
"""

import sys
import time
from collections import defaultdict

import dask.bag as db
from distributed import Client

import libbert.dask


def main(scheduler, model_dir, path, partitions=8):
    with open(path, encoding="utf-8") as f:
        texts = [line.rstrip("\n").split("\t")[0] for line in f][1:]

    # [snippet:recipe]
    client = Client(scheduler_file=scheduler) if scheduler.endswith(".json") else Client(scheduler)
    # every worker, now and later, loads the model once; one compute thread per single-threaded worker
    client.register_worker_plugin(libbert.dask.ModelPlugin(model_dir, threads=1))
    bag = db.from_sequence(texts, npartitions=partitions)
    parts = bag.map_partitions(libbert.dask.classify_partition).compute()
    # [snippet:recipe]

    # map_partitions concatenates the partitions in order: results, then one {"partition"} record
    rows, work = [], defaultdict(lambda: {"seconds": 0.0, "texts": 0, "partitions": 0, "models": set()})
    for rec in parts:
        if "partition" in rec:
            p = rec["partition"]
            w = work[p["worker"]]
            w["seconds"] += p["seconds"]
            w["texts"] += p["texts"]
            w["partitions"] += 1
            w["models"].add((p["pid"], p["model_id"]))
        else:
            rows.append(rec)
    names = client.run(lambda: libbert.dask.model().labels)  # every worker's label names
    labels = next(iter(names.values()))
    for text, r in zip(texts, rows):
        print(f"{r['label']}\t{r['scores'][labels.index(r['label'])]:.6f}\t{text}")
    for name in sorted(work):
        w = work[name]
        print(f"worker {name}: {w['texts']} texts in {w['partitions']} partitions, {w['seconds']:.3f} s "
              f"({w['texts'] / max(w['seconds'], 1e-9):.0f} texts/s), models loaded: {len(w['models'])}",
              file=sys.stderr)
    client.close()
    return len(rows) == len(texts)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    t0 = time.perf_counter()
    ok = main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 8)
    print(f"total {time.perf_counter() - t0:.3f} s", file=sys.stderr)
    sys.exit(0 if ok else 1)
