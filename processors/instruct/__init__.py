"""Instruction datasets: formats (Alpaca, ShareGPT, OpenAI messages) and the stages of the
instruct job (parse -> targets -> translate -> checks)."""

from babelmill.processors.instruct.formats import (
    ALPACA,
    FORMATS,
    MESSAGES,
    SHAREGPT,
    Field,
    FormatError,
    detect_format,
    fields,
    parse_record,
    to_messages,
)
from babelmill.processors.instruct.stages import (
    MALFORMED,
    SAME_LANGUAGE,
    InstructionParser,
    InstructionTranslator,
    TargetExpander,
)
from babelmill.processors.translate.checks import TranslationQualityFilter

__all__ = [
    "ALPACA",
    "FORMATS",
    "MALFORMED",
    "MESSAGES",
    "SAME_LANGUAGE",
    "SHAREGPT",
    "Field",
    "FormatError",
    "InstructionParser",
    "InstructionTranslator",
    "TargetExpander",
    "TranslationQualityFilter",
    "detect_format",
    "fields",
    "parse_record",
    "to_messages",
]
