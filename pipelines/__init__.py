"""babelmill jobs: how stages compose into runs, the Ray runner and the CLI."""
