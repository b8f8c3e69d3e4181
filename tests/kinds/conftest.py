import os
import sys

# livebuilder (example_path) and the protected VM samples live with the planner's tests
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "plan"))
