"""Plumbing shared by Model and Tokenizer: Python texts as C bert_text arrays, and failed calls
as exceptions carrying the library's message."""

import ctypes
import re

from . import _capi as C
from .errors import error

_lib = C.lib


def raise_status(status, message):
    raise error(C.text(_lib.bert_status_name(status)), C.text(message) or C.text(_lib.bert_status_str(status)))


class Inputs:
    """Python texts (str, or (str, str) pairs) as a C bert_text array; the bytes stay alive with it."""

    def __init__(self, items, what="texts"):
        n = len(items)
        self.keep = []
        self.arr = (C.Text * max(n, 1))()
        self.n = n
        for i, it in enumerate(items):
            if isinstance(it, str):
                a, b = it, None
            elif isinstance(it, (tuple, list)) and len(it) == 2 and all(isinstance(s, str) for s in it):
                a, b = it
            else:
                raise TypeError(f"{what}[{i}]: expected a str or a (str, str) pair, got {type(it).__name__}")
            ab = a.encode("utf-8", "surrogatepass")
            self.keep.append(ab)
            t = self.arr[i]
            t.a, t.a_len = ab, len(ab)
            if b is not None:
                bb = b.encode("utf-8", "surrogatepass")
                self.keep.append(bb)
                t.b, t.b_len = bb, len(bb)

    def rows_from(self, start):
        """A pointer to the array's rows from start on."""
        return ctypes.cast(ctypes.byref(self.arr, start * ctypes.sizeof(C.Text)), ctypes.POINTER(C.Text))


def as_list(texts, what="texts"):
    """texts as a list: a str is one input; any other iterable is a batch (a pair goes inside one:
    [("question", "passage")])."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, (bytes, bytearray)):
        raise TypeError(f"{what}: expected str (decode bytes as UTF-8 first), got {type(texts).__name__}")
    try:
        return list(texts)
    except TypeError:
        raise TypeError(f"{what}: expected a str or a list of them, got {type(texts).__name__}") from None


def shift_input(msg, at, what):
    """The library numbers inputs within the chunk it was given ("input 3: ..."): name the caller's."""
    m = C.text(msg) or ""
    mt = re.match(r"input (\d+)(.*)", m, re.S)
    if mt:
        m = f"{what}[{int(mt.group(1)) + at}]{mt.group(2)}"
    return m.encode()
