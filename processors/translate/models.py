"""Where translation models come from, and what each model family expects.

Resolution order (models are resolved, never silently downloaded):

1. a CTranslate2 directory (it has ``model.bin``): used as it is;
2. a local Hugging Face directory (it has ``config.json``): converted once with
   CTranslate2's ``TransformersConverter`` into ``cache_dir``, keyed by the directory's
   path, file sizes and mtimes and the quantization, so the next run reuses it;
3. a hub id (``facebook/nllb-200-distilled-600M``): the local Hugging Face cache first,
   a download only when ``allow_download`` is set, then the same conversion.

Anything else is one :class:`~processors.errors.ModelNotFoundError` whose message says
what to pass.  Conversion writes into a temporary directory that is renamed into place,
so a concurrent worker or an interrupted run never sees half a model.

Model families differ in how languages are named and where the language tokens go;
:class:`LanguagePlan` captures that per (source, target) pair.  Codes come from
``langs`` (imported lazily: a Marian pair model needs no language table at all).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from babelmill.processors.errors import BabelmillError, ModelNotFoundError

#: Weight types ``TransformersConverter`` can write; the flag accepts these.
QUANTIZATIONS = ("int8", "int8_float16", "int8_float32", "int8_bfloat16", "int16", "float16", "bfloat16", "float32")
#: Small JSON file next to a converted model: family, original id, quantization.
INFO_FILE = "babelmill.json"
#: Bumped when the conversion recipe changes, so old cache entries are not reused.
CONVERSION_VERSION = 1
#: Tokenizer files copied next to ``model.bin`` (``config.json`` is CTranslate2's own there).
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "target_vocab.json",
    "merges.txt",
    "source.spm",
    "target.spm",
    "sentencepiece.bpe.model",
    "spiece.model",
    "sentencepiece.model",
)
#: What a hub download fetches: configs, tokenizers, weights; not TF/Flax/ONNX copies.
HUB_PATTERNS = ["*.json", "*.model", "*.spm", "*.txt", "*.safetensors", "model.bin"]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class UnsupportedLanguageError(BabelmillError, ValueError):
    """The model has no way to read or write the asked language."""


class UnsupportedModelError(BabelmillError, ValueError):
    """The directory holds a model that is not a translation model babelmill can drive."""


def default_cache_dir() -> Path:
    """``$BABELMILL_CACHE/ct2``, else ``$XDG_CACHE_HOME/babelmill/ct2`` (``~/.cache``)."""
    if os.environ.get("BABELMILL_CACHE"):
        return Path(os.environ["BABELMILL_CACHE"]) / "ct2"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "babelmill" / "ct2"


# --------------------------------------------------------------------------- families


@dataclass(frozen=True)
class LanguagePlan:
    """How one (source, target) pair is fed to a model.

    ``tokenizer_src_lang`` is set on the tokenizer before encoding (NLLB and M2M100
    tokenizers add the source language token themselves); ``source_prefix`` tokens go
    in front of the encoded source (Marian ``>>swa<<``, MADLAD ``<2sw>``);
    ``target_prefix`` is forced as the first decoded tokens (NLLB / M2M100).
    """

    src: str
    tgt: str
    tokenizer_src_lang: str | None = None
    source_prefix: tuple[str, ...] = ()
    target_prefix: tuple[str, ...] = ()


def _profile(code: str, model: ResolvedModel) -> Any:
    import langs  # lazy: langs is only needed for multilingual models

    try:
        return langs.get(code)
    except LookupError as exc:
        raise UnsupportedLanguageError(f"model {model.name!r}: {exc}") from exc


def _unsupported(profile: Any, model: ResolvedModel, why: str) -> UnsupportedLanguageError:
    return UnsupportedLanguageError(
        f"model {model.name!r} ({model.family}) cannot translate {profile.name} ({profile.code}): {why}"
    )


class ModelFamily:
    """Language-code conventions of one family of translation models."""

    name: ClassVar[str] = "base"

    def plan(self, src: str, tgt: str, model: ResolvedModel) -> LanguagePlan:  # pragma: no cover - abstract
        raise NotImplementedError

    def _token(self, code: str, model: ResolvedModel, attr: str, fmt: str) -> tuple[Any, str]:
        profile = _profile(code, model)
        value = getattr(profile, attr, None)
        if not value:
            raise _unsupported(profile, model, f"the language has no {self.name} code")
        token = fmt.format(value)
        if token not in model.vocabulary:
            raise _unsupported(profile, model, f"the vocabulary has no {token!r} token")
        return profile, value


class NllbFamily(ModelFamily):
    """NLLB-200: FLORES-200 codes; the tokenizer adds ``[src] ... </s>``, target starts with ``tgt``."""

    name: ClassVar[str] = "nllb"

    def plan(self, src: str, tgt: str, model: ResolvedModel) -> LanguagePlan:
        ps, s = self._token(src, model, "flores", "{}")
        pt, t = self._token(tgt, model, "flores", "{}")
        return LanguagePlan(ps.code, pt.code, tokenizer_src_lang=s, target_prefix=(t,))


class M2M100Family(ModelFamily):
    """M2M100: ``__sw__`` tokens; the tokenizer adds the source one, the target one is forced."""

    name: ClassVar[str] = "m2m100"

    def plan(self, src: str, tgt: str, model: ResolvedModel) -> LanguagePlan:
        ps, s = self._token(src, model, "m2m100", "__{}__")
        pt, t = self._token(tgt, model, "m2m100", "__{}__")
        return LanguagePlan(ps.code, pt.code, tokenizer_src_lang=s, target_prefix=(f"__{t}__",))


class MadladFamily(ModelFamily):
    """MADLAD-400 (T5): the source starts with ``<2sw>`` naming the target; no target prefix."""

    name: ClassVar[str] = "madlad"

    def plan(self, src: str, tgt: str, model: ResolvedModel) -> LanguagePlan:
        ps = _profile(src, model)
        pt, t = self._token(tgt, model, "madlad", "<2{}>")
        return LanguagePlan(ps.code, pt.code, source_prefix=(f"<2{t}>",))


class MarianFamily(ModelFamily):
    """OPUS-MT (Marian): one pair per model, no language tokens, except multi-target models
    whose source starts with ``>>swa<<``."""

    name: ClassVar[str] = "marian"

    def plan(self, src: str, tgt: str, model: ResolvedModel) -> LanguagePlan:
        declared = model.info.get("languages") or {}
        targets = sorted(t for t in model.vocabulary if t.startswith(">>") and t.endswith("<<"))
        if not declared and not targets:
            # A pair model that does not say its languages: nothing to check, no tokens.
            return LanguagePlan(src, tgt)
        ps, pt = _profile(src, model), _profile(tgt, model)
        self._check_declared(ps, declared.get("source"), "source", model)
        prefix: tuple[str, ...] = ()
        if targets:
            names = self._target_names(pt)
            token = next((f">>{c}<<" for c in names if f">>{c}<<" in model.vocabulary), None)
            if token is None:
                shown = ", ".join(targets[:12]) + (" ..." if len(targets) > 12 else "")
                raise _unsupported(pt, model, f"no target token among {shown}")
            prefix = (token,)
        else:
            self._check_declared(pt, declared.get("target"), "target", model)
        return LanguagePlan(ps.code, pt.code, source_prefix=prefix)

    @staticmethod
    def _target_names(profile: Any) -> list[str]:
        names = [profile.iso3, (profile.flores or "")[:3], profile.iso1, profile.code]
        if profile.flores:
            names.append(profile.flores)
        return [n for n in dict.fromkeys(names) if n]

    @staticmethod
    def _check_declared(profile: Any, declared: list[str] | None, side: str, model: ResolvedModel) -> None:
        """Refuse a language the model says it does not have; group names (``mul``,
        ``ROMANCE``) that ``langs`` does not know are not checked."""
        from babelmill import langs

        known = []
        for code in declared or []:
            with contextlib.suppress(LookupError):
                known.append(langs.get(code).code)
        if known and len(known) == len(declared or []) and profile.code not in known:
            raise _unsupported(profile, model, f"its {side} language is {', '.join(declared or [])}")


FAMILIES: dict[str, ModelFamily] = {f.name: f for f in (NllbFamily(), M2M100Family(), MarianFamily(), MadladFamily())}


# --------------------------------------------------------------------------- resolved model


@dataclass(frozen=True)
class ResolvedModel:
    """A CTranslate2 directory ready to load, with what babelmill knows about it."""

    path: Path
    name: str
    info: dict[str, Any] = field(default_factory=dict)
    converted: bool = False  # this call did the conversion (a cache hit is False)

    @property
    def family(self) -> str:
        return self.info["family"]

    @property
    def max_input_length(self) -> int:
        """Longest source the model's position table allows (CTranslate2's default cap 1024)."""
        positions = self.info.get("max_positions")
        return min(int(positions), 1024) if positions else 1024

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every token the CTranslate2 model knows (source and target vocabularies)."""
        return frozenset(_read_ct2_vocabulary(self.path))

    def plan(self, src: str, tgt: str) -> LanguagePlan:
        """The language tokens for ``src`` → ``tgt``; :class:`UnsupportedLanguageError` if impossible."""
        return FAMILIES[self.family].plan(src, tgt, self)


def _read_ct2_vocabulary(path: Path) -> list[str]:
    tokens: list[str] = []
    for stem in ("shared_vocabulary", "source_vocabulary", "target_vocabulary"):
        if (path / f"{stem}.json").is_file():
            tokens += json.loads((path / f"{stem}.json").read_text(encoding="utf-8"))
        elif (path / f"{stem}.txt").is_file():
            tokens += (path / f"{stem}.txt").read_text(encoding="utf-8").splitlines()
    return tokens


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------- family detection


def detect_family(config: dict[str, Any], tokenizer_config: dict[str, Any], name: str = "") -> str:
    """Family of a Hugging Face model from ``config.json`` ``model_type`` (NLLB and M2M100
    share ``m2m_100`` and differ by tokenizer)."""
    model_type = config.get("model_type", "")
    tok_class = str(tokenizer_config.get("tokenizer_class") or "")
    if model_type == "marian":
        return "marian"
    if model_type == "m2m_100":
        if tok_class.startswith("Nllb") or (not tok_class and "nllb" in name.lower()):
            return "nllb"
        return "m2m100"
    if model_type in ("t5", "mt5", "umt5"):
        return "madlad"
    raise UnsupportedModelError(
        f"model {name!r} has model_type {model_type!r}; babelmill translates with marian (OPUS-MT), "
        "m2m_100 (NLLB-200, M2M100) and t5 (MADLAD-400) models"
    )


def _detect_ct2_family(path: Path, name: str) -> str:
    """Family of a CTranslate2 directory converted elsewhere: tokenizer class, then vocabulary."""
    tok_class = str(_read_json(path / "tokenizer_config.json").get("tokenizer_class") or "")
    for prefix, family in (("Nllb", "nllb"), ("M2M100", "m2m100"), ("Marian", "marian"), ("T5", "madlad")):
        if tok_class.startswith(prefix):
            return family
    vocab = set(_read_ct2_vocabulary(path))
    if "eng_Latn" in vocab:
        return "nllb"
    if "__en__" in vocab:
        return "m2m100"
    if "<2en>" in vocab:
        return "madlad"
    if "nllb" in name.lower():
        return "nllb"
    return "marian"


def marian_languages(tokenizer_config: dict[str, Any], name: str) -> dict[str, list[str]]:
    """The pair a Marian model declares: tokenizer_config ``source_lang``/``target_lang``,
    else an ``opus-mt-en-de`` style name; empty when neither says."""
    src, tgt = tokenizer_config.get("source_lang"), tokenizer_config.get("target_lang")
    if not (src and tgt):
        stem = re.sub(r"^opus-mt-(tc-big-|tc-)?", "", Path(name.rstrip("/")).name) if "opus-mt" in name else ""
        parts = stem.split("-")
        if len(parts) == 2 and all(parts):
            src, tgt = parts
    if not (src and tgt):
        return {}
    return {"source": str(src).split("+"), "target": str(tgt).split("+")}


# --------------------------------------------------------------------------- resolution


def resolve_model(
    model: str | os.PathLike[str],
    *,
    quantization: str = "int8",
    cache_dir: str | os.PathLike[str] | None = None,
    allow_download: bool = False,
) -> ResolvedModel:
    """Find ``model`` (CTranslate2 dir, Hugging Face dir or hub id) as a CTranslate2 directory."""
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization {quantization!r} is not one of {', '.join(QUANTIZATIONS)}")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    spec = str(model)
    path = Path(spec).expanduser()
    if path.is_dir():
        return _resolve_dir(path, spec, quantization, cache)
    if path.exists():
        raise ModelNotFoundError(
            f"model path {spec!r} is a file; pass --model a CTranslate2 or Hugging Face model directory"
        )
    if not _HUB_ID.match(spec) or spec.startswith((".", "~")):
        raise ModelNotFoundError(
            f"no model directory at {spec!r}; pass --model PATH to a CTranslate2 or Hugging Face model directory, "
            "or a hub id such as facebook/nllb-200-distilled-600M"
        )
    snapshot = _hub_snapshot(spec, allow_download)
    return _resolve_dir(snapshot, spec, quantization, cache)


def _resolve_dir(path: Path, name: str, quantization: str, cache: Path) -> ResolvedModel:
    if (path / "model.bin").is_file():
        info = _read_json(path / INFO_FILE)
        if info.get("family") not in FAMILIES:  # converted elsewhere: infer what we can
            info = {"family": _detect_ct2_family(path, name), "source": name}
            if info["family"] == "marian":
                info["languages"] = marian_languages(_read_json(path / "tokenizer_config.json"), name)
        return ResolvedModel(path=path, name=info.get("source") or name, info=info)
    if (path / "config.json").is_file():
        return _converted(path, name, quantization, cache)
    raise ModelNotFoundError(
        f"directory {str(path)!r} holds neither a CTranslate2 model (model.bin) nor a Hugging Face model "
        "(config.json); pass --model PATH to one of those"
    )


def _hub_snapshot(repo_id: str, allow_download: bool) -> Path:
    """The local snapshot of a hub model; downloads only when allowed."""
    from huggingface_hub import snapshot_download

    with contextlib.suppress(Exception):  # not cached (or hub library offline): decided below
        local = Path(snapshot_download(repo_id, local_files_only=True))
        if _has_weights(local):
            return local
    how = "pass --model PATH to a CTranslate2 or Hugging Face model directory"
    if not allow_download:
        raise ModelNotFoundError(
            f"model {repo_id!r} is not in the local cache and downloads are off; {how}, or --allow-download"
        )
    try:
        local = Path(snapshot_download(repo_id, allow_patterns=HUB_PATTERNS))
        if not _has_weights(local):
            local = Path(snapshot_download(repo_id, allow_patterns=["pytorch_model.bin"]))
    except Exception as exc:  # network down, offline mode, unknown repo, gated repo ...
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelNotFoundError(f"model {repo_id!r} could not be downloaded ({reason}); {how}") from exc
    if not _has_weights(local):
        raise ModelNotFoundError(f"model {repo_id!r} has no weights babelmill can convert; {how}")
    return local


def _has_weights(path: Path) -> bool:
    return (path / "model.bin").is_file() or (path / "pytorch_model.bin").is_file() or any(path.glob("*.safetensors"))


def conversion_key(path: Path, quantization: str) -> str:
    """Cache key of a Hugging Face directory: its resolved path, each file's name, size and
    mtime, the quantization and the recipe version (hashing gigabytes of weights per
    start-up would cost more than the conversion saves)."""
    files = []
    for child in sorted(path.iterdir()):
        with contextlib.suppress(OSError):
            st = child.stat()
            if child.is_file():
                files.append((child.name, st.st_size, st.st_mtime_ns))
    blob = json.dumps([str(path.resolve()), quantization, CONVERSION_VERSION, files])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _slug(name: str, hf_dir: Path) -> str:
    """Readable part of a cache entry's name: the hub id, or the local directory's name."""
    stem = name if _HUB_ID.match(name) and not Path(name).expanduser().exists() else hf_dir.resolve().name
    return re.sub(r"[^\w.-]+", "--", stem)[-80:].strip("-.") or "model"


def _converted(hf_dir: Path, name: str, quantization: str, cache: Path) -> ResolvedModel:
    target = cache / f"{_slug(name, hf_dir)}-{quantization}-{conversion_key(hf_dir, quantization)}"
    if (target / "model.bin").is_file():
        info = _read_json(target / INFO_FILE)
        return ResolvedModel(path=target, name=info.get("source") or name, info=info)
    cache.mkdir(parents=True, exist_ok=True)
    with _file_lock(cache / f".lock-{target.name}"):
        if (target / "model.bin").is_file():  # another worker finished it while we waited
            info = _read_json(target / INFO_FILE)
            return ResolvedModel(path=target, name=info.get("source") or name, info=info)
        info = _convert(hf_dir, name, quantization, cache, target)
    return ResolvedModel(path=target, name=name, info=info, converted=True)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialise conversions of one model across processes on this machine (the rename
    keeps it safe without the lock too, just with duplicated work)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _convert(hf_dir: Path, name: str, quantization: str, cache: Path, target: Path) -> dict[str, Any]:
    """Convert into a temporary sibling of ``target`` and rename it into place."""
    config = _read_json(hf_dir / "config.json")
    tok_config = _read_json(hf_dir / "tokenizer_config.json")
    family = detect_family(config, tok_config, name)
    tmp = cache / f".tmp-{target.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        converter = _make_converter(hf_dir, [f for f in TOKENIZER_FILES if (hf_dir / f).is_file()])
        with warnings.catch_warnings(), _no_progress_bars():
            warnings.simplefilter("ignore")
            converter.convert(str(tmp), quantization=quantization, force=True)
        tok_class = getattr(converter, "tokenizer_class_name", None)
        if tok_class and not tok_config.get("tokenizer_class"):
            # Without config.json next to it, AutoTokenizer needs the class named here.
            out_cfg = _read_json(tmp / "tokenizer_config.json")
            out_cfg["tokenizer_class"] = tok_class
            (tmp / "tokenizer_config.json").write_text(json.dumps(out_cfg, indent=2), encoding="utf-8")
        info = {
            "format": CONVERSION_VERSION,
            "family": family,
            "source": name,
            "model_type": config.get("model_type"),
            "quantization": quantization,
            "max_positions": config.get("max_position_embeddings") or config.get("n_positions"),
            "tokenizer_class": tok_config.get("tokenizer_class") or tok_class,
        }
        if family == "marian":
            info["languages"] = marian_languages(tok_config, name)
        (tmp / INFO_FILE).write_text(json.dumps(info, indent=2, sort_keys=True), encoding="utf-8")
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "model.bin").is_file():
                raise
            # Lost a race with a process that did not take the lock: its copy is as good.
        return info
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _no_progress_bars() -> Iterator[None]:
    """transformers' "Loading weights" bars are noise in worker logs."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _make_converter(hf_dir: Path, copy_files: list[str]) -> Any:
    """A ``TransformersConverter`` that also remembers the tokenizer class and fills in
    language tokens a tokenizer keeps outside ``get_vocab()``.

    transformers 5's ``M2M100Tokenizer`` no longer lists its ``__xx__`` language tokens in
    ``get_vocab()``, so CTranslate2 (4.x) would write a vocabulary 100 tokens short of the
    model; adding them back at their ids restores the layout the model was trained with.
    """
    from ctranslate2.converters import TransformersConverter

    class _Converter(TransformersConverter):  # type: ignore[misc]
        tokenizer_class_name: str | None = None

        def load_tokenizer(self, tokenizer_class: Any, model_name_or_path: str, **kwargs: Any) -> Any:
            tokenizer = super().load_tokenizer(tokenizer_class, model_name_or_path, **kwargs)
            self.tokenizer_class_name = type(tokenizer).__name__.removesuffix("Fast")
            extra = getattr(tokenizer, "lang_token_to_id", None)
            if extra:
                base = tokenizer.get_vocab

                def get_vocab() -> dict[str, int]:
                    vocab = dict(base())
                    for token, idx in extra.items():
                        vocab.setdefault(token, idx)
                    return vocab

                tokenizer.get_vocab = get_vocab
            return tokenizer

    return _Converter(str(hf_dir), copy_files=copy_files or None)
