import os
import sys

import numpy as np
import pytest

# Tests run against the installed package, never the source tree.
sys.path = [p for p in sys.path if os.path.abspath(p) != os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "python"))]


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
