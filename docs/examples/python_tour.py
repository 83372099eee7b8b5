"""docs/python.md's examples as one program: python3 python_tour.py SHARED_DIR (the shared models).
python/tests/test_docs.py runs it and checks what it prints against the reference outputs."""

import sys
from concurrent.futures import ThreadPoolExecutor

shared = sys.argv[1] + "/models/"

# [snippet:classify]
import libbert

model = libbert.Model()  # the embedded default model: SST-2 sentiment
result = model.classify(["A gripping, beautifully shot thriller.", "A tedious, overlong mess."])
print(result.labels)  # the predicted labels
print(result.scores.round(4))  # numpy float32 [texts, labels], columns in model.labels order
print(model.labels, result.label_ids)
# [snippet:classify]

# [snippet:embed]
embedder = libbert.Model(shared + "tiny-sbert-max-prompts")  # a sentence-transformers folder
queries = embedder.embed(["A man with a hard hat is dancing."], prompt_name="query")
print(queries.shape, queries.dtype, queries[0, :3].round(4))
# [snippet:embed]

# [snippet:rerank]
reranker = libbert.Model(shared + "tiny-crossencoder")
passages = ["The Eiffel Tower is in Paris.", "Cats sleep a lot.", "Paris is the capital of France."]
for hit in reranker.rerank("where is the eiffel tower", passages, return_documents=True):
    print(hit["corpus_id"], round(hit["score"], 4), hit["text"])
# [snippet:rerank]

# [snippet:zero_shot]
nli = libbert.Model(shared + "tiny-nli-zeroshot")
answer = nli.zero_shot("it 's a charming and often affecting journey . ", ["positive", "negative"])[0]
print(answer["labels"], [round(s, 4) for s in answer["scores"]])
# [snippet:zero_shot]

# [snippet:ner]
tagger = libbert.Model(shared + "mini-conll03-ner")
for e in tagger.ner("West Indian all-rounder Phil Simmons took four for 38 on Friday as Leicestershire beat "
                    "Somerset by an innings and 39 runs in two days to take over at the head of the county "
                    "championship .")[0]:
    print(e["entity_group"], round(e["score"], 4), repr(e["word"]), e["start"], e["end"])
# [snippet:ner]

# [snippet:fill_mask]
mlm = libbert.Model(shared + "mini-mlm")
for p in mlm.fill_mask("The capital of France is [MASK].", top_k=3)[0][0]:
    print(p["token_str"], p["token"], round(p["score"], 4))
# [snippet:fill_mask]

# [snippet:tokenize]
enc = model.tokenize(["Hello, world!"])
print(enc["input_ids"], enc["tokens"][0], enc["offset_mapping"][0].tolist())
# [snippet:tokenize]

# [snippet:errors]
try:
    model.classify(["fine", "bad \udc80 text"])
except libbert.InvalidInputError as e:  # also a ValueError
    print(e.status, "-", e)
try:
    libbert.Model("/models/missing")
except libbert.ModelFileError as e:  # also an OSError
    print(e.status, "-", e)
# [snippet:errors]

# [snippet:threads]
texts = ["A gripping, beautifully shot thriller.", "A tedious, overlong mess."] * 50
with ThreadPoolExecutor(max_workers=4) as pool:  # one model; each thread gets its own context
    parts = list(pool.map(model.classify, [texts[i::4] for i in range(4)]))
print([len(p) for p in parts], parts[0].labels[:2])
# [snippet:threads]
