"""A tiny word-level tokenizer built from the synthetic code-switching documents."""

from __future__ import annotations

from pathlib import Path

from babelmill.processors.codeswitch.synthetic import documents


def build_tokenizer(directory: Path) -> Path:
    """A tiny word-level tokenizer (whitespace + punctuation pre-tokenizer) saved as tokenizer.json."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    texts = [d["src"] + "\n" + d["tgt"] for d in documents(30, seed=9)]
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    directory.mkdir(parents=True, exist_ok=True)
    tok.save(str(directory / "tokenizer.json"))
    return directory
