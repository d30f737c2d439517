"""`python -m zoo ...` is the same as the `zoo` command."""

import sys

from zoo.cli.main import main

sys.exit(main())
