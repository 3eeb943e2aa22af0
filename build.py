#!/usr/bin/env python3
"""Command line of the portal: build, check, serve, import, search.  See README.md."""
import sys

from jixiao.cli import main

if __name__ == "__main__":
    sys.exit(main())
