"""libbert on a Dask cluster: each worker process loads the model once, at start, and every task
on that worker uses it.

    from distributed import Client
    import libbert.dask
    client = Client("tcp://scheduler:8786")
    client.register_worker_plugin(libbert.dask.ModelPlugin("/models/sst2", threads=1))
    bag.map_partitions(libbert.dask.classify_partition)   # or any function calling model()

The model folder must be readable at the same path on every worker machine (a shared file system
or the same copy on each). Needs Dask's `distributed` (Debian: python3-distributed).
"""

import os
import socket
import time

from distributed import WorkerPlugin, get_worker

from .model import Model

PLUGIN_NAME = "libbert"


class ModelPlugin(WorkerPlugin):
    """Loads Model(path, **kwargs) once in every worker, now and in workers that join later.
    threads: the compute threads of each worker's context; give it the cores per worker
    (dask worker --nthreads 1 runs one task at a time, so threads = cores / workers per machine)."""

    name = PLUGIN_NAME

    def __init__(self, path=None, **kwargs):
        self.path = path
        self.kwargs = kwargs
        self.model = None
        self.load_seconds = None

    def setup(self, worker):
        t = time.perf_counter()
        self.model = Model(self.path, **self.kwargs)
        self.load_seconds = time.perf_counter() - t

    def teardown(self, worker):
        self.model = None


def model(name=PLUGIN_NAME):
    """The model this worker loaded (call it inside a task)."""
    try:
        plugin = get_worker().plugins[name]
    except (ValueError, KeyError):
        raise RuntimeError("libbert.dask.model(): no libbert model on this worker: "
                           "client.register_worker_plugin(libbert.dask.ModelPlugin(path)) first") from None
    return plugin.model


def where():
    """This worker: its name, host and process id (for reports of who did what)."""
    w = get_worker()
    return {"worker": str(w.name), "address": w.address, "host": socket.gethostname(), "pid": os.getpid(),
            "model_id": id(model())}


def classify_partition(texts, **kwargs):
    """classify() on one partition with this worker's model: a list with one record per text,
    {"label", "scores" (one per label), "index" (the text's place in the partition)}, and the
    worker and the seconds the partition took in a final {"partition": ...} record."""
    texts = list(texts)
    t = time.perf_counter()
    r = model().classify(texts, **kwargs)
    info = where()
    info["seconds"] = time.perf_counter() - t
    info["texts"] = len(texts)
    out = [{"index": i, "label": r.labels[i], "scores": r.scores[i].tolist()} for i in range(len(texts))]
    out.append({"partition": info})
    return out
