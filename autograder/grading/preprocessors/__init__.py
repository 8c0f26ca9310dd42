"""The course's nbgrader preprocessors, one per module, named after its class."""

from autograder.grading.preprocessors.feedback_layout import FeedbackLayout
from autograder.grading.preprocessors.inert_outputs import InertOutputs
from autograder.grading.preprocessors.sandboxed_execute import SandboxedExecute
from autograder.grading.preprocessors.scrub_nbgrader_metadata import ScrubNbgraderMetadata
from autograder.grading.preprocessors.start_trusted_verdict import StartTrustedVerdict
from autograder.grading.preprocessors.trusted_verdict import TrustedVerdict

__all__ = ["FeedbackLayout", "InertOutputs", "SandboxedExecute", "ScrubNbgraderMetadata",
           "StartTrustedVerdict", "TrustedVerdict"]
