"""docs/python.md's program (docs/examples/python_tour.py) prints what the page says, and those are
the reference outputs: the prompted sentence-transformers vector, the cross-encoder's order, the
zero-shot pipeline's scores, the NER pipeline's entities and the fill-mask top 3 (to the 4
decimals printed)."""

import os
import subprocess
import sys

from conftest import REPO, SHARED, fixture


def test_python_tour_prints_the_references():
    out = subprocess.run([sys.executable, os.path.join(REPO, "docs", "examples", "python_tour.py"), SHARED],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    ref = fixture("tiny-sbert-max-prompts", "embeddings_reference.json")["prompted"]["query"]["embeddings"][0]
    assert ref["text"] == "query: A man with a hard hat is dancing."
    emb = " ".join(f"{v:.4f}" for v in ref["embedding"][:3])
    nli = next(c for c in fixture("tiny-nli-zeroshot", "zeroshot_reference.json")["calls"]
               if c["sequence"] == "it 's a charming and often affecting journey . " and not c["multi_label"]
               and c["candidate_labels"] == ["positive", "negative"])
    mlm = next(r for r in fixture("mini-mlm", "fill_mask_reference.json")
               if r["text"] == "The capital of France is [MASK].")["top5"][:3]
    want = [
        "['positive', 'negative']",
        "[[0.0015 0.9985]",
        " [0.998  0.002 ]]",
        "('negative', 'positive') [1 0]",
        f"(1, 32) float32 [{emb}]",
        "2 0.4462 Paris is the capital of France.",  # the C retrieval example's ranking (doc_retrieval)
        "0 0.2145 The Eiffel Tower is in Paris.",
        "1 0.0107 Cats sleep a lot.",
        f"{nli['labels']} {[round(s, 4) for s in nli['scores']]}",
        "MISC 0.5166 'west indian' 0 11",  # the pipeline's "simple" entities (doc_heads_ner)
        "PER 0.9876 'phil simmons' 24 36",
        "PER 0.6339 'leicestershire' 67 81",
        "PER 0.6249 'somerset' 87 95",
    ] + [f"{t['token']} {t['token_id']} {round(t['score'], 4)}" for t in mlm] + [
        "[[ 101 7592 1010 2088  999  102]] ['[CLS]', 'hello', ',', 'world', '!', '[SEP]'] "
        "[[0, 0], [0, 5], [5, 6], [7, 12], [12, 13], [0, 0]]",
        "BERT_E_UTF8 - texts[1], text a: malformed UTF-8 at byte 4 (byte 0xED)",
        "BERT_E_IO - /models/missing/config.json: cannot open: No such file or directory",
        "[25, 25, 25, 25] ['positive', 'positive']",
    ]
    assert lines == want
