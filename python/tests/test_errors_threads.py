"""Bad input raises an exception carrying the library's message; one Model shared by threads gives
each thread the single-threaded answer; the ctypes structures have the C compiler's layout."""

import os
import subprocess
import threading

import numpy as np
import pytest

import libbert
from conftest import REPO, model, sst2_dev


def test_missing_folder_names_the_file():
    with pytest.raises(libbert.ModelFileError) as e:
        libbert.Model("/nonexistent/model")
    assert e.value.status == "BERT_E_IO"
    assert "/nonexistent/model/config.json" in str(e.value)
    assert isinstance(e.value, OSError)


def test_corrupt_config_names_the_line(tmp_path):
    for f in ("model.safetensors", "vocab.txt", "tokenizer_config.json"):
        src = os.path.join(REPO, "models", "mini-sst2", f)
        if os.path.exists(src):
            os.symlink(src, tmp_path / f)
    (tmp_path / "config.json").write_text('{"model_type": "bert",\n "hidden_size": }')
    with pytest.raises(libbert.ModelFileError) as e:
        libbert.Model(str(tmp_path))
    assert e.value.status == "BERT_E_FORMAT"
    assert "config.json:2:17" in str(e.value)  # file:line:column


def test_task_the_model_lacks(sst2_model):
    with pytest.raises(libbert.Error) as e:
        sst2_model.fill_mask(["a [MASK] b"])
    assert "fill-mask" in str(e.value) or "masked" in str(e.value).lower()


def test_bad_arguments(sst2_model):
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        sst2_model.classify(["fine", 3])
    with pytest.raises(TypeError, match="decode bytes"):
        sst2_model.classify(b"bytes")
    with pytest.raises(ValueError, match="precision"):
        libbert.Model(precision="fp8")
    with pytest.raises(ValueError, match="max_position_embeddings"):
        sst2_model.classify(["x"], max_length=100000)
    with pytest.raises(ValueError, match="batch_size"):
        sst2_model.classify(["x"], batch_size=0)
    with pytest.raises(ValueError, match="pooling"):
        sst2_model.embed(["x"], pooling="median")
    with pytest.raises(ValueError, match="prompt_name"):
        libbert.Model(model("tiny-sbert-max-prompts")).embed(["x"], prompt_name="nope")


def test_lone_surrogate_is_malformed_utf8_naming_the_input(sst2_model):
    texts = ["ok"] * 40 + ["bad \udc80 text"]
    with pytest.raises(libbert.InvalidInputError) as e:
        sst2_model.classify(texts, batch_size=32)
    assert e.value.status == "BERT_E_UTF8"
    assert str(e.value).startswith("texts[40]") and "byte 4" in str(e.value)


def test_empty_inputs(sst2_model):
    r = sst2_model.classify([])
    assert len(r) == 0 and r.scores.shape == (0, 2)
    assert sst2_model.embed([]).shape[0] == 0


def test_threads_share_one_model(sst2_model):
    texts, _ = sst2_dev()
    texts = texts[:96]
    want = sst2_model.classify(texts)
    results, errors = {}, []

    def work(i):
        try:
            for _ in range(3):
                r = sst2_model.classify(texts[i:] + texts[:i])
                results.setdefault(i, []).append(r)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(i * 7,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    for i, rs in results.items():
        for r in rs:
            order = list(range(i, 96)) + list(range(i))
            assert r.labels == [want.labels[k] for k in order]
            assert np.abs(r.scores - want.scores[order]).max() <= 1e-6


def test_ctypes_layout_is_the_c_layout():
    exe = os.environ.get("LIBBERT_CAPI_LAYOUT")
    if not exe:
        pytest.fail("LIBBERT_CAPI_LAYOUT is not set: run the suite through ctest (it builds tests/capi_layout)")
    from libbert import _capi as C

    out = subprocess.run([exe], capture_output=True, check=True, text=True).stdout
    n = 0
    for line in out.splitlines():
        struct, fld, value = line.split()
        cls = getattr(C, struct)
        if fld == "size":
            assert C.ctypes.sizeof(cls) == int(value), struct
        else:
            assert getattr(cls, fld).offset == int(value), f"{struct}.{fld}"
        n += 1
    assert n > 50


def test_calls_release_the_gil():
    """The library is loaded with ctypes.CDLL, whose foreign calls release the GIL (a PyDLL's would
    hold it): every function the package calls, the long-running ones included."""
    import ctypes

    from libbert import _capi as C

    assert type(C.lib) is ctypes.CDLL
    for name in C._FUNCTIONS:
        fn = getattr(C.lib, name)
        assert not fn._flags_ & ctypes._FUNCFLAG_PYTHONAPI, name


def test_a_missing_library_is_an_import_error_saying_what_to_do():
    import sys

    env = dict(os.environ, LIBBERT_LIBRARY="/nonexistent/libbert.so")
    r = subprocess.run([sys.executable, "-c", "import libbert"], capture_output=True, text=True, env=env)
    assert r.returncode != 0
    assert "ImportError: libbert: cannot load the shared library (/nonexistent/libbert.so:" in r.stderr
    assert "set LIBBERT_LIBRARY to the file" in r.stderr


def test_a_model_cannot_be_pickled_and_says_what_to_do(sst2_model):
    import pickle

    with pytest.raises(TypeError, match="ModelPlugin"):
        pickle.dumps(sst2_model)


def test_versions_agree():
    """The package, its setup.py and the C headers say the same version, and the library loaded is it."""
    import re

    import libbert

    h = open(os.path.join(REPO, "include", "bert", "version.h")).read()
    c = ".".join(re.search(rf"#define BERT_VERSION_{p} +(\d+)", h).group(1) for p in ("MAJOR", "MINOR", "PATCH"))
    setup = re.search(r'version="([^"]+)"', open(os.path.join(REPO, "python", "setup.py")).read()).group(1)
    assert libbert.__version__ == setup == c == libbert.library_version
