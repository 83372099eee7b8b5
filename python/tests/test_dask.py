"""A real Dask cluster on 127.0.0.1: `dask scheduler` and two single-threaded `dask worker`
processes; docs/examples/dask_classify.py classifies SST-2 dev in 8 partitions over them, each
worker loading the model once; its output must equal bert-classify's (labels, and probabilities to
the 6 decimals both print). The time each worker took is printed (pytest -s, or ctest -V)."""

import os
import re
import subprocess
import sys
import time

import pytest

from conftest import REPO, TOOLS, shared

DEV = shared("data", "glue", "SST-2", "dev.tsv")
MODEL = os.path.join(REPO, "models", "mini-sst2")


def _start(args, log):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)


@pytest.fixture
def cluster(tmp_path):
    sched_file = str(tmp_path / "scheduler.json")
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = []
    logs = []
    try:
        logs.append(open(tmp_path / "scheduler.log", "w"))
        procs.append(_start(dask + ["--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                    "--scheduler-file", sched_file], logs[-1]))
        deadline = time.time() + 60
        while not os.path.exists(sched_file) or os.path.getsize(sched_file) == 0:
            assert procs[0].poll() is None, open(tmp_path / "scheduler.log").read()
            assert time.time() < deadline, "the scheduler did not start in 60 s"
            time.sleep(0.1)
        for i in range(2):
            logs.append(open(tmp_path / f"worker{i}.log", "w"))
            procs.append(_start([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", sched_file,
                                 "--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1",
                                 "--name", f"w{i}"], logs[-1]))
        from distributed import Client

        with Client(scheduler_file=sched_file, timeout=60) as c:
            c.wait_for_workers(2, timeout=60)
        yield sched_file
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for f in logs:
            f.close()


def test_dask_classifies_sst2_dev_as_bert_classify(cluster):
    t = time.perf_counter()
    run = subprocess.run([sys.executable, os.path.join(REPO, "docs", "examples", "dask_classify.py"), cluster, MODEL,
                          DEV, "8"], capture_output=True, text=True, timeout=300)
    print(run.stderr)
    assert run.returncode == 0, run.stderr
    tool = subprocess.run([os.path.join(TOOLS, "bert-classify"), "-q", "--input", "tsv", "--header", "--text-col",
                           "1", "--model", MODEL, DEV], capture_output=True, text=True, check=True).stdout
    got, want = run.stdout.splitlines(), tool.splitlines()
    assert len(got) == len(want) == 872
    for g, w in zip(got, want):
        gl, gs, gt = g.split("\t", 2)
        wl, ws, wt = w.split("\t", 2)
        assert (gl, gt) == (wl, wt)
        assert abs(float(gs) - float(ws)) <= 1e-6
    # both workers did some of the 8 partitions, each with the one model it loaded at start
    workers = re.findall(r"worker (w\d): (\d+) texts in (\d+) partitions, [0-9.]+ s .*models loaded: (\d+)", run.stderr)
    assert sorted(w[0] for w in workers) == ["w0", "w1"], run.stderr
    assert sum(int(w[1]) for w in workers) == 872
    assert sum(int(w[2]) for w in workers) == 8
    assert all(w[3] == "1" for w in workers)
    print(f"dask test: {time.perf_counter() - t:.1f} s")
