from __future__ import annotations

from typing import Any

import pytest

# The world every test here starts from: the shared test key (tests/conftest.py) signs, registered in the template.


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"CREDENTIALS_BASE_URL": "https://fairpeer.test"}
