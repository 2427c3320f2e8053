"""Label projection: carry entity spans from a source sentence onto its translation."""
