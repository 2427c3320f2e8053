"""Quality filters: datatrove's Gopher, FineWeb and C4 heuristics decided over whole batches
with polars, with per-language tokenizers, stop words and thresholds from ``langs``.

Each filter reproduces the decisions and reason strings of its datatrove counterpart on
English with default parameters (``tests/test_quality.py`` checks agreement on generated
documents, ``bench/filters_bench.py`` on real text and measures the speed).
"""

from babelmill.processors.quality.c4 import C4QualityFilter
from babelmill.processors.quality.fineweb import FineWebQualityFilter
from babelmill.processors.quality.gopher_quality import GopherQualityFilter
from babelmill.processors.quality.gopher_repetition import GopherRepetitionFilter

__all__ = ["C4QualityFilter", "FineWebQualityFilter", "GopherQualityFilter", "GopherRepetitionFilter"]
