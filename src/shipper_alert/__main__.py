"""`python -m shipper_alert check|validate|sim`."""

import sys

from shipper_alert.cli import main

sys.exit(main())
