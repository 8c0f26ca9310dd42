"""The course's grader: checks student code against `solutions` in a process of its own."""
