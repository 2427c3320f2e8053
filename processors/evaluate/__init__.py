"""Evaluators: entity-level NER scores and word-alignment error rates."""

from babelmill.processors.evaluate.alignment import AlignmentScores, alignment_scores, parse_pharaoh
from babelmill.processors.evaluate.ner import EntityScores, entity_scores, strict_entities

__all__ = ["AlignmentScores", "EntityScores", "alignment_scores", "entity_scores", "parse_pharaoh", "strict_entities"]
