"""babelmill: raw multilingual text in, training-ready datasets out.

The product layout keeps ``pipelines/``, ``processors/`` and ``langs/`` at the repository
root; they are installed (and imported) as ``babelmill.pipelines``, ``babelmill.processors``
and ``babelmill.langs`` so nothing lands in site-packages under a generic name.  In a source
checkout the repository root is added to this package's search path, so the tree imports
the same way with or without an install (a git worktree imports its own files).
"""

from __future__ import annotations

import os as _os

__version__ = "0.1.0"

_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if _os.path.isfile(_os.path.join(_root, "pipelines", "cli.py")) and _root not in __path__:
    __path__.append(_root)
