"""libbert for Python: a pure-Python package over the installed C library (ctypes), so installing
it compiles nothing: `pip install ./python` (offline; numpy from the system, e.g. Debian's
python3-numpy in a venv made with --system-site-packages). docs/python.md.
There is deliberately no pyproject.toml: with one, pip builds in an isolated environment whose
setuptools it downloads, which fails offline; with setup.py alone, pip uses the setuptools and wheel
already installed (Debian's python3-setuptools and python3-wheel).
"""

from setuptools import setup

setup(
    name="libbert",
    version="0.1.0",
    description="BERT-style encoders and task heads (Hugging Face-identical) over the libbert C library",
    long_description=__doc__,
    packages=["libbert"],
    python_requires=">=3.9",
    install_requires=["numpy"],
    extras_require={"dask": ["distributed"]},
)
