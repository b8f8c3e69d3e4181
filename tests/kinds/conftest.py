import os
import sys

# tests/plan/livebuilder.py (example_path, Builder, applied) and tests/plan/test_protected_vm_fields.py, also
# when tests/kinds runs on its own (tests/plan/conftest.py puts that directory on sys.path only when collected)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "plan"))
