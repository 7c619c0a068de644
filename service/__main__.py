"""``python -m service``: the ``inference-cost`` command."""

import sys

from service.cli import main

sys.exit(main())
