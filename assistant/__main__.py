"""``python -m assistant``: the ``assistant`` command (:func:`cli.main.main`).

A program, not part of the library: nothing in ``assistant`` imports this module, so the command line
(the ``cli`` package, which sits above ``assistant``, ``index``, ``eval`` and ``bench``) is reached from
here without the library depending on it.
"""

import sys

from cli.main import main

sys.exit(main())
