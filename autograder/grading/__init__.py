"""The grading machine's side: nbgrader preprocessors, the sandboxed kernel, submissions, the cohort."""
