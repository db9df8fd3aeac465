"""``python -m sksurv_ecg`` runs the ``sksurv-ecg`` command."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
