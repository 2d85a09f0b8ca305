"""The lab server's tests: ``server``, a lab server of the test's own (tests/conftest.py's
``lab_server`` is shared by the whole session)."""

from __future__ import annotations

import pytest

from netlab.lab import LabServer


@pytest.fixture
def server():
    with LabServer("127.0.0.1", 0) as lab:
        yield lab
