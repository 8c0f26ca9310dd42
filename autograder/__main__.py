"""`python -m autograder COMMAND`: the one entry of the command line (`autograder.cli`)."""

import sys

from autograder.cli import main

sys.exit(main())
