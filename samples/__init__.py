"""The sample submissions of the course and the answers modules they are built from."""
