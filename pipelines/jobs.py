"""Job definitions: which stages, in which order, for each babelmill command."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from babelmill.pipelines.runner import Job
from babelmill.processors.base import Stage
from babelmill.processors.extract import UrlBlocklistFilter, make_extractor
from babelmill.processors.io import ReaderOptions, discover_shards, storage
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


def _extraction(
    extract_html: bool | None,
    inputs: list[str],
    input_format: str,
    reader: ReaderOptions,
    options: ExtractOptions | None = None,
) -> list[Stage]:
    """URL filtering when lists are given; HTML extraction when asked for, or by default
    when an input is WARC."""
    options = options or ExtractOptions()
    stages: list[Stage] = []
    if options.url_blocklist or options.url_block_words:
        stages.append(UrlBlocklistFilter(options.url_blocklist, options.url_block_words))
    if extract_html or (extract_html is None and _has_warc(inputs, input_format, reader)):
        stages.append(
            make_extractor(
                options.extractor, time_budget=options.page_time_budget, max_page_chars=options.max_page_chars
            )
        )
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
    return Job("copy", inputs, storage.location(output), stages, reader, input_format, output_format, command)


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
    #: auto (per-target best shipped model), fasttext (lid.176 or --lid-model), heliport
    lid_backend: str = "auto"
    lid_model: str | None = None
    #: a macrolanguage answer (heliport's hbs, msa) satisfies a member target (hr, ms)
    lid_accept_macro: bool = False
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
    from babelmill.processors.lid import make_identifier
    from babelmill.processors.normalize import TextNormalizer
    from babelmill.processors.pii import PIIScrubber
    from babelmill.processors.quality import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    reader = reader or ReaderOptions()
    # Resolve the codes first: a typo is reported before any input is opened.
    targets = [langs_mod.get(code).code for code in options.langs] or None
    extract = ExtractOptions(
        options.extract_html,
        options.extractor,
        options.page_time_budget,
        options.max_page_chars,
        list(options.url_blocklist),
        list(options.url_block_words),
    )
    stages: list[Stage] = _extraction(options.extract_html, inputs, input_format, reader, extract)
    stages.append(EmptyTextFilter())
    if options.normalize:
        stages.append(TextNormalizer())
    stages.append(
        make_identifier(
            options.lid_backend,
            options.lid_model,
            target_langs=targets,
            top_k=options.lid_top_k,
            threshold=options.lid_threshold,
            script_check=options.script_check,
            line_level=options.line_level_lid,
            accept_macro=options.lid_accept_macro,
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
        stages.append(
            C4QualityFilter(languages=[p.code for p in langs_mod.all_profiles()] if options.c4_quality else None)
        )
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
        storage.location(output),
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
    from babelmill.processors.instruct import (
        InstructionParser,
        InstructionTranslator,
        TargetExpander,
        TranslationQualityFilter,
    )

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
        storage.location(output),
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


def ner_label_names(
    inputs: list[str], reader: ReaderOptions, input_format: str = "auto", scheme: str = "auto"
) -> list[str]:
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
    """Label projection by markers (``project_job`` with ``method="markers"``).

    tag scheme -> IOB2, one row per target, wrap entities in markers, translate (actor
    pool), parse markers and assign labels, encode ``ner_tags``.  Kept rows go to
    ``data/<tgt_lang>/`` with ``ner_tags`` as ``Sequence(ClassLabel)``.
    """
    options = ProjectOptions(
        method="markers",
        targets=list(targets),
        src=src,
        markers=markers,
        labels=labels,
        tag_scheme=tag_scheme,
        min_confidence=min_confidence,
        max_span_ratio=max_span_ratio,
    )
    return project_job(inputs, output, options, spec, reader, input_format, output_format, command)


# ----------------------------------------------------------------- project (every method)

PROJECT_METHODS = ("markers", "align", "score", "parallel")
ALIGNERS = ("eflomal", "simalign", "attention")
#: quality flags dropped by default (the others stay in ``projection_flags``)
DEFAULT_DROP_ON = ("entity_lost", "type_conflict")
#: Working columns of the projection chain that the kept data does not need.
_PROJECT_WORK = tuple(
    dict.fromkeys(
        _MARKER_WORK + ("src_text", "tgt_text", "tgt_text_score", "tgt_tokens", "alignment", "model", "mt_problems")
    )
)


@dataclasses.dataclass
class ProjectOptions:
    """Every knob of the project job (the recipe's keys map onto these)."""

    method: str = "align"
    targets: list[str] = dataclasses.field(default_factory=list)
    src: str = "en"
    #: the existing target side (``parallel``; ``align``/``score`` use it instead of MT)
    target: list[str] = dataclasses.field(default_factory=list)
    #: split given target text on whitespace instead of the target language's tokenizer
    target_pretokenized: bool = False
    aligner: str = "eflomal"
    symmetrize: str = "grow-diag-final-and"
    encoder: str | None = None
    simalign_method: str = "itermax"
    #: extra unlabelled parallel text for eflomal: ``[LANG=]PATH[,PATH2]`` each
    extra_parallel: list[str] = dataclasses.field(default_factory=list)
    #: name and cognate matches as eflomal priors; name matching for unaligned entities
    name_priors: bool = True
    name_matching: bool = True
    markers: list[tuple[str, str]] | None = None
    labels: list[str] | None = None
    tag_scheme: str = "auto"
    #: quality flags that drop a sentence (the others are kept as flags)
    drop_on: list[str] = dataclasses.field(default_factory=lambda: list(DEFAULT_DROP_ON))
    #: entities below this confidence are flagged (None: each method's default)
    min_confidence: float | None = None
    #: eflomal sees words cut to this many characters (0: whole words)
    stem_length: int = 5
    #: independent eflomal trainings whose links are voted (one training of a small run
    #: depends on the sampler's luck)
    eflomal_runs: int = 5
    #: longest target span, relative to its source span (None: the method's default)
    max_span_ratio: float | None = None
    score_max_extra: int = 2
    #: score: also rank candidates by p(entity | candidate) -- "same" (the MT model itself
    #: in the other direction, for multilingual models) or a target -> source model
    score_reverse: str | None = None


def _parallel_targets(
    inputs: list[str], reader: ReaderOptions, input_format: str, options: ProjectOptions, tgt: str
) -> dict[str, list[str]]:
    """Input row id -> target tokens: the given target side paired with the labelled
    sentences by position (quarantined sentences keep their place), read on the driver."""
    import babelmill.langs as langs_mod
    from babelmill.processors.errors import BabelmillError
    from babelmill.processors.ner.readers import read_ner
    from babelmill.processors.projection.parallel import input_ordinals, read_sides, target_side

    table, bad = read_ner(inputs, reader, fmt=input_format)
    sides = read_sides(options.target)
    sources = table.column("tokens").to_pylist()
    tokens, _ = target_side(
        sides,
        langs_mod.get(options.src).code,
        tgt,
        langs_mod.get(tgt).word_tokenize,
        sources,
        options.target_pretokenized,
    )
    total = table.num_rows + len(bad)
    if len(tokens) != total:
        raise BabelmillError(
            f"--target {','.join(options.target)} has {len(tokens)} sentences but --input has {total}; they must pair line by line"
        )
    ids = table.column("id").cast("string").to_pylist()
    if len(set(ids)) != len(ids):
        raise BabelmillError("--input has duplicate sentence ids; the target side cannot be paired by id")
    return {rid: tokens[k] for rid, k in zip(ids, input_ordinals(table, bad))}


def project_job(
    inputs: list[str],
    output: Path,
    options: ProjectOptions,
    spec: object | None = None,
    reader: ReaderOptions | None = None,
    input_format: str = "auto",
    output_format: str = "parquet",
    command: str = "",
) -> Job:
    """Label projection: an NER dataset to the same dataset in each target language.

    tag scheme -> IOB2 -> one row per target, then by method: ``markers`` (wrap, translate,
    parse); ``align`` (translate the clean sentence, tokenize it, word-align, project);
    ``score`` (translate, let the MT model score candidate spans); ``parallel`` (the given
    target side, align, project).  eflomal runs as the job's global stage (it trains on
    every pair of the run).  Quality flags in ``drop_on`` become drop reasons; per-type
    counters go to the ledger.  Kept rows go to ``data/<tgt_lang>/`` with ``ner_tags`` as
    ``Sequence(ClassLabel)``.  Every check that can fail on the user's input runs here,
    before Ray starts.
    """
    import babelmill.langs as langs_mod
    from babelmill.processors.errors import BabelmillError, ModelNotFoundError
    from babelmill.processors.instruct import TargetExpander
    from babelmill.processors.ner.options import NerOptions
    from babelmill.processors.ner.schemes import TagSchemeNormalizer
    from babelmill.processors.ner.writers import NerTagEncoder
    from babelmill.processors.projection import pipeline as pp
    from babelmill.processors.projection.project import FLAGS
    from babelmill.processors.projection.symmetrize import METHODS as SYMMETRIZATIONS

    o = options
    if o.method not in PROJECT_METHODS:
        raise BabelmillError(f"unknown --method {o.method!r}; choose one of {', '.join(PROJECT_METHODS)}")
    if o.aligner not in ALIGNERS:
        raise BabelmillError(f"unknown --aligner {o.aligner!r}; choose one of {', '.join(ALIGNERS)}")
    if o.symmetrize not in SYMMETRIZATIONS:
        raise BabelmillError(f"unknown --symmetrize {o.symmetrize!r}; choose one of {', '.join(SYMMETRIZATIONS)}")
    unknown = set(o.drop_on) - set(FLAGS)
    if unknown:
        raise BabelmillError(f"unknown --drop-on flag(s) {', '.join(sorted(unknown))}; known: {', '.join(FLAGS)}")
    src = langs_mod.get(o.src).code
    targets = [langs_mod.get(t).code for t in o.targets]
    if not targets:
        raise BabelmillError("project needs --tgt LANG[,LANG...]")
    if o.method == "parallel" and not o.target:
        raise BabelmillError("--method parallel needs --target FILE (the existing target side)")
    if o.target and o.method == "markers":
        raise BabelmillError("--target is for --method parallel (or align/score on a given target); markers translates")
    if o.target and len(targets) != 1:
        raise BabelmillError(f"--target gives one target side, so --tgt must be one language (got {','.join(targets)})")
    translates = not o.target
    aligns = o.method in ("align", "parallel")
    if (translates or (aligns and o.aligner == "attention") or o.method == "score") and spec is None:
        what = "translate" if translates else ("score spans" if o.method == "score" else "align by attention")
        raise ModelNotFoundError(f"--method {o.method} needs --model (a CTranslate2 model to {what} with)")
    if aligns and o.aligner == "eflomal":
        from babelmill.processors.projection.aligners.eflomal import _import_eflomal

        _import_eflomal()  # one line naming the extra when it is missing
    if aligns and o.aligner == "simalign":
        if not o.encoder:
            raise BabelmillError("--aligner simalign needs --encoder DIR (a local mBERT / XLM-R / LaBSE directory)")
        if not (Path(o.encoder) / "config.json").is_file():
            raise ModelNotFoundError(f"--encoder {o.encoder} is not a model directory (no config.json)")
    if o.extra_parallel and not (aligns and o.aligner == "eflomal"):
        raise BabelmillError("--extra-parallel feeds eflomal; use it with --aligner eflomal")

    base = reader or ReaderOptions()
    reader = base if base.ner is not None else dataclasses.replace(base, ner=NerOptions())
    names = o.labels or ner_label_names(inputs, reader, input_format, o.tag_scheme)
    stages: list[Stage] = [TagSchemeNormalizer(o.tag_scheme), TargetExpander(targets, src_lang=src)]
    post: list[Stage] = []
    global_stage = None
    if o.method == "markers":
        from babelmill.processors.projection.markers import (
            DEFAULT_MARKERS,
            MarkerInserter,
            MarkerProjector,
            MarkerTranslator,
        )

        pairs = o.markers or list(DEFAULT_MARKERS)
        ratio = 3.0 if o.max_span_ratio is None else o.max_span_ratio
        stages += [
            MarkerInserter(pairs, src=src),
            MarkerTranslator(spec, src=src),
            MarkerProjector(pairs, min_confidence=o.min_confidence or 0.0, max_span_ratio=ratio),
        ]
    else:
        from babelmill.processors.translate.stages import TextTranslator

        stages.append(pp.ProjectionSource(src))
        if translates:
            stages += [TextTranslator(spec, column="src_text", output="tgt_text"), pp.TargetTokenizer("tgt_text")]
        else:
            stages.append(
                pp.GivenTarget(_parallel_targets(inputs, reader, input_format, o, targets[0]), ",".join(o.target))
            )
        ratio = 2.0 if o.max_span_ratio is None else o.max_span_ratio
        if o.method == "score":
            reverse: object = o.score_reverse  # None or "same"; a path becomes a second spec
            if reverse not in (None, "same"):
                reverse = dataclasses.replace(spec, model=o.score_reverse)
            stages.append(pp.ScoreProjectStage(spec, drop_on=o.drop_on, max_extra=o.score_max_extra, reverse=reverse))
        else:
            # CoNLL's type for adjectives of names, when the label set has it
            adjective = "MISC" if "B-MISC" in names else None
            project = pp.PairwiseProjectSpans(o.drop_on, o.min_confidence, ratio, o.name_matching, adjective)
            if o.aligner == "eflomal":
                tokenizers = {c: langs_mod.get(c).word_tokenize for c in [src, *targets]}
                extra: dict = {}
                from babelmill.processors.projection.parallel import read_extra

                for item in o.extra_parallel:
                    for lang, pairs_ in read_extra(item, src, targets, tokenizers, o.target_pretokenized).items():
                        extra.setdefault(lang, []).extend(pairs_)
                global_stage = pp.EflomalGlobalAlign(o.symmetrize, extra, o.name_priors, o.stem_length, o.eflomal_runs)
                post.append(project)
            else:
                stages += [pp.WordAlignStage(o.aligner, o.symmetrize, o.encoder, spec, o.simalign_method), project]
        (post if global_stage is not None else stages).append(pp.ProjectedRows())
    (post if global_stage is not None else stages).append(NerTagEncoder(names))
    return Job(
        "project",
        inputs,
        storage.location(output),
        stages,
        reader,
        input_format,
        output_format,
        command,
        global_stage=global_stage,
        post_stages=post,
        schema="projected_ner",
        # the global stage's keys read the token columns in the map phase; ProjectedRows
        # removes them once they are used
        drop_columns=tuple(c for c in _PROJECT_WORK if global_stage is None or c not in pp.ProjectedRows.WORK),
        partition="tgt_lang",
    )


# ----------------------------------------------------------------- code-switching and interleaving

#: Working columns of parallel rows the code-switched / interleaved output does not need.
_BILINGUAL_WORK = ("lang", "lang_score", "meta", "src_segments", "tgt_segments", "roles", "src_text", "tgt_text")


def _bilingual_reader(reader: ReaderOptions | None) -> ReaderOptions:
    """Record mode: the parallel reader sees every field (text lines still come as text)."""
    return dataclasses.replace(reader or ReaderOptions(), text_field="")


def _bilingual_job(
    name: str,
    inputs: list[str],
    output: Path,
    stages: list[Stage],
    reader: ReaderOptions | None,
    input_format: str,
    output_format: str,
    command: str,
    info: dict,
) -> Job:
    """A code-switching / interleaving run: record-mode reading, ``mixed`` rows, and the
    card section and plots of ``finalize`` described by ``info``."""
    import functools

    from babelmill.pipelines.bilingual import finalize

    return Job(
        name,
        inputs,
        storage.location(output),
        stages,
        _bilingual_reader(reader),
        input_format,
        output_format,
        command,
        schema="mixed",
        drop_columns=_BILINGUAL_WORK,
        finalize=functools.partial(finalize, info=info),
    )


def codeswitch_job(
    inputs: list[str],
    output: Path,
    mode: str,
    targets: list[str],
    src: str = "en",
    ratio: float = 0.3,
    unit: str = "word",
    seed: int = 1,
    lexicons: dict[str, str] | None = None,
    induce: dict[str, str] | None = None,
    spec: object = None,
    density: list[float] | None = None,
    max_phrase: int = 4,
    shots: int = 3,
    ask: str = "src",
    templates: str | None = None,
    drop_unswitched: bool = False,
    moses: dict[str, tuple[str, str]] | None = None,
    reader: ReaderOptions | None = None,
    input_format: str = "auto",
    output_format: str = "parquet",
    command: str = "",
) -> Job:
    """Parallel or monolingual text to code-switched rows (see processors/codeswitch).

    parallel reader -> one of: dictionary / align / translate switching, xICL prompts,
    xCoT prompts.  Kept rows go to ``data/``; the card states mode, ratio and seed.
    """
    from babelmill.processors.codeswitch.prompts import CrossLingualCoT, CrossLingualICL
    from babelmill.processors.codeswitch.stages import CodeSwitcher
    from babelmill.processors.io.parallel import ParallelParser

    need_target = mode in ("align", "xicl", "xcot")
    stages: list[Stage] = [
        ParallelParser(
            src,
            ",".join(targets) if mode in ("dictionary", "translate") else targets[0],
            need_target=need_target,
            moses=moses,
        )
    ]
    if mode == "xicl":
        stages.append(CrossLingualICL(shots=shots, ratio=ratio, seed=seed, templates=templates))
    elif mode == "xcot":
        stages.append(CrossLingualCoT(ask=ask, templates=templates))
    else:
        stages.append(
            CodeSwitcher(
                mode,
                targets,
                src=src,
                ratio=ratio,
                unit=unit,
                seed=seed,
                lexicons=lexicons,
                induce=induce,
                spec=spec,
                density=density,
                max_phrase=max_phrase,
                drop_unswitched=drop_unswitched,
            )
        )
    info = {
        "title": "Code-switching",
        "mode": mode,
        "source language": src,
        "target language(s)": ",".join(targets),
        "seed": seed,
    }
    if mode not in ("xcot",):
        info["target ratio"] = "sampled per row from --match-stats" if density else ratio
    if mode in ("dictionary", "align", "translate"):
        info["unit"] = unit
    if mode == "xicl":
        info["shots"] = shots
    return _bilingual_job(
        "instruct-codeswitch", inputs, output, stages, reader, input_format, output_format, command, info
    )


def interleave_job(
    inputs: list[str],
    output: Path,
    mode: str,
    src: str,
    tgt: str,
    unit: str = "sentence",
    order: str = "src-tgt",
    sep: str = "\n",
    tokenizer: str | None = None,
    max_tokens: int = 2048,
    overlap: int = 1,
    template_lang: str | None = None,
    templates: str | None = None,
    reverse: bool = False,
    moses: dict[str, tuple[str, str]] | None = None,
    reader: ReaderOptions | None = None,
    input_format: str = "auto",
    output_format: str = "parquet",
    command: str = "",
) -> Job:
    """Parallel documents to interleaved bilingual rows (see processors/interleave)."""
    from babelmill.processors.interleave.stages import Alternate, Interlinear, Packer, TranslationInstructions
    from babelmill.processors.io.parallel import ParallelParser

    stages: list[Stage] = [ParallelParser(src, tgt, need_target=True, moses=moses)]
    if mode == "interlinear":
        stages.append(Interlinear(unit=unit, order=order, sep=sep))
    elif mode == "alternate":
        stages.append(Alternate(unit=unit))
    elif mode == "pack":
        if not tokenizer:
            raise ValueError("pack needs a tokenizer")
        stages.append(Packer(tokenizer, max_tokens=max_tokens, overlap=overlap, unit=unit, sep=sep))
    elif mode == "translation-instructions":
        stages.append(TranslationInstructions(template_lang=template_lang, templates=templates, reverse=reverse))
    else:
        raise ValueError(f"unknown interleave mode {mode!r}")
    info: dict[str, object] = {"title": "Interleaving", "mode": mode, "source language": src, "target language": tgt}
    if mode in ("interlinear", "alternate", "pack"):
        info["unit"] = unit
    if mode == "interlinear":
        info["order"] = order
    if mode == "pack":
        info.update({"tokenizer": tokenizer, "max tokens": max_tokens, "overlap (units)": overlap})
    return _bilingual_job(
        "instruct-interleave", inputs, output, stages, reader, input_format, output_format, command, info
    )
