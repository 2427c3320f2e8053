"""Word aligners behind one interface (``base.Aligner``); each backend imports its heavy
dependencies only when used."""
