"""The instructor's report after grading: one offline HTML page, per chapter, of the cohort's
score distribution, each exercise's acceptance rate, and the failing cases seen most often.

    python -m autograder report [--db URL] [--root DIR] [--out PATH] [CHAPTER ...]

gather.py reads the gradebook and the verdict records of the autograded notebooks, where the
course's nbgrader_config.py says they are, into the report's dataclasses; render.py turns them
into the page (and draws its figures); command.py is the `report` command.
"""
