"""Label projection: carry entity spans from a source sentence to its translation."""
