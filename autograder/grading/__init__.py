"""The grading machine's side: nbgrader's preprocessors, the sandboxed kernel, the checked
submissions, the gradebook writes and the cohort engine."""
