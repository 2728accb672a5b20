"""Engine-test fixtures: prebuilt cycles at every stage (see checkpoints.py)."""

from tests.workflow.checkpoints import at_stage, stage_templates  # noqa: F401  (fixtures)
