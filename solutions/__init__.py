"""Reference solutions to the course's graded exercises: one module per chapter, named after it."""
