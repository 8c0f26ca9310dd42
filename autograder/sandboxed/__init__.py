"""Scripts that run INSIDE the sandbox, each started as a file in a fresh interpreter.

Nothing outside this folder imports them: the grader copies a script (and its companion files)
into a sandbox's scratch folder and runs it there (autograder/sandbox/runner.py)."""
