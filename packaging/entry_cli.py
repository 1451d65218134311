"""The frozen `restorer` command (PyInstaller's entry point for restorer_app.cli)."""

import sys

from restorer_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
