"""``python -m harmjudge`` runs the command line."""

import sys

from harmjudge.cli import main

sys.exit(main())
