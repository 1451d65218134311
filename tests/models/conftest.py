import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `models/` is a top-level package of the repository, not installed
    sys.path.insert(0, str(ROOT))

torch = pytest.importorskip("torch", reason="the training package needs the `train` extra")
torch.set_num_threads(1)  # CI has two cores; keep tests from oversubscribing them
