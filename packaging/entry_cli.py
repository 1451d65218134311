"""The frozen `restorer` command (PyInstaller's entry point for restorer_app.cli)."""

import multiprocessing
import sys

from restorer_app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # `restorer batch --workers N` starts its Dask workers as copies of this executable
    sys.exit(main())
