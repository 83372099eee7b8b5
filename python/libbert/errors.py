"""Exceptions: every failed libbert call raises one, carrying the library's own message."""


class Error(Exception):
    """A libbert call failed. `status` is the C status name ("BERT_E_UTF8"), `message` the
    library's message (which names the file, JSON path, input or byte where there is one)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class InvalidInputError(Error, ValueError):
    """Bad arguments or input text: BERT_E_INVALID_ARG, _UTF8, _TOO_LONG, _LABEL, _TRUNCATION."""


class ModelFileError(Error, OSError):
    """A model or tokenizer file missing, unreadable or malformed: BERT_E_IO, _FORMAT, _SHAPE."""


class UnsupportedError(Error, NotImplementedError):
    """A feature libbert does not implement (the message says what would work): BERT_E_UNSUPPORTED."""


class OutOfMemoryError(Error, MemoryError):
    """BERT_E_NOMEM."""


_BY_STATUS = {
    "BERT_E_INVALID_ARG": InvalidInputError,
    "BERT_E_UTF8": InvalidInputError,
    "BERT_E_TOO_LONG": InvalidInputError,
    "BERT_E_LABEL": InvalidInputError,
    "BERT_E_TRUNCATION": InvalidInputError,
    "BERT_E_IO": ModelFileError,
    "BERT_E_FORMAT": ModelFileError,
    "BERT_E_SHAPE": ModelFileError,
    "BERT_E_UNSUPPORTED": UnsupportedError,
    "BERT_E_NOMEM": OutOfMemoryError,
}


def error(status_name, message):
    """The exception for a C status name and message."""
    return _BY_STATUS.get(status_name, Error)(status_name, message)
