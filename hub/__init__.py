"""The classroom hub: a JupyterHub for this course with real accounts and nbgrader's exchange."""
