"""The course's nbgrader preprocessors, one per module, named after its class."""

from autograder.preprocessors.inert_outputs import InertOutputs
from autograder.preprocessors.sandboxed_execute import SandboxedExecute
from autograder.preprocessors.scrub_nbgrader_metadata import ScrubNbgraderMetadata
from autograder.preprocessors.start_trusted_verdict import StartTrustedVerdict
from autograder.preprocessors.trusted_verdict import TrustedVerdict

__all__ = ["InertOutputs", "SandboxedExecute", "ScrubNbgraderMetadata", "StartTrustedVerdict",
           "TrustedVerdict"]
