"""Tokenizer: a tokenizer alone (a folder's, or a tokenizer.json), and the encoding and decoding
that Model.tokenize and Model.decode share with it."""

import ctypes
import os
import threading

import numpy as np

from . import _capi as C
from ._inputs import Inputs, as_list, raise_status, shift_input

_lib = C.lib


def encode_texts(tok, texts, add_special_tokens, max_length, truncation, padding, batch):
    items = as_list(texts)
    ep = _lib.bert_encode_default_params()
    ep.add_special_tokens = int(bool(add_special_tokens))
    if truncation is None and max_length is not None:
        truncation = "longest_first"
    if truncation not in C.TRUNCATIONS:
        raise ValueError(f"truncation: {truncation!r} is not one of longest_first, only_first, only_second, None")
    ep.truncation = C.TRUNCATIONS[truncation]
    if max_length is not None:
        if not isinstance(max_length, int) or max_length < 1:
            raise ValueError(f"max_length: {max_length!r} is not a positive int")
        ep.max_length = max_length
    if padding not in ("longest", "max_length"):
        raise ValueError(f"padding: {padding!r} is not 'longest' or 'max_length'")
    ep.padding = 1 if padding == "max_length" else 0
    inp = Inputs(items)
    st = _lib.bert_batch_encode(batch, tok, inp.arr, inp.n, ctypes.byref(ep))
    if st != C.BERT_OK:
        raise_status(st, shift_input(_lib.bert_batch_errmsg(batch), 0, "texts"))
    v = _lib.bert_batch_get(batch)
    n, L = v.n_rows, v.seq_len

    def arr(p, dt, shape):
        return np.ctypeslib.as_array(p, shape).astype(dt, copy=True) if n and L else np.zeros(shape, dtype=dt)

    ids = arr(v.ids, np.int32, (n, L))
    offs = np.zeros((n, L, 2), dtype=np.int64)
    tokens, lengths = [], [v.lengths[r] for r in range(n)]
    ln = C.c_size()
    for r in range(n):
        row = []
        for i in range(lengths[r]):
            p = _lib.bert_batch_token(batch, r, i, ctypes.byref(ln))
            row.append(ctypes.string_at(p, ln.value).decode("utf-8", "replace") if p else "")
        tokens.append(row)
        if L:
            # byte offsets per sequence of the row, converted to characters as Python counts them
            for seq in (0, 1):
                sel = [i for i in range(lengths[r]) if v.sequence_ids[r * L + i] == seq]
                if not sel:
                    continue
                t = inp.arr[v.sample_index[r]]
                buf, blen = (t.a, t.a_len) if seq == 0 else (t.b, t.b_len)
                spans = (C.Span * len(sel))(*[(v.offsets[r * L + i].begin, v.offsets[r * L + i].end) for i in sel])
                st = _lib.bert_spans_to_codepoints(buf, blen, spans, len(sel), spans)
                if st != C.BERT_OK:
                    raise_status(st, b"offsets of row %d" % r)
                for j, i in enumerate(sel):
                    offs[r, i] = (spans[j].begin, spans[j].end)
    return {
        "input_ids": ids,
        "token_type_ids": arr(v.type_ids, np.int32, (n, L)),
        "attention_mask": arr(v.attention_mask, np.int32, (n, L)),
        "offset_mapping": offs,
        "tokens": tokens,
        "lengths": np.array(lengths, dtype=np.int64),
        "sample_index": np.array([v.sample_index[r] for r in range(n)], dtype=np.int64),
    }


class Tokenizer:
    """A tokenizer alone: a model folder's (tokenizer.json, or vocab.txt + tokenizer_config.json)
    or a tokenizer.json file, token for token as Hugging Face's. Safe to share by threads."""

    def __init__(self, path):
        path = os.fspath(path)
        p = ctypes.c_void_p()
        err = ctypes.create_string_buffer(2048)
        if os.path.isdir(path):
            st = _lib.bert_tokenizer_load(path.encode(), None, ctypes.byref(p), err, len(err))
        else:
            st = _lib.bert_tokenizer_load_json(path.encode(), ctypes.byref(p), err, len(err))
        if st != C.BERT_OK:
            raise_status(st, err.value)
        self._ptr = p.value
        self._local = threading.local()
        self.path = path

    def __del__(self):
        if getattr(self, "_ptr", None):
            self._local = None  # the batches first
            _lib.bert_tokenizer_free(self._ptr)
            self._ptr = None

    def _batch(self):
        b = getattr(self._local, "b", None)
        if b is None:
            b = self._local.b = _Batch()
        return b.ptr

    @property
    def vocab_size(self):
        return _lib.bert_tokenizer_vocab_size(self._ptr)

    def __call__(self, texts, *, add_special_tokens=True, max_length=None, truncation=None, padding="longest"):
        """See Model.tokenize."""
        return encode_texts(self._ptr, texts, add_special_tokens, max_length, truncation, padding, self._batch())

    def decode(self, ids, *, skip_special_tokens=False):
        """The text the tokenizer's decoder makes of token ids."""
        return decode_ids(self._ptr, ids, skip_special_tokens)

    def token_to_id(self, token):
        b = token.encode()
        i = _lib.bert_tokenizer_token_to_id(self._ptr, b, len(b))
        return None if i < 0 else i

    def id_to_token(self, i):
        n = C.c_size()
        p = _lib.bert_tokenizer_id_to_token(self._ptr, int(i), ctypes.byref(n))
        return None if not p else ctypes.string_at(p, n.value).decode("utf-8", "replace")


class _Batch:
    def __init__(self):
        p = ctypes.c_void_p()
        err = ctypes.create_string_buffer(256)
        st = _lib.bert_batch_new(ctypes.byref(p), err, len(err))
        if st != C.BERT_OK:
            raise_status(st, err.value)
        self.ptr = p.value

    def __del__(self):
        if getattr(self, "ptr", None):
            _lib.bert_batch_free(self.ptr)
            self.ptr = None


def decode_ids(tok, ids, skip_special_tokens):
    a = np.ascontiguousarray(np.asarray(ids, dtype=np.int64).ravel())
    if a.size and (a.min() < -(2 ** 31) or a.max() >= 2 ** 31):
        raise ValueError("ids: a value is outside int32")
    a = a.astype(np.int32)
    need = C.c_size()
    cap = 64 + 16 * a.size
    for _ in range(2):
        buf = ctypes.create_string_buffer(cap)
        st = _lib.bert_tokenizer_decode(tok, a.ctypes.data_as(C.c_int32_p), a.size, int(bool(skip_special_tokens)), buf,
                                        cap, ctypes.byref(need))
        if st == C.BERT_E_BUFFER_TOO_SMALL:
            cap = need.value + 1
            continue
        if st != C.BERT_OK:
            raise_status(st, b"decode: an id is outside the vocabulary")
        return buf.raw[: need.value].decode("utf-8", "replace")
    raise_status(st, b"decode: the text did not fit")
