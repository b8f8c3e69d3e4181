import os
import sys

# tests/plan/livebuilder.py (example_path) and tests/plan/test_protected_vm_fields.py import `livebuilder`
# as a top-level module: tests/plan/conftest.py puts that folder on sys.path, which does not run when
# tests/kinds is run alone
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "plan"))
