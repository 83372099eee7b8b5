"""Model: a libbert model with its tokenizer and heads, shared by threads.

The C contract: a model and its heads are immutable and shared; every thread runs through its own
context, batch and result. Model keeps those per thread (threading.local), so one Model object may
be used from any number of Python threads at once; ctypes releases the GIL during each run.
"""

import ctypes
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import List, Tuple

import numpy as np

from . import _capi as C
from ._inputs import Inputs, as_list, raise_status, shift_input
from .tokenizer import decode_ids, encode_texts

_lib = C.lib


def default_model_dir():
    """The embedded default model (mini-sst2, SST-2 sentiment): $BERT_MODEL_DIR, else the one
    installed beside the library (PREFIX/share/libbert/models/mini-sst2), else the source tree's
    when the library is a build-tree one (build/libbert.so)."""
    env = os.environ.get("BERT_MODEL_DIR")
    if env:
        return env
    libdir = os.path.dirname(os.path.realpath(C.path)) if os.path.dirname(C.path) else None
    if libdir is None:  # found by soname: ask the loader where it came from
        libdir = _loaded_dir()
    for rel in ("../share/libbert/models/mini-sst2", "../models/mini-sst2"):
        d = os.path.normpath(os.path.join(libdir or ".", rel))
        if os.path.isfile(os.path.join(d, "config.json")):
            return d
    raise FileNotFoundError(
        "libbert: no default model: none installed beside " + (libdir or C.path) +
        " (PREFIX/share/libbert/models/mini-sst2); pass a model folder or set BERT_MODEL_DIR")


def _loaded_dir():
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if os.path.basename(p).startswith("libbert.so"):
                    return os.path.dirname(p)
    except OSError:
        pass
    return None


# ---- handles ---------------------------------------------------------------------------------


class _ModelHandle:
    """Owns the bert_model; freed when the last Model, head and per-thread state holding it is gone."""

    def __init__(self, ptr):
        self.ptr = ptr

    def __del__(self):
        if self.ptr:
            _lib.bert_model_free(self.ptr)
            self.ptr = None


class _Head:
    def __init__(self, mh, params, keep):
        self.mh = mh  # the model outlives its heads
        self.keep = keep
        p = ctypes.c_void_p()
        err = ctypes.create_string_buffer(1024)
        st = _lib.bert_head_new(mh.ptr, ctypes.byref(params), ctypes.byref(p), err, len(err))
        if st != C.BERT_OK:
            raise_status(st, err.value)
        self.ptr = p.value
        self.task = _lib.bert_head_task(self.ptr)

    def __del__(self):
        if getattr(self, "ptr", None):
            _lib.bert_head_free(self.ptr)
            self.ptr = None


class _ThreadState:
    """One thread's bert_ctx, bert_batch and bert_result."""

    def __init__(self, mh, threads):
        self.mh = mh
        self.ctx = self.batch = self.res = None
        err = ctypes.create_string_buffer(1024)
        cp = _lib.bert_ctx_default_params()
        cp.n_threads = threads
        ctx, batch, res = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
        st = _lib.bert_ctx_new(mh.ptr, ctypes.byref(cp), ctypes.byref(ctx), err, len(err))
        self.ctx = ctx.value
        if st == C.BERT_OK:
            st = _lib.bert_batch_new(ctypes.byref(batch), err, len(err))
            self.batch = batch.value
        if st == C.BERT_OK:
            st = _lib.bert_result_new(ctypes.byref(res), err, len(err))
            self.res = res.value
        if st != C.BERT_OK:
            raise_status(st, err.value)

    def __del__(self):
        if self.res:
            _lib.bert_result_free(self.res)
        if self.batch:
            _lib.bert_batch_free(self.batch)
        if self.ctx:
            _lib.bert_ctx_free(self.ctx)
        self.res = self.batch = self.ctx = None


# ---- results ---------------------------------------------------------------------------------


@dataclass
class Classification:
    """classify()'s answer: one predicted label per input, and every label's score.

    labels: the predicted label names; label_ids: their ids (int32 [n]); scores: float32
    [n, n_labels] (softmax probabilities, sigmoids for multi-label models, the value for
    regression); names: every label's name, in id order."""

    labels: List[str]
    label_ids: np.ndarray
    scores: np.ndarray
    names: Tuple[str, ...] = field(default=())

    def __len__(self):
        return len(self.labels)

    def __iter__(self):
        """(label, score of that label) per input."""
        for i, lab in enumerate(self.labels):
            yield lab, float(self.scores[i, self.label_ids[i]])  # regression: label id 0, its value

    def __repr__(self):
        return "Classification(" + repr([(lab, round(s, 6)) for lab, s in self]) + ")"


# ---- the model -------------------------------------------------------------------------------


class Model:
    """A model folder loaded once: any supported family (BERT, RoBERTa, XLM-R, DistilBERT, ELECTRA,
    ALBERT, MPNet, DeBERTa-v2/v3), a sentence-transformers folder or a cross-encoder.

    path: the folder (config.json, model.safetensors, tokenizer.json or vocab.txt); None: the
    embedded default model (SST-2 sentiment). precision: "f32", "bf16" or "int8" (the encoder's
    matrix products). weights: "packed" or "mapped". threads: compute threads of each calling
    thread's context (0: OpenMP's default, all cores).

    Every method takes a str or a list of str (pairs: (str, str) tuples where the task takes pairs)
    and runs them in batches of batch_size, padding-free. A Model may be shared by threads: each
    thread gets its own context on first use."""

    _HEAD_CACHE = 16

    def __init__(self, path=None, *, precision="f32", weights="packed", threads=0):
        if path is None:
            path = default_model_dir()
        path = os.fspath(path)
        if precision not in C.PRECISIONS:
            raise ValueError(f"precision: {precision!r} is not one of {', '.join(C.PRECISIONS)}")
        if weights not in C.WEIGHTS:
            raise ValueError(f"weights: {weights!r} is not one of {', '.join(C.WEIGHTS)}")
        if not isinstance(threads, int) or threads < 0 or threads > 1024:
            raise ValueError(f"threads: {threads!r} is not an int in 0..1024 (0: all cores)")
        mp = _lib.bert_model_default_params()
        mp.precision = C.PRECISIONS[precision]
        mp.weights = C.WEIGHTS[weights]
        p = ctypes.c_void_p()
        err = ctypes.create_string_buffer(2048)
        st = _lib.bert_model_load(path.encode(), ctypes.byref(mp), ctypes.byref(p), err, len(err))
        if st != C.BERT_OK:
            raise_status(st, err.value)
        self._mh = _ModelHandle(p.value)
        self.path = path
        self.precision = precision
        self.threads = threads
        self._tok = _lib.bert_model_tokenizer(p.value)
        self._local = threading.local()
        self._heads = OrderedDict()
        self._heads_lock = threading.Lock()
        info = _lib.bert_model_get_info(p.value)
        self.info = {name: (C.text(getattr(info, name)) if isinstance(getattr(info, name), bytes) else getattr(info, name))
                     for name, _ in C.ModelInfo._fields_}
        self.labels = tuple(C.text(_lib.bert_model_label(p.value, i)) for i in range(info.n_labels))
        st_info = _lib.bert_model_st_info(p.value)
        self._st = st_info
        names = [_lib.bert_model_prompt_name(p.value, i) for i in range(st_info.n_prompts)]
        self.prompts = {C.text(k): C.text(_lib.bert_model_prompt(p.value, k)) for k in names}
        limit = info.max_positions
        if self._tok:
            limit = min(limit, _lib.bert_tokenizer_get_config(self._tok).model_max_length)
        self.max_length = limit

    def __reduce__(self):
        raise TypeError("a libbert.Model holds native memory and cannot be pickled or sent to another process: "
                        "load it where it runs (with Dask: client.register_worker_plugin("
                        "libbert.dask.ModelPlugin(path)), then libbert.dask.model() in the task)")

    def __repr__(self):
        return f"libbert.Model({self.path!r}, {self.info['model_type']}, {self.info['arch_name']}, {self.precision})"

    # -- plumbing --

    def _state(self):
        s = getattr(self._local, "s", None)
        if s is None:
            s = self._local.s = _ThreadState(self._mh, self.threads)
        return s

    def _head(self, name, **kw):
        """The head for these params; cached (a bounded LRU) unless it carries zero-shot labels."""
        labels = kw.pop("labels", None)
        key = (name, tuple(sorted(kw.items())))
        if labels is None:
            with self._heads_lock:
                h = self._heads.get(key)
                if h is not None:
                    self._heads.move_to_end(key)
                    return h
        hp = _lib.bert_head_default_params()
        hp.name = name.encode()
        keep = []
        for k, v in kw.items():
            if isinstance(v, str):
                v = v.encode()
                keep.append(v)
            setattr(hp, k, v)
        if labels is not None:
            enc = [s.encode() for s in labels]
            arr = (ctypes.c_char_p * len(enc))(*enc)
            keep += [enc, arr]
            hp.labels = ctypes.cast(arr, C.c_char_pp)
            hp.n_labels = len(enc)
        h = _Head(self._mh, hp, keep)
        if labels is None:
            with self._heads_lock:
                self._heads[key] = h
                if len(self._heads) > self._HEAD_CACHE:
                    self._heads.popitem(last=False)  # users still holding it keep it alive
        return h

    def _encode_params(self, max_length, truncation):
        ep = _lib.bert_encode_default_params()
        if truncation not in C.TRUNCATIONS:
            raise ValueError(f"truncation: {truncation!r} is not one of longest_first, only_first, only_second, None")
        ep.truncation = C.TRUNCATIONS[truncation]
        if max_length is None:
            max_length = self.max_length
        if not isinstance(max_length, int) or max_length < 1:
            raise ValueError(f"max_length: {max_length!r} is not a positive int")
        if max_length > self.info["max_positions"]:
            raise ValueError(f"max_length: {max_length} is over the model's max_position_embeddings "
                             f"{self.info['max_positions']}")
        ep.max_length = max_length
        return ep

    def _need_tokenizer(self):
        if not self._tok:
            raise ValueError(f"{self.path}: the folder has no tokenizer (tokenizer.json or vocab.txt)")

    def _runs(self, head, items, batch_size, ep, what="texts"):
        """Encodes and runs items in chunks; yields (state, chunk start, rows) after each run."""
        self._need_tokenizer()
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size: {batch_size!r} is not a positive int")
        inp = Inputs(items, what)
        s = self._state()
        for at in range(0, inp.n, batch_size):
            k = min(batch_size, inp.n - at)
            ptr = inp.rows_from(at)
            st = _lib.bert_batch_encode(s.batch, self._tok, ptr, k, ctypes.byref(ep))
            if st != C.BERT_OK:
                raise_status(st, shift_input(_lib.bert_batch_errmsg(s.batch), at, what))
            st = _lib.bert_head_run(head.ptr, s.ctx, s.batch, ptr, s.res)
            if st != C.BERT_OK:
                raise_status(st, _lib.bert_result_errmsg(s.res))
            yield s, at, k

    # -- tasks --

    def classify(self, texts, *, batch_size=32, max_length=None, truncation="longest_first"):
        """Sequence classification of each text (or (text, pair) tuple): a Classification with
        the predicted labels, their ids and every label's scores (numpy)."""
        items = as_list(texts)
        head = self._head("classify")
        n_labels = max(len(self.labels), 1)
        scores = np.zeros((len(items), n_labels), dtype=np.float32)
        ids = np.zeros(len(items), dtype=np.int32)
        for s, at, k in self._runs(head, items, batch_size, self._encode_params(max_length, truncation)):
            ns = _lib.bert_result_n_scores(s.res)
            for i in range(k):
                scores[at + i, :ns] = np.ctypeslib.as_array(_lib.bert_result_scores(s.res, i), (ns,))
                ids[at + i] = _lib.bert_result_label(s.res, i)
        return Classification([self.labels[i] for i in ids], ids, scores, self.labels)

    def embed(self, texts, *, pooling=None, normalize=False, prompt_name=None, prompt=None, batch_size=32,
              max_length=None):
        """Sentence embeddings, float32 [n, dim]. A sentence-transformers folder runs its own
        modules (Pooling, Dense, Normalize), strips the texts, prepends the prompt (prompt_name,
        or its default_prompt_name; or a literal prompt) and truncates at its max_seq_length, as
        SentenceTransformer.encode does. pooling ("cls", "mean", "max", "pooler", "mean_sqrt_len",
        "weightedmean", "lasttoken") replaces only the Pooling module; normalize L2-normalises."""
        items = as_list(texts)
        if pooling not in C.POOLINGS:
            raise ValueError(f"pooling: {pooling!r} is not one of {', '.join(k for k in C.POOLINGS if k)} or None")
        head = self._head("embed", pooling=C.POOLINGS[pooling], normalize=int(bool(normalize)))
        limit = self.max_length if max_length is None else max_length
        if self._st.present:
            if self._st.max_seq_length and max_length is None:
                limit = min(limit, self._st.max_seq_length)
            if prompt is None:
                name = prompt_name if prompt_name is not None else C.text(self._st.default_prompt_name)
                if name is not None:
                    if name not in self.prompts:
                        raise ValueError(f"prompt_name: {self.path} has no prompt named {name!r} (" +
                                         (", ".join(self.prompts) or "the folder defines none") + ")")
                    prompt = self.prompts[name]
            for i, t in enumerate(items):
                if not isinstance(t, str):
                    raise TypeError(f"texts[{i}]: expected a str, got {type(t).__name__}")
            items = [(prompt or "") + t.strip() for t in items]
        elif prompt_name is not None:
            raise ValueError(f"prompt_name: {self.path} is not a sentence-transformers folder with prompts")
        elif prompt:
            items = [prompt + t for t in items]
        dim = None
        out = None
        for s, at, k in self._runs(head, items, batch_size, self._encode_params(limit, "longest_first")):
            if out is None:
                dim = _lib.bert_result_dim(s.res)
                out = np.zeros((len(items), dim), dtype=np.float32)
            for i in range(k):
                out[at + i] = np.ctypeslib.as_array(_lib.bert_result_vector(s.res, i), (dim,))
        if out is None:
            out = np.zeros((0, self._st.dim or self.info["hidden_size"]), dtype=np.float32)
        return out

    def ner(self, texts, *, aggregation="simple", batch_size=32, max_length=None):
        """Named entities of each text, as Hugging Face's token-classification pipeline gives them:
        a list per text of {"entity_group" (or "entity" with aggregation "none"), "score", "word",
        "start", "end"} (+ "index" with "none"); start/end count characters."""
        items = as_list(texts)
        if aggregation not in C.AGGREGATIONS:
            raise ValueError(f"aggregation: {aggregation!r} is not one of {', '.join(C.AGGREGATIONS)}")
        head = self._head("ner", aggregation=C.AGGREGATIONS[aggregation])
        out = []
        n = C.c_size()
        for s, at, k in self._runs(head, items, batch_size, self._encode_params(max_length, "longest_first")):
            for i in range(k):
                ents = _lib.bert_result_entities(s.res, i, ctypes.byref(n))
                row = []
                for e in (ents[j] for j in range(n.value)):
                    d = {"entity" if aggregation == "none" else "entity_group": C.text(e.label), "score": e.score}
                    if aggregation == "none":
                        d["index"] = e.index
                    d.update(word=C.text(e.word), start=e.chars.begin, end=e.chars.end)
                    row.append(d)
                out.append(row)
        return out

    def fill_mask(self, texts, *, top_k=5, batch_size=32, max_length=None):
        """For each text, a list per mask token (in order) of the top_k predictions, best first:
        {"score", "token" (id), "token_str"}, as the fill-mask pipeline's entries."""
        items = as_list(texts)
        if not isinstance(top_k, int) or not 1 <= top_k <= 1000:
            raise ValueError(f"top_k: {top_k!r} is not an int in 1..1000")
        head = self._head("fill-mask", top_k=top_k)
        out = []
        n = C.c_size()
        for s, at, k in self._runs(head, items, batch_size, self._encode_params(max_length, "longest_first")):
            for i in range(k):
                fills = _lib.bert_result_fills(s.res, i, ctypes.byref(n))
                masks, last = [], None
                for f in (fills[j] for j in range(n.value)):
                    if f.position != last:
                        masks.append([])
                        last = f.position
                    masks[-1].append({"score": f.score, "token": f.token_id, "token_str": C.text(f.token)})
                out.append(masks)
        return out

    def score_pairs(self, pairs, *, softmax=False, batch_size=32, max_length=None):
        """A cross-encoder's scores of (query, passage) pairs, as CrossEncoder.predict (both texts
        stripped): float32 [n] for a one-label model (sigmoid, or config.json's activation),
        [n, labels] otherwise (identity, or softmax=True)."""
        items = as_list(pairs, "pairs")
        for i, p in enumerate(items):
            if not (isinstance(p, (tuple, list)) and len(p) == 2 and all(isinstance(s, str) for s in p)):
                raise TypeError(f"pairs[{i}]: expected a (str, str) pair, got {type(p).__name__}")
        items = [(a.strip(), b.strip()) for a, b in items]  # as CrossEncoder.predict
        head = self._head("rerank", softmax=int(bool(softmax)))
        out = None
        for s, at, k in self._runs(head, items, batch_size, self._encode_params(max_length, "longest_first"), "pairs"):
            ns = _lib.bert_result_n_scores(s.res)
            if out is None:
                out = np.zeros((len(items), ns), dtype=np.float32)
            for i in range(k):
                out[at + i] = np.ctypeslib.as_array(_lib.bert_result_scores(s.res, i), (ns,))
        if out is None:
            out = np.zeros((0, max(len(self.labels), 1)), dtype=np.float32)
        return out[:, 0] if out.shape[1] == 1 else out

    def rerank(self, query, documents, *, top_k=None, return_documents=False, batch_size=32, max_length=None):
        """Documents ranked by a one-label cross-encoder against query, best first, as
        CrossEncoder.rank: [{"corpus_id", "score"(, "text")}]; ties in Hugging Face's order."""
        if not isinstance(query, str):
            raise TypeError(f"query: expected a str, got {type(query).__name__}")
        docs = as_list(documents, "documents")
        for i, d in enumerate(docs):
            if not isinstance(d, str):
                raise TypeError(f"documents[{i}]: expected a str, got {type(d).__name__}")
        scores = self.score_pairs([(query, d) for d in docs], batch_size=batch_size, max_length=max_length)
        if scores.ndim != 1:
            raise ValueError(f"rerank: {self.path} has {scores.shape[1]} labels; ranking needs a one-label "
                             "cross-encoder (score_pairs gives every label's score)")
        order = (C.c_size * max(len(docs), 1))()
        sc = np.ascontiguousarray(scores, dtype=np.float32)
        _lib.bert_rank(sc.ctypes.data_as(C.c_float_p), len(docs), order)
        out = []
        for i in order[: len(docs)][: top_k if top_k is not None else len(docs)]:
            d = {"corpus_id": i, "score": float(scores[i])}
            if return_documents:
                d["text"] = docs[i]
            out.append(d)
        return out

    def zero_shot(self, texts, labels, *, multi_label=False, hypothesis_template=None, batch_size=32,
                  max_length=None):
        """Zero-shot classification with an NLI model, as Hugging Face's pipeline: per text
        {"sequence", "labels", "scores"} with the labels best first."""
        items = as_list(texts)
        if isinstance(labels, str):
            labels = [s.strip() for s in labels.split(",") if s.strip()]
        labels = list(labels)
        if not labels or not all(isinstance(x, str) for x in labels):
            raise ValueError("labels: give one or more candidate labels (str)")
        head = self._head("zero-shot", labels=labels, multi_label=int(bool(multi_label)),
                          **({"hypothesis_template": hypothesis_template} if hypothesis_template is not None else {}))
        out = []
        for s, at, k in self._runs(head, items, batch_size, self._encode_params(max_length, "longest_first")):
            for i in range(k):
                sc = np.ctypeslib.as_array(_lib.bert_result_scores(s.res, i), (len(labels),)).copy()
                order = (C.c_size * len(labels))()
                _lib.bert_rank(sc.ctypes.data_as(C.c_float_p), len(labels), order)
                out.append({"sequence": items[at + i], "labels": [labels[j] for j in order],
                            "scores": [float(sc[j]) for j in order]})
        return out

    def tokenize(self, texts, *, add_special_tokens=True, max_length=None, truncation=None, padding="longest"):
        """The tokenizer's encoding of texts (or pairs), as Hugging Face's tokenizer(...,
        return_tensors="np") with return_offsets_mapping: input_ids, token_type_ids and
        attention_mask (int32 [n, seq]), offset_mapping (int64 [n, seq, 2], characters), tokens
        (HF's token strings per row, without padding) and lengths."""
        self._need_tokenizer()
        return encode_texts(self._tok, texts, add_special_tokens, max_length, truncation, padding, self._state().batch)

    def decode(self, ids, *, skip_special_tokens=False):
        """The text the model's tokenizer decoder makes of token ids."""
        self._need_tokenizer()
        return decode_ids(self._tok, ids, skip_special_tokens)
