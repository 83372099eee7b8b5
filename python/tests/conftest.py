"""Shared paths: $BERT_SHARED_DIR (default ../shared beside the repository) for the data and
reference outputs, $BERT_TOOLS_DIR for the C tools the Python results are compared with."""

import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SHARED = os.environ.get("BERT_SHARED_DIR") or os.path.join(REPO, "..", "shared")
TOOLS = os.environ.get("BERT_TOOLS_DIR") or os.path.join(REPO, "build")


def shared(*parts):
    return os.path.join(SHARED, *parts)


def model(name):
    return shared("models", name)


def fixture(name, file):
    with open(shared("fixtures", name, file), encoding="utf-8") as f:
        return json.load(f)


def sst2_dev():
    """SST-2 dev: (sentences, gold labels), from the TSV bert-classify reads."""
    with open(shared("data", "glue", "SST-2", "dev.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return [r[0] for r in rows], [int(r[1]) for r in rows]


def bert_classify(*args, stdin=None):
    """Runs the C tool; returns its JSONL output lines parsed."""
    exe = os.path.join(TOOLS, "bert-classify")
    out = subprocess.run([exe, "-q", *args], input=stdin, capture_output=True, check=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


@pytest.fixture(scope="session")
def sst2_model():
    import libbert

    return libbert.Model(os.path.join(REPO, "models", "mini-sst2"))
