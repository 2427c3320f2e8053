"""Interleaved bilingual documents from parallel text: interlinear, alternating, packed
into a token budget (``tokens``: the user's tokenizer), translation instructions."""
