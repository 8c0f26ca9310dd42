"""`python -m autograder`: list the exercises, or check one function from a file."""

import sys

from autograder.cli import main

sys.exit(main())
