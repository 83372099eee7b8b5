"""Every task against the reference outputs in ../shared/fixtures (transformers' pipelines,
sentence-transformers, HF tokenizers): ids, labels and words exact; scores within 1e-4 (embeddings
1e-5), as the C tests assert."""

import json

import numpy as np
import pytest

import libbert
from conftest import fixture, model, shared


def test_ner_matches_the_pipeline():
    ref = fixture("mini-conll03-ner", "pipeline_reference.json")
    m = libbert.Model(model("mini-conll03-ner"))
    for strategy in ("none", "simple", "first", "average", "max"):
        got = m.ner(ref["texts"], aggregation=strategy)
        want = ref["strategies"][strategy]
        assert len(got) == len(want)
        for g_row, w_row in zip(got, want):
            assert [{k: v for k, v in e.items() if k != "score"} for e in g_row] == \
                   [{k: v for k, v in e.items() if k != "score"} for e in w_row], strategy
            for g, w in zip(g_row, w_row):
                assert abs(g["score"] - w["score"]) <= 1e-4


def test_fill_mask_matches_the_pipeline():
    ref = fixture("mini-mlm", "fill_mask_reference.json")
    m = libbert.Model(model("mini-mlm"))
    got = m.fill_mask([r["text"] for r in ref], top_k=5)
    for g, r in zip(got, ref):
        assert len(g) == 1  # one [MASK] per text
        assert [p["token"] for p in g[0]] == [t["token_id"] for t in r["top5"]]
        assert [p["token_str"] for p in g[0]] == [t["token"] for t in r["top5"]]
        assert max(abs(p["score"] - t["score"]) for p, t in zip(g[0], r["top5"])) <= 1e-4


@pytest.mark.parametrize("name", ["tiny-sbert-meanpool", "tiny-sbert-meansqrt", "tiny-sbert-cls-dense",
                                  "tiny-sbert-max-prompts"])
def test_embeddings_match_sentence_transformers(name):
    ref = fixture(name, "embeddings_reference.json")
    m = libbert.Model(model(name))
    texts = [e["text"] for e in ref["embeddings"]]
    got = m.embed(texts)
    assert got.dtype == np.float32 and got.shape == (len(texts), len(ref["embeddings"][0]["embedding"]))
    assert np.abs(got - np.array([e["embedding"] for e in ref["embeddings"]])).max() <= 1e-5
    for pname, p in ref.get("prompted", {}).items():
        # the reference texts carry the prompt already; embed() prepends it to the bare text
        bare = [e["text"][len(p["prompt"]):] for e in p["embeddings"]]
        got = m.embed(bare, prompt_name=pname)
        assert np.abs(got - np.array([e["embedding"] for e in p["embeddings"]])).max() <= 1e-5, pname


def test_cross_encoder_scores_and_ranking():
    ref = fixture("tiny-crossencoder", "crossencoder_reference.json")
    m = libbert.Model(model("tiny-crossencoder"))
    pairs = [(p["text_a"], p["text_b"]) for p in ref["pairs"]]
    scores = m.score_pairs(pairs)
    assert scores.shape == (len(pairs),)
    assert np.abs(scores - np.array([p["score"] for p in ref["pairs"]])).max() <= 1e-4
    rk = ref["rank"]
    for q in rk["queries"]:
        got = m.rerank(q["query"], rk["passages"], return_documents=True)
        assert [r["corpus_id"] for r in got] == q["ranking"]
        assert max(abs(r["score"] - q["scores"][r["corpus_id"]]) for r in got) <= 1e-4
        assert all(r["text"] == rk["passages"][r["corpus_id"]] for r in got)
        assert [r["corpus_id"] for r in m.rerank(q["query"], rk["passages"], top_k=3)] == q["ranking"][:3]


def test_three_way_cross_encoder_gives_every_label():
    m = libbert.Model(model("tiny-crossencoder-3way"))
    s = m.score_pairs([("a question", "a passage"), ("another", "one")], softmax=True)
    assert s.shape == (2, 3)
    assert np.allclose(s.sum(1), 1.0, atol=1e-6)
    with pytest.raises(ValueError, match="one-label cross-encoder"):
        m.rerank("q", ["a", "b"])


def test_pairs_are_stripped_as_crossencoder_does():
    """CrossEncoder.predict strips both texts: with RoBERTa's byte-level BPE white space changes the
    tokens, so padded pairs must score as the bare ones (and differently when classified as they are),
    as bert-classify --task rerank scores them."""
    m = libbert.Model(model("tiny-roberta-seqcls"))
    bare, padded = [("a query", "a passage")], [("  a query ", " a passage  ")]
    assert np.array_equal(m.score_pairs(bare), m.score_pairs(padded))
    assert np.abs(m.classify(bare).scores - m.classify(padded).scores).max() > 1e-3
    with pytest.raises(TypeError, match=r"pairs\[0\]"):
        m.score_pairs(["not a pair"])


def test_zero_shot_matches_the_pipeline():
    ref = fixture("tiny-nli-zeroshot", "zeroshot_reference.json")
    m = libbert.Model(model("tiny-nli-zeroshot"))
    for c in ref["calls"]:
        kw = {"multi_label": c["multi_label"]}
        if c.get("template_passed"):
            kw["hypothesis_template"] = c["hypothesis_template"]
        got = m.zero_shot(c["sequence"], c["candidate_labels"], **kw)[0]
        assert got["sequence"] == c["sequence"]
        assert got["labels"] == c["labels"]
        assert max(abs(a - b) for a, b in zip(got["scores"], c["scores"])) <= 1e-4


def test_tokenizer_json_matches_hf_tokenizers():
    """roberta-base's byte-level BPE: ids, type ids, tokens and character offsets of every fixture row."""
    tok = libbert.Tokenizer(shared("data", "tokenizers", "roberta-base", "tokenizer.json"))
    with open(shared("fixtures", "tokenizer", "roberta-base.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    for r in rows:
        enc = tok(r["text"] if r["text_pair"] is None else [(r["text"], r["text_pair"])])
        n = int(enc["lengths"][0])
        assert enc["input_ids"][0, :n].tolist() == r["input_ids"], r["text"]
        assert enc["token_type_ids"][0, :n].tolist() == r["token_type_ids"]
        assert enc["tokens"][0] == r["tokens"]
        assert enc["offset_mapping"][0, :n].tolist() == r["char_offsets"], r["text"]


def test_model_tokenize_and_decode():
    m = libbert.Model(model("mini-sst2"))
    enc = m.tokenize(["Hello, world!", "a"])
    assert enc["input_ids"].tolist() == [[101, 7592, 1010, 2088, 999, 102], [101, 1037, 102, 0, 0, 0]]
    assert enc["attention_mask"].tolist() == [[1] * 6, [1, 1, 1, 0, 0, 0]]
    assert m.decode(enc["input_ids"][0]) == "[CLS] hello, world! [SEP]"
    assert m.decode(enc["input_ids"][0], skip_special_tokens=True) == "hello, world!"
    t = m.tokenize("one two three four five", max_length=4)
    assert t["input_ids"].tolist() == [[101, 2028, 2048, 102]]


def test_other_families_classify_from_text():
    """RoBERTa and DeBERTa-v3 through their own tokenizer.json: the probabilities of transformers'
    logits for the text (README / docs/models.md: 0.460582 and 0.482467)."""
    text = "The quick brown fox jumps over the lazy dog."
    r = libbert.Model(model("tiny-roberta-seqcls")).classify(text)
    assert r.labels == ["negative"] and abs(float(r.scores[0, 0]) - 0.460582) <= 1e-4
    d = libbert.Model(model("tiny-debertav3-seqcls")).classify(text)
    assert d.labels == ["contradiction"] and abs(float(d.scores[0, 2]) - 0.482467) <= 1e-4
