"""babelmill stages: pure batch transforms over Arrow tables, usable without Ray."""
