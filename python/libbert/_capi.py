"""The C API of libbert as ctypes declarations, and where the shared library is found.

Only what the Python layer calls is declared. Every structure mirrors its C definition in
include/bert/*.h field for field; tests/test_capi.py checks the sizes against the C compiler's.
ctypes releases the GIL for the length of each foreign call, so runs in several Python threads
overlap.
"""

import ctypes
import ctypes.util
import os

# the shared object's major version (the C library's SOVERSION)
SONAME = "libbert.so.0"
# the C library this package mirrors (include/bert/version.h; a test checks they agree): its
# structures stay the same within a minor version, so the library loaded must have this MAJOR.MINOR
VERSION = (0, 1, 0)

c_size = ctypes.c_size_t
c_float_p = ctypes.POINTER(ctypes.c_float)
c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_uint8_p = ctypes.POINTER(ctypes.c_uint8)
c_size_p = ctypes.POINTER(ctypes.c_size_t)
c_char_pp = ctypes.POINTER(ctypes.c_char_p)


class Span(ctypes.Structure):
    _fields_ = [("begin", c_size), ("end", c_size)]


class Text(ctypes.Structure):
    _fields_ = [("a", ctypes.c_char_p), ("a_len", c_size), ("b", ctypes.c_char_p), ("b_len", c_size)]


class EncodeParams(ctypes.Structure):
    _fields_ = [
        ("add_special_tokens", ctypes.c_int),
        ("truncation", ctypes.c_int),
        ("max_length", c_size),
        ("stride", c_size),
        ("return_overflowing", ctypes.c_int),
        ("padding", ctypes.c_int),
        ("on_invalid_utf8", ctypes.c_int),
    ]


class TokenizerConfig(ctypes.Structure):
    _fields_ = [
        ("do_lower_case", ctypes.c_int),
        ("strip_accents", ctypes.c_int),
        ("tokenize_chinese_chars", ctypes.c_int),
        ("clean_text", ctypes.c_int),
        ("max_input_chars_per_word", c_size),
        ("model_max_length", c_size),
        ("unk_token", ctypes.c_char_p),
        ("sep_token", ctypes.c_char_p),
        ("pad_token", ctypes.c_char_p),
        ("cls_token", ctypes.c_char_p),
        ("mask_token", ctypes.c_char_p),
        ("never_split", c_char_pp),
        ("n_never_split", c_size),
    ]


class BatchView(ctypes.Structure):
    _fields_ = [
        ("n_rows", c_size),
        ("seq_len", c_size),
        ("ids", c_int32_p),
        ("type_ids", c_int32_p),
        ("attention_mask", c_uint8_p),
        ("special_tokens_mask", c_uint8_p),
        ("offsets", ctypes.POINTER(Span)),
        ("sequence_ids", c_int32_p),
        ("word_ids", c_int32_p),
        ("lengths", c_size_p),
        ("sample_index", c_size_p),
        ("truncated", c_uint8_p),
    ]


class ModelParams(ctypes.Structure):
    _fields_ = [("load_tokenizer", ctypes.c_int), ("precision", ctypes.c_int), ("weights", ctypes.c_int)]


class ModelInfo(ctypes.Structure):
    _fields_ = [
        ("vocab_size", c_size),
        ("hidden_size", c_size),
        ("n_layers", c_size),
        ("n_heads", c_size),
        ("intermediate_size", c_size),
        ("max_positions", c_size),
        ("type_vocab_size", c_size),
        ("layer_norm_eps", ctypes.c_float),
        ("activation", ctypes.c_int),
        ("is_decoder", ctypes.c_int),
        ("has_pooler", ctypes.c_int),
        ("arch", ctypes.c_int),
        ("arch_name", ctypes.c_char_p),
        ("problem", ctypes.c_int),
        ("n_labels", c_size),
        ("dtype", ctypes.c_char_p),
        ("weight_bytes", c_size),
        ("mapped_bytes", c_size),
        ("model_type", ctypes.c_char_p),
        ("embedding_size", c_size),
        ("max_sequence_length", c_size),
    ]


class StInfo(ctypes.Structure):
    _fields_ = [
        ("present", ctypes.c_int),
        ("max_seq_length", c_size),
        ("dim", c_size),
        ("normalize", ctypes.c_int),
        ("n_dense", c_size),
        ("n_prompts", c_size),
        ("default_prompt_name", ctypes.c_char_p),
        ("pooling", ctypes.c_char_p),
    ]


class CtxParams(ctypes.Structure):
    _fields_ = [("n_threads", ctypes.c_int), ("attn_mode", ctypes.c_int)]


class HeadParams(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("top_k", c_size),
        ("aggregation", ctypes.c_int),
        ("pooling", ctypes.c_int),
        ("normalize", ctypes.c_int),
        ("softmax", ctypes.c_int),
        ("labels", c_char_pp),
        ("n_labels", c_size),
        ("multi_label", ctypes.c_int),
        ("hypothesis_template", ctypes.c_char_p),
    ]


class Entity(ctypes.Structure):
    _fields_ = [
        ("label", ctypes.c_char_p),
        ("score", ctypes.c_float),
        ("index", ctypes.c_int32),
        ("word", ctypes.c_char_p),
        ("bytes", Span),
        ("chars", Span),
    ]


class Fill(ctypes.Structure):
    _fields_ = [("position", c_size), ("token_id", ctypes.c_int32), ("token", ctypes.c_char_p), ("score", ctypes.c_float)]


# enum values (include/bert/*.h)
PRECISIONS = {"f32": 0, "bf16": 1, "int8": 2}
WEIGHTS = {"packed": 0, "mapped": 1}
TRUNCATIONS = {None: 0, "longest_first": 1, "only_first": 2, "only_second": 3}
AGGREGATIONS = {"none": 0, "simple": 1, "first": 2, "average": 3, "max": 4}
POOLINGS = {"cls": 0, "mean": 1, "pooler": 2, "max": 3, "mean_sqrt_len": 4, "weightedmean": 5, "lasttoken": 6, None: 7}
TASK_CLASSIFY, TASK_NER, TASK_FILL_MASK, TASK_EMBED, TASK_RERANK, TASK_ZERO_SHOT = range(6)
BERT_OK = 0
BERT_E_BUFFER_TOO_SMALL = 9

_P = ctypes.c_void_p
_S = ctypes.c_int  # bert_status
_ERR = [ctypes.c_char_p, c_size]  # errbuf, errbuf_size

# name: (restype, argtypes)
_FUNCTIONS = {
    "bert_version_string": (ctypes.c_char_p, []),
    "bert_version_number": (ctypes.c_uint, []),
    "bert_status_str": (ctypes.c_char_p, [_S]),
    "bert_status_name": (ctypes.c_char_p, [_S]),
    "bert_model_default_params": (ModelParams, []),
    "bert_model_load": (_S, [ctypes.c_char_p, ctypes.POINTER(ModelParams), ctypes.POINTER(_P)] + _ERR),
    "bert_model_free": (None, [_P]),
    "bert_model_get_info": (ModelInfo, [_P]),
    "bert_model_label": (ctypes.c_char_p, [_P, c_size]),
    "bert_model_tokenizer": (_P, [_P]),
    "bert_model_st_info": (StInfo, [_P]),
    "bert_model_prompt": (ctypes.c_char_p, [_P, ctypes.c_char_p]),
    "bert_model_prompt_name": (ctypes.c_char_p, [_P, c_size]),
    "bert_ctx_default_params": (CtxParams, []),
    "bert_ctx_new": (_S, [_P, ctypes.POINTER(CtxParams), ctypes.POINTER(_P)] + _ERR),
    "bert_ctx_free": (None, [_P]),
    "bert_ctx_errmsg": (ctypes.c_char_p, [_P]),
    "bert_tokenizer_load": (_S, [ctypes.c_char_p, _P, ctypes.POINTER(_P)] + _ERR),
    "bert_tokenizer_load_json": (_S, [ctypes.c_char_p, ctypes.POINTER(_P)] + _ERR),
    "bert_tokenizer_free": (None, [_P]),
    "bert_tokenizer_get_config": (TokenizerConfig, [_P]),
    "bert_tokenizer_vocab_size": (c_size, [_P]),
    "bert_tokenizer_token_to_id": (ctypes.c_int32, [_P, ctypes.c_char_p, c_size]),
    "bert_tokenizer_id_to_token": (ctypes.c_void_p, [_P, ctypes.c_int32, c_size_p]),
    "bert_tokenizer_decode": (_S, [_P, c_int32_p, c_size, ctypes.c_int, ctypes.c_char_p, c_size, c_size_p]),
    "bert_encode_default_params": (EncodeParams, []),
    "bert_batch_new": (_S, [ctypes.POINTER(_P)] + _ERR),
    "bert_batch_free": (None, [_P]),
    "bert_batch_encode": (_S, [_P, _P, ctypes.POINTER(Text), c_size, ctypes.POINTER(EncodeParams)]),
    "bert_batch_get": (BatchView, [_P]),
    "bert_batch_token": (ctypes.c_void_p, [_P, c_size, c_size, c_size_p]),
    "bert_batch_errmsg": (ctypes.c_char_p, [_P]),
    "bert_spans_to_codepoints": (_S, [ctypes.c_char_p, c_size, ctypes.POINTER(Span), c_size, ctypes.POINTER(Span)]),
    "bert_head_default_params": (HeadParams, []),
    "bert_head_new": (_S, [_P, ctypes.POINTER(HeadParams), ctypes.POINTER(_P)] + _ERR),
    "bert_head_free": (None, [_P]),
    "bert_head_task": (ctypes.c_int, [_P]),
    "bert_head_name": (ctypes.c_char_p, [_P]),
    "bert_result_new": (_S, [ctypes.POINTER(_P)] + _ERR),
    "bert_result_free": (None, [_P]),
    "bert_result_errmsg": (ctypes.c_char_p, [_P]),
    "bert_head_run": (_S, [_P, _P, _P, ctypes.POINTER(Text), _P]),
    "bert_result_n_rows": (c_size, [_P]),
    "bert_result_n_scores": (c_size, [_P]),
    "bert_result_scores": (c_float_p, [_P, c_size]),
    "bert_result_label": (ctypes.c_int32, [_P, c_size]),
    "bert_result_dim": (c_size, [_P]),
    "bert_result_vector": (c_float_p, [_P, c_size]),
    "bert_result_entities": (ctypes.POINTER(Entity), [_P, c_size, c_size_p]),
    "bert_result_fills": (ctypes.POINTER(Fill), [_P, c_size, c_size_p]),
    "bert_rank": (None, [c_float_p, c_size, c_size_p]),
    "bert_cpu_isa": (ctypes.c_char_p, []),
}


def _candidates():
    """Where libbert.so is looked for, in order: $LIBBERT_LIBRARY, the dynamic loader's cache
    (ldconfig: /usr/local/lib after `cmake --install` and `ldconfig`), the usual prefixes."""
    env = os.environ.get("LIBBERT_LIBRARY")
    if env:
        return [env]
    found = ctypes.util.find_library("bert")
    out = [found] if found else []
    for d in ("/usr/local/lib", "/usr/local/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"):
        out.append(os.path.join(d, SONAME))
    return out


def _load():
    tried = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{path}: {e}")
            continue
        for name, (res, args) in _FUNCTIONS.items():
            try:
                fn = getattr(lib, name)
            except AttributeError:
                raise ImportError(f"{path} has no {name}: it is an older libbert than this package; "
                                  "install the matching library or point LIBBERT_LIBRARY at it") from None
            fn.restype = res
            fn.argtypes = args
        have = lib.bert_version_number()
        if have // 100 != VERSION[0] * 100 + VERSION[1]:
            tried.append(f"{path}: libbert {lib.bert_version_string().decode()}, not the "
                         f"{VERSION[0]}.{VERSION[1]}.x this package is for")
            continue
        return lib, path
    hint = ("set LIBBERT_LIBRARY to the file" if os.environ.get("LIBBERT_LIBRARY") else
            "install it (cmake --install build; ldconfig) or set LIBBERT_LIBRARY to build/libbert.so")
    raise ImportError("libbert: cannot load the shared library (" + "; ".join(tried) + "): " + hint)


lib, path = _load()


def text(p):
    """A C string the library owns as Python str (None stays None)."""
    return None if p is None else p.decode("utf-8", "replace")
