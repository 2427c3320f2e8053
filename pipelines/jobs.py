"""Job definitions: which stages, in which order, for each babelmill command."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from babelmill.pipelines.runner import Job
from babelmill.processors.base import Stage
from babelmill.processors.extract import UrlBlocklistFilter, make_extractor
from babelmill.processors.io import ReaderOptions, discover_shards
from babelmill.processors.validate import EmptyTextFilter


def _has_warc(inputs: list[str], input_format: str, reader: ReaderOptions) -> bool:
    if input_format == "warc":
        return True
    if input_format != "auto":
        return False
    return any(s.kind == "warc" for s in discover_shards(inputs, input_format, reader.text_mode, reader.hf_split))


@dataclasses.dataclass
class ExtractOptions:
    """How web pages become text: URL blocklists first, then the extractor."""

    extract_html: bool | None = None
    extractor: str = "auto"
    #: seconds one page may take before it is rejected as extract_timeout (0: no limit).
    page_time_budget: float = 10.0
    #: pages longer than this (characters) are rejected as page_too_large.
    max_page_chars: int = 4_000_000
    url_blocklist: list[str] = dataclasses.field(default_factory=list)
    url_block_words: list[str] = dataclasses.field(default_factory=list)


def _extraction(extract_html: bool | None, inputs: list[str], input_format: str, reader: ReaderOptions, options: ExtractOptions | None = None) -> list[Stage]:
    """URL filtering when lists are given; HTML extraction when asked for, or by default
    when an input is WARC."""
    options = options or ExtractOptions()
    stages: list[Stage] = []
    if options.url_blocklist or options.url_block_words:
        stages.append(UrlBlocklistFilter(options.url_blocklist, options.url_block_words))
    if extract_html or (extract_html is None and _has_warc(inputs, input_format, reader)):
        stages.append(make_extractor(options.extractor, time_budget=options.page_time_budget, max_page_chars=options.max_page_chars))
    return stages


def copy_job(
    inputs: list[str],
    output: Path,
    reader: ReaderOptions | None = None,
    input_format: str = "auto",
    output_format: str = "parquet",
    extract_html: bool | None = None,
    command: str = "",
    extract: ExtractOptions | None = None,
) -> Job:
    """Read, (extract HTML,) validate, write: the pass-through that proves I/O, ledger and resume."""
    reader = reader or ReaderOptions()
    stages = _extraction(extract_html, inputs, input_format, reader, extract)
    stages.append(EmptyTextFilter())
    return Job("copy", inputs, Path(output), stages, reader, input_format, output_format, command)


# ----------------------------------------------------------------- corpus


@dataclasses.dataclass
class CorpusOptions:
    """Every knob of the corpus job (the recipe's keys map onto these)."""

    langs: list[str] = dataclasses.field(default_factory=list)
    extract_html: bool | None = None
    extractor: str = "auto"
    page_time_budget: float = 10.0
    max_page_chars: int = 4_000_000
    url_blocklist: list[str] = dataclasses.field(default_factory=list)
    url_block_words: list[str] = dataclasses.field(default_factory=list)
    normalize: bool = True
    lid_model: str | None = None
    lid_threshold: float | None = None
    lid_top_k: int = 3
    script_check: bool = True
    line_level_lid: bool = False
    gopher_quality: bool = True
    gopher_repetition: bool = True
    fineweb_quality: bool = True
    #: None: on for English only (FineWeb-2 found C4's rules hurt other languages).
    c4_quality: bool | None = None
    dedup: bool = True
    exact_dedup: bool = True
    near_dedup: bool = True
    dedup_ngram: int = 5
    dedup_bands: int = 14
    dedup_rows: int = 8
    dedup_seed: int = 1
    rehydrate: bool = False
    pii: bool = True


def corpus_job(
    inputs: list[str],
    output: Path,
    options: CorpusOptions,
    reader: ReaderOptions | None = None,
    input_format: str = "auto",
    output_format: str = "parquet",
    command: str = "",
) -> Job:
    """Web text to a clean corpus: extract, normalize, LID, quality filters, dedup, PII.

    Dedup is the global stage; PII scrubbing runs after it, on the survivors only, as in
    FineWeb.  The kept data is split into one subset per language (``data/<lang>/``).
    """
    import babelmill.langs as langs_mod
    from babelmill.processors.dedup import MinHashDeduplicator
    from babelmill.processors.lid import FastTextLanguageIdentifier
    from babelmill.processors.normalize import TextNormalizer
    from babelmill.processors.pii import PIIScrubber
    from babelmill.processors.quality import C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter

    reader = reader or ReaderOptions()
    # Resolve the codes first: a typo is reported before any input is opened.
    targets = [langs_mod.get(code).code for code in options.langs] or None
    extract = ExtractOptions(
        options.extract_html, options.extractor, options.page_time_budget, options.max_page_chars, list(options.url_blocklist), list(options.url_block_words)
    )
    stages: list[Stage] = _extraction(options.extract_html, inputs, input_format, reader, extract)
    stages.append(EmptyTextFilter())
    if options.normalize:
        stages.append(TextNormalizer())
    stages.append(
        FastTextLanguageIdentifier(
            target_langs=targets,
            top_k=options.lid_top_k,
            threshold=options.lid_threshold,
            script_check=options.script_check,
            line_level=options.line_level_lid,
            model_path=options.lid_model,
        )
    )
    if options.gopher_repetition:
        stages.append(GopherRepetitionFilter())
    if options.gopher_quality:
        stages.append(GopherQualityFilter())
    if options.fineweb_quality:
        stages.append(FineWebQualityFilter())
    if options.c4_quality is not False:
        # None: the languages whose profile enables C4 (English); True: every language.
        stages.append(C4QualityFilter(languages=[p.code for p in langs_mod.all_profiles()] if options.c4_quality else None))
    dedup = None
    if options.dedup and (options.exact_dedup or options.near_dedup):
        dedup = MinHashDeduplicator(
            ngram=options.dedup_ngram,
            num_bands=options.dedup_bands,
            rows_per_band=options.dedup_rows,
            seed=options.dedup_seed,
            exact=options.exact_dedup,
            near=options.near_dedup,
            rehydrate=options.rehydrate,
        )
    post: list[Stage] = [PIIScrubber()] if options.pii else []
    if dedup is None:
        stages.extend(post)
        post = []
    return Job(
        "corpus",
        inputs,
        Path(output),
        stages,
        reader,
        input_format,
        output_format,
        command,
        global_stage=dedup,
        post_stages=post,
        partition="lang",
    )


# ----------------------------------------------------------------- instruct translate

#: Working columns the translation stages add that the kept data does not need.
_INSTRUCT_WORK = ("text", "lang", "lang_score", "meta", "mt_source", "mt_output", "mt_problems", "parse_error")


def instruct_translate_job(
    inputs: list[str],
    output: Path,
    spec: object,
    targets: list[str],
    src: str = "en",
    instruction_format: str = "auto",
    roles: list[str] | None = None,
    fields: list[str] | None = None,
    skip_checks: list[str] | None = None,
    reader: ReaderOptions | None = None,
    input_format: str = "auto",
    output_format: str = "parquet",
    command: str = "",
) -> Job:
    """An English instruction dataset to the same dataset in each target language.

    parse (Alpaca / ShareGPT / messages) -> one row per target -> translate (actor pool,
    one per GPU) -> output checks.  Kept rows go to ``data/<tgt_lang>/``.
    """
    from babelmill.processors.instruct import InstructionParser, InstructionTranslator, TargetExpander, TranslationQualityFilter

    base = reader or ReaderOptions()
    reader = dataclasses.replace(base, text_field="")  # record mode: the whole record goes to the parser
    kwargs: dict = {}
    if roles is not None:
        kwargs["roles"] = roles
    if fields is not None:
        kwargs["fields"] = fields
    stages: list[Stage] = [
        InstructionParser(format=instruction_format),
        TargetExpander(targets, src_lang=src),
        InstructionTranslator(spec, **kwargs),
        TranslationQualityFilter(skip=skip_checks or ()),
    ]
    return Job(
        "instruct-translate",
        inputs,
        Path(output),
        stages,
        reader,
        input_format,
        output_format,
        command,
        schema="instruction",
        drop_columns=_INSTRUCT_WORK,
        partition="tgt_lang",
    )
