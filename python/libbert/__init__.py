"""libbert for Python: BERT-style encoders and their task heads, over the C library through ctypes.

    import libbert
    m = libbert.Model()                     # the embedded default model: SST-2 sentiment
    m.classify(["great film"])              # Classification([('positive', 0.99...)])
    libbert.Model("bge-small").embed(["a sentence"])   # numpy float32 [1, dim]

The shared library is found through $LIBBERT_LIBRARY, else the dynamic loader (an installed
libbert.so.0, after `cmake --install` and `ldconfig`). See docs/python.md.
"""

from . import _capi
from .errors import Error, InvalidInputError, ModelFileError, OutOfMemoryError, UnsupportedError
from .model import Classification, Model, default_model_dir
from .tokenizer import Tokenizer

__version__ = ".".join(map(str, _capi.VERSION))

library_path = _capi.path
library_version = _capi.text(_capi.lib.bert_version_string())


def cpu_isa():
    """oneDNN's instruction set on this CPU ("avx512_core_vnni", "avx2", ...)."""
    return _capi.text(_capi.lib.bert_cpu_isa())


__all__ = ["Model", "Tokenizer", "Classification", "Error", "InvalidInputError", "ModelFileError",
           "UnsupportedError", "OutOfMemoryError", "default_model_dir", "cpu_isa", "library_path",
           "library_version"]
