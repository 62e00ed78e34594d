"""``python -m focusqa`` runs the command line, like the ``focusqa`` command."""

import sys

from focusqa.cli import main

sys.exit(main())
