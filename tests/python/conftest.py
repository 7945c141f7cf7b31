import os
from pathlib import Path

import pytest

import mmkit

# Default for runs outside `make test`: ../shared/data beside the repository root.
os.environ.setdefault("MMKIT_DATA_DIR", str(Path(__file__).resolve().parents[3] / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real-data directory; skips when absent, except under CI=true where it fails."""
    d = mmkit.data_dir()
    if not d.is_dir():
        msg = f"real market data not found at {d} (set MMKIT_DATA_DIR)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + " -- required under CI=true")
        pytest.skip(msg)
    return d
