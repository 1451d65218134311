"""The frozen `restorer-gui` (PyInstaller's entry point for restorer_app.gui.app)."""

import multiprocessing
import sys

from restorer_app.gui.app import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # Dask's local workers start as copies of this executable
    sys.exit(main())
