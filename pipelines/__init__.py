"""babelmill jobs: how stages compose into runs, the Ray runner and the CLI."""

__version__ = "0.1.0"
