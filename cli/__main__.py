"""`python -m cli`: the `evalflow` command without its installed script."""

from __future__ import annotations

import os

from cli import main

if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    main(prog_name="evalflow")
