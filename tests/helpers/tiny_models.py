"""Tiny random translation models built from scratch, for tests (no network, no ../shared).

Each builder trains a SentencePiece model on generated sentences, builds the family's
Hugging Face tokenizer and a randomly initialised model with a few thousand parameters,
and saves both with ``save_pretrained``: a real Hugging Face directory that babelmill's
resolver converts with CTranslate2 like a downloaded one.  The outputs are junk, but
deterministic (greedy decoding), and the language-token plumbing is the real one.

Heavy imports (torch, transformers, sentencepiece) happen inside the builders.
"""

from __future__ import annotations

import json
import random
import shutil
import struct
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Made-up words (no real text): enough variety for a few dozen SentencePiece pieces.
_WORDS = (
    "ka lumo verin tasko brel omi sutra pel danu fira gorm hesta ilvo jarn kesh lorin mabu "
    "nerro opal quint rasu selo tivar umba vesk wonn yaro zeph alna borr cimo dresk"
).split()

#: CTranslate2 type ids in model.bin (ctranslate2/specs/model_spec.py ``_dtype_to_type_id``).
_CT2_TYPES = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}


def sentences(n: int, seed: int = 0, min_words: int = 2, max_words: int = 12) -> list[str]:
    """``n`` generated sentences of made-up words, reproducible from ``seed``."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(min_words, max_words))]
        out.append(" ".join(words).capitalize() + rng.choice(".!?"))
    return out


def _train_spm(directory: Path, model_type: str, vocab_size: int, lines: Sequence[str], **extra: Any) -> Any:
    import sentencepiece as spm

    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join(lines), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(directory / "spm"),
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=1.0,
        hard_vocab_limit=False,
        bos_id=-1,
        minloglevel=2,
        num_threads=1,
        **extra,
    )
    corpus.unlink()
    return spm.SentencePieceProcessor(model_file=str(directory / "spm.model"))


def _fresh(directory: Path) -> Path:
    directory = Path(directory)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    return directory


def _quiet() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def build_marian(
    directory: Path,
    *,
    source_lang: str | None = "en",
    target_lang: str | None = "de",
    target_tokens: Sequence[str] = (),
    d_model: int = 16,
    layers: int = 1,
    heads: int = 2,
    ffn: int = 32,
    vocab_size: int = 64,
    lines: Sequence[str] | None = None,
    init_std: float = 0.2,
    seed: int = 0,
) -> Path:
    """A Marian (OPUS-MT style) model: ``source.spm``/``target.spm`` + ``vocab.json``.

    ``target_tokens`` (``">>swa<<"`` ...) make it a multi-target model.  With
    ``vocab_size`` above what SentencePiece can learn from ``lines``, the vocabulary is
    padded with unreachable pieces so the output layer has the asked size (benchmarks).
    ``init_std`` 0.2 (ten times the usual) makes a tiny random model's output depend on
    its input, so order and caching tests compare different translations.
    """
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    _quiet()
    out = _fresh(directory)
    work = _fresh(out / ".spm")
    sp = _train_spm(work, "unigram", vocab_size, lines or sentences(300, seed))
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for token in target_tokens:
        vocab.setdefault(token, len(vocab))
    for i in range(sp.get_piece_size()):
        vocab.setdefault(sp.id_to_piece(i), len(vocab))
    filler = 0
    while len(vocab) < vocab_size - 1:
        vocab.setdefault(f"▁zz{filler}", len(vocab))
        filler += 1
    vocab["<pad>"] = len(vocab)
    shutil.copy(work / "spm.model", out / "source.spm")
    shutil.copy(work / "spm.model", out / "target.spm")
    shutil.rmtree(work)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Recommended: pip install sacremoses"
        tokenizer = MarianTokenizer(
            source_spm=str(out / "source.spm"),
            target_spm=str(out / "target.spm"),
            vocab=str(out / "vocab.json"),
            source_lang=source_lang,
            target_lang=target_lang,
        )
    config = MarianConfig(
        vocab_size=len(vocab),
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=ffn,
        decoder_ffn_dim=ffn,
        max_position_embeddings=512,
        pad_token_id=vocab["<pad>"],
        eos_token_id=0,
        decoder_start_token_id=vocab["<pad>"],
        forced_eos_token_id=0,
        init_std=init_std,
    )
    torch.manual_seed(seed)
    MarianMTModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _m2m_config(vocab_size: int, d_model: int, layers: int, heads: int, ffn: int) -> Any:
    from transformers import M2M100Config

    return M2M100Config(
        vocab_size=vocab_size,
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=ffn,
        decoder_ffn_dim=ffn,
        max_position_embeddings=256,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
    )


def build_m2m100(directory: Path, *, d_model: int = 16, layers: int = 1, seed: int = 0) -> Path:
    """An M2M100 model: ``sentencepiece.bpe.model`` + ``vocab.json``; the tokenizer adds
    its 100 ``__xx__`` language tokens and 8 made-up words after the vocabulary, as the
    real one does."""
    import torch
    from transformers import M2M100ForConditionalGeneration, M2M100Tokenizer

    _quiet()
    out = _fresh(directory)
    work = _fresh(out / ".spm")
    sp = _train_spm(work, "bpe", 64, sentences(300, seed))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for i in range(sp.get_piece_size()):
        vocab.setdefault(sp.id_to_piece(i), len(vocab))
    shutil.copy(work / "spm.model", out / "sentencepiece.bpe.model")
    shutil.rmtree(work)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = M2M100Tokenizer(vocab_file=str(out / "vocab.json"), spm_file=str(out / "sentencepiece.bpe.model"))
    size = len(tokenizer.encoder) + len(tokenizer.lang_token_to_id) + tokenizer.num_madeup_words
    torch.manual_seed(seed)
    M2M100ForConditionalGeneration(_m2m_config(size, d_model, layers, 2, 2 * d_model)).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def build_nllb(directory: Path, *, d_model: int = 16, layers: int = 1, seed: int = 0) -> Path:
    """An NLLB model (M2M100 architecture) with a character-level ``NllbTokenizer``; the
    tokenizer brings its built-in FLORES-200 language tokens."""
    import torch
    from transformers import M2M100ForConditionalGeneration, NllbTokenizer

    _quiet()
    out = _fresh(directory)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "▁": 4}
    for ch in sorted(set("".join(sentences(300, seed)).lower() + ".!?,") - {" "}):
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(ch.upper(), len(vocab))
    tokenizer = NllbTokenizer(vocab=vocab, merges=[])
    torch.manual_seed(seed)
    M2M100ForConditionalGeneration(_m2m_config(len(tokenizer), d_model, layers, 2, 2 * d_model)).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def build_madlad(
    directory: Path, *, languages: Sequence[str] = ("en", "de", "sw", "fr"), d_model: int = 16, seed: int = 0
) -> Path:
    """A MADLAD-400 style T5 model whose vocabulary has ``<2xx>`` target-language pieces."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

    _quiet()
    out = _fresh(directory)
    work = _fresh(out / ".spm")
    sp = _train_spm(work, "unigram", 64, sentences(300, seed))
    pieces: list[tuple[str, float]] = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [(f"<2{code}>", 0.0) for code in languages]
    seen = {p for p, _ in pieces}
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        if piece not in seen:
            pieces.append((piece, sp.get_score(i)))
            seen.add(piece)
    shutil.rmtree(work)
    tokenizer = T5Tokenizer(vocab=pieces, extra_ids=0)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=d_model,
        d_kv=8,
        d_ff=2 * d_model,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    torch.manual_seed(seed)
    T5ForConditionalGeneration(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def build_bert(directory: Path, words: Sequence[str]) -> Path:
    """A random 2-layer BERT with a word-level vocabulary, saved with save_pretrained (the
    encoder directory SimAlign takes)."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(words))]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(directory / "vocab.txt"), do_lower_case=False)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def model_bin_types(model_dir: Path) -> Counter[str]:
    """Types of the weight matrices in a CTranslate2 ``model.bin`` (count per type), read
    from the file itself: what the converter wrote, not what a loader reports."""
    types: Counter[str] = Counter()
    with open(Path(model_dir) / "model.bin", "rb") as fh:

        def read(fmt: str) -> Any:
            size = struct.calcsize(fmt)
            return struct.unpack(fmt, fh.read(size))[0]

        def string() -> str:
            return fh.read(read("H")).rstrip(b"\0").decode()

        read("I")  # binary version
        string()  # spec name
        read("I")  # spec revision
        for _ in range(read("I")):
            string()  # variable name
            ndim = read("B")
            for _ in range(ndim):
                read("I")  # shape
            type_id = read("B")
            fh.seek(read("I"), 1)  # skip the data
            if ndim >= 2:  # weight matrices; scalars hold flags and sizes
                types[_CT2_TYPES.get(type_id, str(type_id))] += 1
    return types


#: Builders by kind, for :func:`cached`.
BUILDERS = {
    "marian": build_marian,
    "marian_multi": lambda d: build_marian(d, source_lang=None, target_lang=None, target_tokens=(">>swa<<", ">>deu<<")),
    "m2m100": build_m2m100,
    "nllb": build_nllb,
    "madlad": build_madlad,
}
_BUILT: dict[str, Path] = {}


def cached(kind: str, root: Path) -> Path:
    """The ``kind`` model (a key of :data:`BUILDERS`), built once per test process under
    ``root`` (pass ``tmp_path_factory.getbasetemp()``), so every test module shares it."""
    if kind not in _BUILT or not (_BUILT[kind] / "config.json").is_file():
        _BUILT[kind] = BUILDERS[kind](Path(root) / f"tiny-{kind}")
    return _BUILT[kind]
