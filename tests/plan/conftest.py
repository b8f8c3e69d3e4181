import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def quickstart():
    from livebuilder import example_path

    from reconciler.manifest import load_manifest

    return load_manifest(example_path("quickstart"))
