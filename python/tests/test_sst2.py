"""Python's results against the C tools' on SST-2 dev (872 sentences): labels identical, every
label's score within 1e-6 (bert-classify prints 6 significant digits: at most 5e-7 of rounding)."""

import numpy as np
import pytest

import libbert
from conftest import REPO, bert_classify, shared, sst2_dev

DEV = shared("data", "glue", "SST-2", "dev.tsv")


def tool_rows(*extra):
    rows = bert_classify("--input", "tsv", "--header", "--text-col", "1", "--format", "jsonl", *extra, DEV)
    return [r["label"] for r in rows], np.array([[r["scores"]["negative"], r["scores"]["positive"]] for r in rows])


def test_sst2_dev_equals_bert_classify(sst2_model):
    texts, gold = sst2_dev()
    labels, scores = tool_rows()
    res = sst2_model.classify(texts)
    assert len(res) == len(texts) == 872
    assert res.labels == labels
    assert np.abs(res.scores - scores).max() <= 1e-6
    # and the model's known accuracy on it (README: 0.884)
    acc = float(np.mean(res.label_ids == np.array(gold)))
    assert abs(acc - 0.884) < 5e-4, acc


def test_sst2_dev_logits_match_transformers(sst2_model):
    """The probabilities are the softmax of transformers' logits (fixtures/mini-sst2), within 1e-4."""
    import json

    texts, _ = sst2_dev()
    with open(shared("fixtures", "mini-sst2", "dev_reference.jsonl"), encoding="utf-8") as f:
        ref = [json.loads(line) for line in f]
    logits = np.array([r["logits"] for r in ref], dtype=np.float64)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    res = sst2_model.classify([r["text_a"] for r in ref])
    assert np.abs(res.scores - p).max() <= 1e-4


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_precisions_equal_the_tool(precision):
    """The same batches of 32 (int8 quantises each call's activations as a whole, so its numbers
    depend on which texts share a batch)."""
    texts, _ = sst2_dev()
    labels, scores = tool_rows("--precision", precision, "--batch-size", "32")
    m = libbert.Model(REPO + "/models/mini-sst2", precision=precision)
    res = m.classify(texts, batch_size=32)
    assert res.labels == labels
    assert np.abs(res.scores - scores).max() <= 1e-6


def test_batch_size_does_not_change_results(sst2_model):
    texts, _ = sst2_dev()
    a = sst2_model.classify(texts[:64], batch_size=1)
    b = sst2_model.classify(texts[:64], batch_size=64)
    assert a.labels == b.labels
    assert np.abs(a.scores - b.scores).max() <= 1e-6


def test_pairs_equal_the_tool(tmp_path):
    """Sentence pairs (a 3-way NLI classifier) through classify, against bert-classify --pair."""
    import json

    calls = json.load(open(shared("fixtures", "tiny-nli-zeroshot", "zeroshot_reference.json")))["calls"]
    pairs = [(c["sequence"], h["hypothesis"]) for c in calls[:10] for h in c["hypotheses"]]
    f = tmp_path / "pairs.tsv"
    f.write_text("".join(f"{a}\t{b}\n" for a, b in pairs), encoding="utf-8")
    rows = bert_classify("--model", shared("models", "tiny-nli-zeroshot"), "--pair", "--format", "jsonl", str(f))
    m = libbert.Model(shared("models", "tiny-nli-zeroshot"))
    res = m.classify(pairs)
    assert res.labels == [r["label"] for r in rows]
    ref = np.array([[r["scores"][n] for n in m.labels] for r in rows])
    assert np.abs(res.scores - ref).max() <= 1e-6
