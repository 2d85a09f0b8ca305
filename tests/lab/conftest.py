"""The lab server's tests: a fresh server per test (the shared one is tests/conftest.py's
``lab_server``), for tests that count its connections or wait on its keep-alive ones."""

from __future__ import annotations

import pytest

from netlab.lab import LabServer


@pytest.fixture
def server():
    with LabServer("127.0.0.1", 0) as lab:
        yield lab
