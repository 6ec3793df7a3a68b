"""Fixtures shared by the X12 tests."""

from __future__ import annotations

import io
import logging

import pytest


@pytest.fixture
def pyx12_validate():
    """``validate(path) -> list of error messages`` from pyx12 4.0's x12n_document (the
    independent TR3 validator); [] when the file passes."""
    import pyx12.params
    import pyx12.x12n_document

    class Collect(logging.Handler):
        def __init__(self):
            super().__init__(logging.ERROR)
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    def validate(path) -> list[str]:
        handler, logger = Collect(), logging.getLogger("pyx12")
        logger.addHandler(handler)
        try:
            ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), io.StringIO(), None, None, None)
        finally:
            logger.removeHandler(handler)
        return handler.messages + ([] if ok else ["pyx12 reported the document invalid"])

    return validate
