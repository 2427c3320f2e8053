"""Job definitions: which stages, in which order, for each babelmill command."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from babelmill.pipelines.runner import Job
from babelmill.processors.base import Stage
from babelmill.processors.extract import TrafilaturaExtractor
from babelmill.processors.io import ReaderOptions, discover_shards
from babelmill.processors.validate import EmptyTextFilter


def _has_warc(inputs: list[str], input_format: str, reader: ReaderOptions) -> bool:
    if input_format == "warc":
        return True
    if input_format != "auto":
        return False
    return any(s.kind == "warc" for s in discover_shards(inputs, input_format, reader.text_mode, reader.hf_split))


def _extraction(extract_html: bool | None, inputs: list[str], input_format: str, reader: ReaderOptions) -> list[Stage]:
    """HTML extraction when asked for, or by default when an input is WARC."""
    if extract_html or (extract_html is None and _has_warc(inputs, input_format, reader)):
        return [TrafilaturaExtractor()]
    return []


def copy_job(
    inputs: list[str],
    output: Path,
    reader: ReaderOptions | None = None,
    input_format: str = "auto",
    output_format: str = "parquet",
    extract_html: bool | None = None,
    command: str = "",
) -> Job:
    """Read, (extract HTML,) validate, write: the pass-through that proves I/O, ledger and resume."""
    reader = reader or ReaderOptions()
    stages = _extraction(extract_html, inputs, input_format, reader)
    stages.append(EmptyTextFilter())
    return Job("copy", inputs, Path(output), stages, reader, input_format, output_format, command)


# ----------------------------------------------------------------- corpus


@dataclasses.dataclass
class CorpusOptions:
    """Every knob of the corpus job (the recipe's keys map onto these)."""

    langs: list[str] = dataclasses.field(default_factory=list)
    extract_html: bool | None = None
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
    stages: list[Stage] = _extraction(options.extract_html, inputs, input_format, reader)
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


# ----------------------------------------------------------------- project (markers)

#: Working columns of marker projection that the kept data does not need.
_MARKER_WORK = ("mt_source", "mt_entities", "mt_output", "mt_entity_translations", "src_tokens", "src_tags", "meta")


def ner_label_names(inputs: list[str], reader: ReaderOptions, input_format: str = "auto", scheme: str = "auto") -> list[str]:
    """IOB2 label names for every entity type in the inputs (one read on the driver,
    before Ray starts: every shard must number the labels the same way)."""
    from babelmill.processors.ner.readers import read_ner
    from babelmill.processors.ner.schemes import detect_scheme, split_tag
    from babelmill.processors.ner.writers import label_names_for

    table, _ = read_ner(inputs, reader, fmt=input_format)
    tags = table.column("tags").to_pylist()
    if scheme == "io" or (scheme == "auto" and detect_scheme(tags) == "io"):
        return label_names_for({t for seq in tags for t in seq if t != "O"})
    types = {parts[1] for seq in tags for t in seq if (parts := split_tag(t)) is not None and parts[0] != "O"}
    return label_names_for(types)


def project_markers_job(
    inputs: list[str],
    output: Path,
    spec: object,
    targets: list[str],
    src: str = "en",
    markers: list[tuple[str, str]] | None = None,
    labels: list[str] | None = None,
    tag_scheme: str = "auto",
    min_confidence: float = 0.0,
    max_span_ratio: float | None = 3.0,
    reader: ReaderOptions | None = None,
    input_format: str = "auto",
    output_format: str = "parquet",
    command: str = "",
) -> Job:
    """Label projection by markers: an NER dataset to the same dataset in each target.

    tag scheme -> IOB2, one row per target, wrap entities in markers, translate (actor
    pool), parse markers and assign labels, encode ``ner_tags``.  Kept rows go to
    ``data/<tgt_lang>/`` with ``ner_tags`` as ``Sequence(ClassLabel)``.
    """
    from babelmill.processors.instruct import TargetExpander
    from babelmill.processors.ner.options import NerOptions
    from babelmill.processors.ner.schemes import TagSchemeNormalizer
    from babelmill.processors.ner.writers import NerTagEncoder
    from babelmill.processors.projection.markers import DEFAULT_MARKERS, MarkerInserter, MarkerProjector, MarkerTranslator

    base = reader or ReaderOptions()
    reader = base if base.ner is not None else dataclasses.replace(base, ner=NerOptions())
    pairs = markers or list(DEFAULT_MARKERS)
    names = labels or ner_label_names(inputs, reader, input_format, tag_scheme)
    stages: list[Stage] = [
        TagSchemeNormalizer(tag_scheme),
        TargetExpander(targets, src_lang=src),
        MarkerInserter(pairs, src=src),
        MarkerTranslator(spec, src=src),
        MarkerProjector(pairs, min_confidence=min_confidence, max_span_ratio=max_span_ratio),
        NerTagEncoder(names),
    ]
    return Job(
        "project",
        inputs,
        Path(output),
        stages,
        reader,
        input_format,
        output_format,
        command,
        schema="projected_ner",
        drop_columns=_MARKER_WORK,
        partition="tgt_lang",
    )
