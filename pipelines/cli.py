"""``babelmill`` command line.  Every job accepts ``--recipe FILE.yaml`` whose keys are
the job's option names; options given on the command line win over the recipe."""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import functools

import typer
from typer.core import TyperCommand, TyperGroup
import yaml
from rich.console import Console
from rich.markup import escape
from rich.logging import RichHandler

from babelmill.langs import UnknownLanguageError
from babelmill import __version__
from babelmill.pipelines.progress import RunProgress, summary_table
from babelmill.pipelines.runner import EngineOptions, Job, RunResult, run
from babelmill.processors.errors import BabelmillError
from babelmill.processors.io import storage
from babelmill.processors.io.records import DEFAULT_MAX_RECORD_BYTES, DEFAULT_SPLIT_BYTES, ReaderOptions

app = typer.Typer(
    name="babelmill",
    help="Turn raw multilingual text into training-ready datasets, on a laptop or a Ray cluster.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console(stderr=True)
out = Console()
log = logging.getLogger("babelmill")

#: help text is wrapped to the terminal, up to this many columns
HELP_MAX_WIDTH = 120
#: the option-name column of ``--help``: names longer than this put their help on the next line
HELP_NAMES_WIDTH = 30


class _ReadableHelp:
    """``--help`` that stays readable in an 80-column terminal.

    typer's rich layout gives an option's help the width left over by five other columns
    (one or two words a line at 80 columns); this is click's two-column layout (names,
    then the help, wrapped beside them or below a long name), grouped in the same panels.
    """

    def format_help(self, ctx: Any, formatter: Any) -> None:
        wide = type(formatter)(max_width=HELP_MAX_WIDTH)
        # click's layout, not typer's rich one: skip typer's class in the MRO
        typer_cls = TyperGroup if isinstance(self, TyperGroup) else TyperCommand
        super(typer_cls, self).format_help(ctx, wide)
        formatter.write(wide.getvalue())

    def format_options(self, ctx: Any, formatter: Any) -> None:
        panels: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            name, text = record
            if len(name) > formatter.width - formatter.current_indent - 4 and " <" in name:
                # a long list of choices goes into the help, where it can wrap
                name, choices = name.split(" <", 1)
                text = f"{text} One of: {', '.join(choices.rstrip('>').split('|'))}."
            panels.setdefault(getattr(param, "rich_help_panel", None) or "Options", []).append((name, text))
        for name, rows in panels.items():
            with formatter.section(name):
                formatter.write_dl(rows, col_max=HELP_NAMES_WIDTH)
        if hasattr(self, "format_commands"):  # a group with options of its own (``project``)
            self.format_commands(ctx, formatter)


class ReadableHelpCommand(_ReadableHelp, TyperCommand):
    """A command with the readable ``--help``."""


class ReadableHelpGroup(_ReadableHelp, TyperGroup):
    """A command group (whose callback takes options) with the readable ``--help``."""


def _readable_help(typer_app: typer.Typer) -> None:
    """Give every command of an app (and of its sub-apps) the readable ``--help``."""
    for info in typer_app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = ReadableHelpCommand
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _readable_help(group.typer_instance)


class InputFormat(str, enum.Enum):
    auto = "auto"
    jsonl = "jsonl"
    parquet = "parquet"
    text = "text"
    warc = "warc"
    hf = "hf"


class Extractor(str, enum.Enum):
    auto = "auto"
    resiliparse = "resiliparse"
    trafilatura = "trafilatura"


class OutputFormat(str, enum.Enum):
    parquet = "parquet"
    jsonl = "jsonl"


class TextMode(str, enum.Enum):
    line = "line"
    file = "file"


class LogLevel(str, enum.Enum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


# ----------------------------------------------------------------- shared options

InputOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--input",
        "-i",
        help="Input file, directory or glob; repeat for several. Reads .jsonl/.json/.ndjson (plain, .gz, .zst), .parquet, .txt, .warc(.gz), and Hugging Face datasets (save_to_disk directories; any load_dataset-able local path with --format hf).",
        rich_help_panel="Input",
    ),
]
OutputOpt = Annotated[
    Optional[str],
    typer.Option(
        "--output",
        "-o",
        help="Output directory or object-store URL (s3://bucket/prefix, gs://, az://): data/, rejected/, quarantine/, ledger.json and a dataset card README.md.",
        rich_help_panel="Output",
    ),
]
FormatOpt = Annotated[
    InputFormat,
    typer.Option(
        "--format",
        help="Input format; 'auto' goes by file extension. 'hf' reads a local Hugging Face dataset.",
        rich_help_panel="Input",
    ),
]
TextFieldOpt = Annotated[
    str, typer.Option("--text-field", help="Input field holding the document text.", rich_help_panel="Input")
]
IdFieldOpt = Annotated[
    str,
    typer.Option(
        "--id-field",
        help="Input field holding the document id; missing ids become '<file>:<record number>'.",
        rich_help_panel="Input",
    ),
]
TextModeOpt = Annotated[
    TextMode,
    typer.Option(
        "--text-mode", help="Plain-text inputs: one document per 'line' or per 'file'.", rich_help_panel="Input"
    ),
]
HfSplitOpt = Annotated[
    str, typer.Option("--hf-split", help="Split to read from Hugging Face dataset inputs.", rich_help_panel="Input")
]
MaxBytesOpt = Annotated[
    int,
    typer.Option(
        "--max-record-bytes",
        help="Records larger than this are quarantined instead of processed.",
        rich_help_panel="Input",
    ),
]
OutFormatOpt = Annotated[
    OutputFormat,
    typer.Option("--output-format", help="Format of the kept data: Parquet (zstd) or JSONL.", rich_help_panel="Output"),
]
RecipeOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--recipe", help="YAML file of option values (keys are option names); command-line options override it."
    ),
]
OverwriteOpt = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace an output directory made by a different command instead of refusing.",
        rich_help_panel="Output",
    ),
]
RayAddressOpt = Annotated[
    Optional[str],
    typer.Option(
        "--ray-address",
        help="Join a running Ray cluster (e.g. 127.0.0.1:6379 or 'auto'); default: start an embedded local one.",
        rich_help_panel="Ray",
    ),
]
NumCpusOpt = Annotated[
    Optional[int],
    typer.Option("--num-cpus", help="CPUs for the embedded Ray (default: all of this machine).", rich_help_panel="Ray"),
]
NumGpusOpt = Annotated[
    Optional[int],
    typer.Option("--num-gpus", help="GPUs for the embedded Ray (default: all detected).", rich_help_panel="Ray"),
]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a live progress bar.")]
LogLevelOpt = Annotated[
    LogLevel, typer.Option("--log-level", help="Logging verbosity; 'debug' also prints tracebacks.")
]
ExtractHtmlOpt = Annotated[
    Optional[bool],
    typer.Option(
        "--extract-html/--no-extract-html",
        help="Extract the main text of HTML pages with --extractor (default: on when an input is WARC).",
        rich_help_panel="Input",
    ),
]
ExtractorOpt = Annotated[
    Extractor,
    typer.Option(
        "--extractor",
        help="HTML extractor: 'auto' (resiliparse, trafilatura only where the fast result looks poor), 'resiliparse' (fastest) or 'trafilatura' (slowest).",
        rich_help_panel="Input",
    ),
]
PageBudgetOpt = Annotated[
    float,
    typer.Option(
        "--page-time-budget",
        help="Seconds one page may take to extract; slower pages are rejected as extract_timeout (0: no limit, no worker process).",
        rich_help_panel="Input",
    ),
]
MaxPageCharsOpt = Annotated[
    int,
    typer.Option(
        "--max-page-chars",
        help="Pages longer than this many characters are rejected as page_too_large before parsing.",
        rich_help_panel="Input",
    ),
]
UrlBlocklistOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--url-blocklist",
        help="Blocklist file (UT1 layout: a domain or a URL prefix per line); repeatable. Matching pages are rejected as url_blocked_domain / url_blocked_url.",
        rich_help_panel="Input",
    ),
]
UrlWordsOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--url-block-words",
        help="File of words (one per line) that reject a URL containing one as a token (url_blocked_word); repeatable.",
        rich_help_panel="Input",
    ),
]
SplitBytesOpt = Annotated[
    int,
    typer.Option(
        "--split-bytes",
        help="Cut WARC, JSONL (uncompressed) and Parquet files larger than this into shards of about this size (by records, lines, row groups), so one big file uses every core; 0: one shard per file.",
        rich_help_panel="Input",
    ),
]


def setup_logging(level: LogLevel) -> None:
    logging.basicConfig(
        level=level.value.upper(),
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
        force=True,
    )


def apply_recipe(ctx: typer.Context, recipe: Path | None, values: dict[str, Any]) -> dict[str, Any]:
    """Fill options not given on the command line from a YAML recipe."""
    if recipe is None:
        return values
    if not recipe.is_file():
        raise BabelmillError(f"--recipe {recipe} does not exist")
    try:
        data = yaml.safe_load(recipe.read_text()) or {}
    except yaml.YAMLError as exc:
        raise BabelmillError(f"--recipe {recipe} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise BabelmillError(f"--recipe {recipe} must be a mapping of option names to values")
    known = set(values)
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in known:
            raise BabelmillError(
                f"--recipe {recipe}: unknown option {key!r}; known: {', '.join(sorted(k.replace('_', '-') for k in known))}"
            )
        source = ctx.get_parameter_source(name)
        if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT"):
            continue
        if name == "input" and isinstance(value, str):
            value = [value]
        if name == "recipe" and value is not None:
            value = Path(value)
        if name == "output" and value is not None:
            value = str(value)  # a local path or an object-store URL (Path() would mangle s3://)
        values[name] = value
    return values


def _enum_value(v: Any) -> Any:
    return v.value if isinstance(v, enum.Enum) else v


def execute(job: Job, engine: EngineOptions, overwrite: bool, progress: bool) -> RunResult:
    """Run a job with progress and summary; exit non-zero with one line on failure."""
    hook = RunProgress(console, enabled=progress)
    try:
        result = run(job, engine, overwrite=overwrite, hook=hook)
    finally:
        hook("finish", {})
    out.print(summary_table(result))
    if result.failures:
        console.print(
            f"[red]error:[/red] {len(result.failures)} shard(s) failed, first: {escape(result.failures[0])}; rerun the same command to retry only those",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    out.print(
        f"ledger: {result.output / 'ledger.json'}\nreport: {result.output / 'report.html'}\ndataset card: {result.output / 'README.md'}",
        soft_wrap=True,
    )
    return result


def user_errors(fn: Any) -> Any:
    """Turn errors into one line on stderr and an exit code: 2 for what the user can
    fix (the message says how), 1 for anything unexpected (traceback with debug logs)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (BabelmillError, UnknownLanguageError) as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            console.print("interrupted; rerun the same command to resume")
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - the one place unexpected errors become one line
            if log.isEnabledFor(logging.DEBUG):
                raise
            console.print(
                f"[red]error:[/red] unexpected {type(exc).__name__}: {escape(str(exc))} (rerun with --log-level debug for the traceback)",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper


def _command_line() -> str:
    return "babelmill " + " ".join(shlex.quote(a) for a in sys.argv[1:])


# ----------------------------------------------------------------- commands


@app.command()
@user_errors
def copy(
    ctx: typer.Context,
    input: InputOpt = None,
    output: OutputOpt = None,
    format: FormatOpt = InputFormat.auto,
    text_field: TextFieldOpt = "text",
    id_field: IdFieldOpt = "id",
    text_mode: TextModeOpt = TextMode.line,
    hf_split: HfSplitOpt = "train",
    max_record_bytes: MaxBytesOpt = DEFAULT_MAX_RECORD_BYTES,
    output_format: OutFormatOpt = OutputFormat.parquet,
    extract_html: ExtractHtmlOpt = None,
    extractor: ExtractorOpt = Extractor.auto,
    page_time_budget: PageBudgetOpt = 10.0,
    max_page_chars: MaxPageCharsOpt = 4_000_000,
    url_blocklist: UrlBlocklistOpt = None,
    url_block_words: UrlWordsOpt = None,
    split_bytes: SplitBytesOpt = DEFAULT_SPLIT_BYTES,
    recipe: RecipeOpt = None,
    overwrite: OverwriteOpt = False,
    ray_address: RayAddressOpt = None,
    num_cpus: NumCpusOpt = None,
    num_gpus: NumGpusOpt = None,
    progress: ProgressOpt = True,
    log_level: LogLevelOpt = LogLevel.warning,
) -> None:
    """Read, validate and write documents unchanged: the lossless pass-through job.

    Malformed records go to quarantine/ with their error, empty documents to rejected/
    with a drop_reason, the rest to data/; ledger.json proves nothing was lost.
    """
    v = apply_recipe(ctx, recipe, {k: val for k, val in locals().items() if k != "ctx"})
    setup_logging(LogLevel(_enum_value(v["log_level"])))
    if not v["input"]:
        raise BabelmillError("copy needs --input (or an 'input' key in --recipe)")
    if v["output"] is None:
        raise BabelmillError("copy needs --output DIR")
    from babelmill.pipelines.jobs import copy_job

    job = copy_job(
        inputs=list(v["input"]),
        output=storage.location(v["output"]),
        reader=_reader(v),
        input_format=_enum_value(v["format"]),
        output_format=_enum_value(v["output_format"]),
        extract_html=v["extract_html"],
        command=_command_line(),
        extract=_extract_options(v),
    )
    engine = EngineOptions(ray_address=v["ray_address"], num_cpus=v["num_cpus"], num_gpus=v["num_gpus"])
    execute(job, engine, bool(v["overwrite"]), bool(v["progress"]))


def _reader(v: dict[str, Any]) -> ReaderOptions:
    """Reader options from a command's option values (copy and corpus share them)."""
    split = int(v.get("split_bytes", DEFAULT_SPLIT_BYTES))
    if split < 0:
        raise BabelmillError("--split-bytes must be 0 (no splitting) or a positive number of bytes")
    return ReaderOptions(
        text_field=v["text_field"],
        id_field=v["id_field"],
        max_record_bytes=int(v["max_record_bytes"]),
        text_mode=_enum_value(v.get("text_mode", "line")),
        hf_split=v["hf_split"],
        split_bytes=split,
    )


def _extract_options(v: dict[str, Any]) -> Any:
    """URL filter and extractor settings, checked before Ray starts."""
    from babelmill.pipelines.jobs import ExtractOptions

    for opt in ("url_blocklist", "url_block_words"):
        for f in v.get(opt) or []:
            if not Path(f).is_file():
                raise BabelmillError(f"--{opt.replace('_', '-')} {f!r} is not a file")
    if float(v.get("page_time_budget", 0)) < 0:
        raise BabelmillError("--page-time-budget must be >= 0 seconds")
    return ExtractOptions(
        v["extract_html"],
        _enum_value(v.get("extractor", "auto")),
        float(v.get("page_time_budget", 10.0)),
        int(v.get("max_page_chars", 4_000_000)),
        list(v.get("url_blocklist") or []),
        list(v.get("url_block_words") or []),
    )


def _split_codes(values: list[str] | None) -> list[str]:
    return [c.strip() for v in values or [] for c in str(v).split(",") if c.strip()]


def _need(v: dict[str, Any], command: str) -> None:
    if not v["input"]:
        raise BabelmillError(f"{command} needs --input (or an 'input' key in --recipe)")
    if v["output"] is None:
        raise BabelmillError(f"{command} needs --output DIR")


class LidBackend(str, enum.Enum):
    auto = "auto"
    fasttext = "fasttext"
    heliport = "heliport"


@app.command()
@user_errors
def corpus(
    ctx: typer.Context,
    input: InputOpt = None,
    output: OutputOpt = None,
    lang: Annotated[
        Optional[list[str]],
        typer.Option(
            "--lang",
            "-l",
            help="Target language(s), comma-separated or repeated (any ISO 639-1/3, FLORES code or name; see `babelmill langs`). Documents in other languages are rejected as lang_not_target. Empty: keep every language, one subset each.",
            rich_help_panel="Language ID",
        ),
    ] = None,
    format: FormatOpt = InputFormat.auto,
    text_field: TextFieldOpt = "text",
    id_field: IdFieldOpt = "id",
    text_mode: TextModeOpt = TextMode.line,
    hf_split: HfSplitOpt = "train",
    max_record_bytes: MaxBytesOpt = DEFAULT_MAX_RECORD_BYTES,
    output_format: OutFormatOpt = OutputFormat.parquet,
    extract_html: ExtractHtmlOpt = None,
    extractor: ExtractorOpt = Extractor.auto,
    page_time_budget: PageBudgetOpt = 10.0,
    max_page_chars: MaxPageCharsOpt = 4_000_000,
    url_blocklist: UrlBlocklistOpt = None,
    url_block_words: UrlWordsOpt = None,
    split_bytes: SplitBytesOpt = DEFAULT_SPLIT_BYTES,
    normalize: Annotated[
        bool,
        typer.Option(
            "--normalize/--no-normalize",
            help="Repair mojibake with ftfy and apply Unicode NFC before language ID.",
            rich_help_panel="Input",
        ),
    ] = True,
    lid_backend: Annotated[
        LidBackend,
        typer.Option(
            "--lid-backend",
            "--lid",
            help="LID backend: auto (per target the shipped model that identifies it best; see `babelmill langs CODE`), fasttext (lid.176 or --lid-model) or heliport.",
            rich_help_panel="Language ID",
        ),
    ] = LidBackend.auto,
    lid_model: Annotated[
        Optional[str],
        typer.Option(
            "--lid-model",
            help="fastText LID model file (GlotLID, OpenLID, lid.176.bin; label format detected, GlotLID gets FineWeb-2's per-language thresholds). Implies the fasttext backend.",
            rich_help_panel="Language ID",
        ),
    ] = None,
    lid_accept_macro: Annotated[
        bool,
        typer.Option(
            "--lid-accept-macro/--no-lid-accept-macro",
            help="Let a macrolanguage answer (heliport's hbs, msa) count as a member target (hr/bs/sr, ms/id); counted in the ledger.",
            rich_help_panel="Language ID",
        ),
    ] = False,
    lid_threshold: Annotated[
        Optional[float],
        typer.Option(
            "--lid-threshold",
            help="Minimum LID confidence for every language (default: each language's own threshold from langs/).",
            rich_help_panel="Language ID",
        ),
    ] = None,
    lid_top_k: Annotated[
        int,
        typer.Option(
            "--lid-top-k",
            help="Top LID labels and scores stored per document (lid_labels, lid_scores).",
            rich_help_panel="Language ID",
        ),
    ] = 3,
    script_check: Annotated[
        bool,
        typer.Option(
            "--script-check/--no-script-check",
            help="Reject documents whose writing system does not match the detected language (script_mismatch).",
            rich_help_panel="Language ID",
        ),
    ] = True,
    line_level_lid: Annotated[
        bool,
        typer.Option(
            "--line-level-lid/--doc-level-lid",
            help="Keep only the lines in a target language from mixed documents (the removed share is recorded).",
            rich_help_panel="Language ID",
        ),
    ] = False,
    gopher_quality: Annotated[
        bool,
        typer.Option(
            "--gopher-quality/--no-gopher-quality",
            help="Gopher quality rules (word counts, word length, symbols, bullets, ellipses, alphabetic words, stop words) with per-language thresholds.",
            rich_help_panel="Quality",
        ),
    ] = True,
    gopher_repetition: Annotated[
        bool,
        typer.Option(
            "--gopher-repetition/--no-gopher-repetition",
            help="Gopher repetition rules (duplicated lines, paragraphs and n-grams).",
            rich_help_panel="Quality",
        ),
    ] = True,
    fineweb_quality: Annotated[
        bool,
        typer.Option(
            "--fineweb-quality/--no-fineweb-quality",
            help="FineWeb quality rules (line punctuation, short lines, duplicated characters, newlines).",
            rich_help_panel="Quality",
        ),
    ] = True,
    c4_quality: Annotated[
        Optional[bool],
        typer.Option(
            "--c4-quality/--no-c4-quality",
            help="C4 rules (terminal punctuation, javascript, lorem ipsum, curly braces). Default: English only, as FineWeb-2 found they hurt other languages.",
            rich_help_panel="Quality",
        ),
    ] = None,
    dedup: Annotated[
        bool,
        typer.Option(
            "--dedup/--no-dedup",
            help="Global deduplication across all inputs (exact and MinHash near-duplicates).",
            rich_help_panel="Dedup",
        ),
    ] = True,
    exact_dedup: Annotated[
        bool,
        typer.Option(
            "--exact-dedup/--no-exact-dedup",
            help="Remove documents whose normalised text is identical.",
            rich_help_panel="Dedup",
        ),
    ] = True,
    near_dedup: Annotated[
        bool,
        typer.Option(
            "--near-dedup/--no-near-dedup",
            help="Remove MinHash LSH near-duplicates (clusters by connected components, first document kept).",
            rich_help_panel="Dedup",
        ),
    ] = True,
    dedup_ngram: Annotated[
        int, typer.Option("--dedup-ngram", help="Word n-gram size of the MinHash shingles.", rich_help_panel="Dedup")
    ] = 5,
    dedup_bands: Annotated[
        int,
        typer.Option(
            "--dedup-bands", help="LSH bands (more bands: higher recall at lower similarity).", rich_help_panel="Dedup"
        ),
    ] = 14,
    dedup_rows: Annotated[
        int,
        typer.Option("--dedup-rows", help="MinHash values per band (more rows: stricter).", rich_help_panel="Dedup"),
    ] = 8,
    dedup_seed: Annotated[
        int, typer.Option("--dedup-seed", help="Seed of the MinHash permutations.", rich_help_panel="Dedup")
    ] = 1,
    rehydrate: Annotated[
        bool,
        typer.Option(
            "--rehydrate/--no-rehydrate",
            help="Store FineWeb-2-style rehydration weights (from cluster sizes) on kept documents.",
            rich_help_panel="Dedup",
        ),
    ] = False,
    pii: Annotated[
        bool,
        typer.Option(
            "--pii/--no-pii",
            help="Replace e-mail addresses, IP addresses and phone numbers by placeholders (counts in the ledger).",
            rich_help_panel="Quality",
        ),
    ] = True,
    recipe: RecipeOpt = None,
    overwrite: OverwriteOpt = False,
    ray_address: RayAddressOpt = None,
    num_cpus: NumCpusOpt = None,
    num_gpus: NumGpusOpt = None,
    progress: ProgressOpt = True,
    log_level: LogLevelOpt = LogLevel.warning,
) -> None:
    """Build a clean, deduplicated corpus in the target language(s) from raw web text.

    Stages: extract HTML (WARC) -> validate -> normalize -> language ID -> Gopher /
    FineWeb / C4 quality filters -> exact + MinHash dedup (global) -> PII scrub.  Kept
    documents go to data/<lang>/, every dropped one to rejected/ with its drop_reason.
    """
    v = apply_recipe(ctx, recipe, {k: val for k, val in locals().items() if k != "ctx"})
    setup_logging(LogLevel(_enum_value(v["log_level"])))
    _need(v, "corpus")
    from babelmill.pipelines.jobs import CorpusOptions, corpus_job

    fields = {f.name for f in dataclasses.fields(CorpusOptions)}
    v["lid_backend"] = _enum_value(v["lid_backend"])
    options = CorpusOptions(**{k: v[k] for k in fields if k in v and k != "langs"}, langs=_split_codes(v["lang"]))
    ex = _extract_options(v)
    options.extractor, options.url_blocklist, options.url_block_words = (
        ex.extractor,
        ex.url_blocklist,
        ex.url_block_words,
    )
    job = corpus_job(
        inputs=list(v["input"]),
        output=storage.location(v["output"]),
        options=options,
        reader=_reader(v),
        input_format=_enum_value(v["format"]),
        output_format=_enum_value(v["output_format"]),
        command=_command_line(),
    )
    engine = EngineOptions(ray_address=v["ray_address"], num_cpus=v["num_cpus"], num_gpus=v["num_gpus"])
    execute(job, engine, bool(v["overwrite"]), bool(v["progress"]))


instruct_app = typer.Typer(
    help="Synthetic instruction data: translate instruction datasets (Alpaca, ShareGPT, OpenAI messages) with CTranslate2.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(instruct_app, name="instruct")


class InstructionFormat(str, enum.Enum):
    auto = "auto"
    alpaca = "alpaca"
    sharegpt = "sharegpt"
    messages = "messages"


class Device(str, enum.Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class ComputeType(str, enum.Enum):
    default = "default"
    int8 = "int8"
    int8_float16 = "int8_float16"
    int8_float32 = "int8_float32"
    float16 = "float16"
    bfloat16 = "bfloat16"
    float32 = "float32"


class Quantization(str, enum.Enum):
    int8 = "int8"
    int8_float16 = "int8_float16"
    float16 = "float16"
    float32 = "float32"


@instruct_app.command("translate")
@user_errors
def instruct_translate(
    ctx: typer.Context,
    input: InputOpt = None,
    output: OutputOpt = None,
    instruction_format: Annotated[
        InstructionFormat,
        typer.Option(
            "--instruction-format",
            help="Instruction format of the input records: alpaca (instruction/input/output), sharegpt (conversations of from/value), messages (role/content); auto detects it per record.",
            rich_help_panel="Input",
        ),
    ] = InstructionFormat.auto,
    src: Annotated[
        str,
        typer.Option(
            "--src",
            help="Language of the input dataset (any code or name; see `babelmill langs`).",
            rich_help_panel="Input",
        ),
    ] = "en",
    tgt: Annotated[
        Optional[list[str]],
        typer.Option(
            "--tgt",
            help="Target language(s), comma-separated or repeated; one output row per record and target.",
            rich_help_panel="Output",
        ),
    ] = None,
    model: Annotated[
        Optional[str],
        typer.Option(
            "--model",
            "-m",
            help="Translation model: a CTranslate2 directory, a local Hugging Face model directory (converted once and cached), or a hub id such as facebook/nllb-200-distilled-600M (used from the local cache; downloaded only with --allow-download).",
            rich_help_panel="Model",
        ),
    ] = None,
    device: Annotated[
        Device,
        typer.Option(
            "--device",
            help="Where to translate: cuda (one Ray actor per GPU), cpu, or auto (cuda when a GPU is visible).",
            rich_help_panel="Model",
        ),
    ] = Device.auto,
    compute_type: Annotated[
        ComputeType,
        typer.Option(
            "--compute-type",
            help="CTranslate2 compute type; default: int8 on CPU, float16 on CUDA.",
            rich_help_panel="Model",
        ),
    ] = ComputeType.default,
    quantization: Annotated[
        Quantization,
        typer.Option(
            "--quantization",
            help="Weight type written when a Hugging Face model is converted to CTranslate2.",
            rich_help_panel="Model",
        ),
    ] = Quantization.int8,
    beam_size: Annotated[
        int, typer.Option("--beam-size", help="Beam width (1: greedy, fastest).", rich_help_panel="Decoding")
    ] = 1,
    max_batch_tokens: Annotated[
        int,
        typer.Option(
            "--max-batch-tokens",
            help="Tokens per batch; segments are sorted by length and batched by tokens.",
            rich_help_panel="Decoding",
        ),
    ] = 2048,
    inter_threads: Annotated[
        int,
        typer.Option("--inter-threads", help="Batches translated in parallel per worker.", rich_help_panel="Decoding"),
    ] = 1,
    intra_threads: Annotated[
        int,
        typer.Option(
            "--intra-threads",
            help="Threads per batch on CPU (0: all CPUs of the embedded Ray / CTranslate2's default).",
            rich_help_panel="Decoding",
        ),
    ] = 0,
    repetition_penalty: Annotated[
        float,
        typer.Option(
            "--repetition-penalty",
            help="Penalty on tokens already generated (>1 discourages loops).",
            rich_help_panel="Decoding",
        ),
    ] = 1.0,
    no_repeat_ngram_size: Annotated[
        int,
        typer.Option(
            "--no-repeat-ngram-size",
            help="Forbid repeating any n-gram of this size in an output (0: off).",
            rich_help_panel="Decoding",
        ),
    ] = 0,
    max_length_ratio: Annotated[
        float,
        typer.Option(
            "--max-length-ratio",
            help="Cap on output length: this many times the longest input's tokens, plus 10.",
            rich_help_panel="Decoding",
        ),
    ] = 2.0,
    cache_size: Annotated[
        int,
        typer.Option(
            "--cache-size",
            help="Segments remembered per worker; identical segments are translated once (0: off).",
            rich_help_panel="Decoding",
        ),
    ] = 100_000,
    model_cache_dir: Annotated[
        Optional[str],
        typer.Option(
            "--model-cache-dir",
            help="Where converted models are cached (default ~/.cache/babelmill/ct2).",
            rich_help_panel="Model",
        ),
    ] = None,
    allow_download: Annotated[
        bool,
        typer.Option(
            "--allow-download/--no-download",
            help="Download and convert hub models when they are not in the local cache.",
            rich_help_panel="Model",
        ),
    ] = False,
    roles: Annotated[
        Optional[list[str]],
        typer.Option(
            "--roles",
            help="Roles to translate, comma-separated (system, user, assistant; ShareGPT names like human/gpt work too). Default: all.",
            rich_help_panel="Input",
        ),
    ] = None,
    fields: Annotated[
        Optional[list[str]],
        typer.Option(
            "--fields",
            help="Alpaca fields to translate, comma-separated (instruction, input, output). Default: all.",
            rich_help_panel="Input",
        ),
    ] = None,
    skip_checks: Annotated[
        Optional[list[str]],
        typer.Option(
            "--skip-check",
            help="Output checks to turn off: wrong_language, length_ratio, repetition_loop, untranslated, lost_placeholder.",
            rich_help_panel="Quality",
        ),
    ] = None,
    input_format: Annotated[
        InputFormat,
        typer.Option(
            "--input-format",
            help="File format of the inputs; 'auto' goes by extension ('hf' reads a local Hugging Face dataset).",
            rich_help_panel="Input",
        ),
    ] = InputFormat.auto,
    id_field: IdFieldOpt = "id",
    hf_split: HfSplitOpt = "train",
    max_record_bytes: MaxBytesOpt = DEFAULT_MAX_RECORD_BYTES,
    output_format: OutFormatOpt = OutputFormat.parquet,
    recipe: RecipeOpt = None,
    overwrite: OverwriteOpt = False,
    ray_address: RayAddressOpt = None,
    num_cpus: NumCpusOpt = None,
    num_gpus: NumGpusOpt = None,
    progress: ProgressOpt = True,
    log_level: LogLevelOpt = LogLevel.warning,
) -> None:
    """Translate an instruction dataset into one or many target languages.

    Code, URLs, placeholders, markup and Markdown structure are kept verbatim; each
    output is checked (language, length ratio, repetition loops, untranslated copies,
    lost placeholders) and rows that fail go to rejected/ with the reason.  Output:
    data/<tgt_lang>/ with `messages` plus the record in its original format.
    """
    v = apply_recipe(ctx, recipe, {k: val for k, val in locals().items() if k != "ctx"})
    setup_logging(LogLevel(_enum_value(v["log_level"])))
    _need(v, "instruct translate")
    targets = _split_codes(v["tgt"])
    if not targets:
        raise BabelmillError("instruct translate needs --tgt LANG[,LANG...]")
    if not v["model"]:
        raise BabelmillError(
            "instruct translate needs --model (a CTranslate2 or Hugging Face model directory, or a hub id in the local cache)"
        )
    from babelmill.pipelines.jobs import instruct_translate_job
    from babelmill.processors.translate.engine import CTranslate2Spec, resolve_device

    intra = int(v["intra_threads"])
    dev = resolve_device(_enum_value(v["device"]))
    if intra == 0 and dev == "cpu":
        intra = int(v["num_cpus"] or os.cpu_count() or 1)
    spec = CTranslate2Spec(
        model=str(v["model"]),
        device=dev,
        compute_type=_enum_value(v["compute_type"]),
        quantization=_enum_value(v["quantization"]),
        inter_threads=int(v["inter_threads"]),
        intra_threads=intra,
        beam_size=int(v["beam_size"]),
        max_batch_tokens=int(v["max_batch_tokens"]),
        repetition_penalty=float(v["repetition_penalty"]),
        no_repeat_ngram_size=int(v["no_repeat_ngram_size"]),
        max_length_ratio=float(v["max_length_ratio"]),
        cache_size=int(v["cache_size"]),
        cache_dir=v["model_cache_dir"],
        allow_download=bool(v["allow_download"]),
    )
    # Resolve (and convert) the model once here: a missing model is one line now, not a
    # failure in every worker, and workers find the converted copy in the cache.
    from babelmill.processors.translate.models import resolve_model

    resolved = resolve_model(
        spec.model, quantization=spec.quantization, cache_dir=spec.cache_dir, allow_download=spec.allow_download
    )
    for code in targets:  # an unsupported pair is one line now, not every row quarantined later
        resolved.plan(v["src"], code)
    job = instruct_translate_job(
        inputs=list(v["input"]),
        output=storage.location(v["output"]),
        spec=spec,
        targets=targets,
        src=v["src"],
        instruction_format=_enum_value(v["instruction_format"]),
        roles=_split_codes(v["roles"]) or None,
        fields=_split_codes(v["fields"]) or None,
        skip_checks=_split_codes(v["skip_checks"]),
        reader=ReaderOptions(
            id_field=v["id_field"], max_record_bytes=int(v["max_record_bytes"]), hf_split=v["hf_split"]
        ),
        input_format=_enum_value(v["input_format"]),
        output_format=_enum_value(v["output_format"]),
        command=_command_line(),
    )
    engine = EngineOptions(ray_address=v["ray_address"], num_cpus=v["num_cpus"], num_gpus=v["num_gpus"])
    execute(job, engine, bool(v["overwrite"]), bool(v["progress"]))


@app.command("langs")
@user_errors
def langs_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the profiles as JSON (one object per language) instead of a table.")
    ] = False,
    lang: Annotated[Optional[str], typer.Argument(help="Show one language (any code or name) instead of all.")] = None,
) -> None:
    """List the language profiles: codes, script, LID labels, tokenizer, thresholds."""
    import babelmill.langs as langs_mod

    rows = langs_mod.table_rows()
    if lang:
        code = langs_mod.get(lang).code
        rows = [r for r in rows if r["code"] == code]
    if as_json:
        import orjson

        out.print_json(orjson.dumps(rows).decode())
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} languages", show_lines=False)
    keys = list(rows[0]) if rows else []
    for key in keys:
        table.add_column(key)
    for r in rows:
        table.add_row(*["" if r[k] is None else str(r[k]) for k in keys])
    out.print(table)
    if lang:
        _print_lid_coverage(code)


def _print_lid_coverage(code: str) -> None:
    """Which LID model names the language how, and how well (langs/lid_coverage.tsv)."""
    from rich.table import Table

    from babelmill.langs import coverage

    cov = coverage.get(code)
    best, _ = cov.best()
    table = Table(title=f"LID coverage of {code} (FLORES-200 devtest {cov.flores or 'n/a'})")
    for col in ("backend", "label", "FLORES-200 accuracy", "auto"):
        table.add_column(col)
    for family in coverage.FAMILIES:
        acc = cov.accuracy.get(family)
        shipped = family in coverage.SHIPPED
        measured = f"{acc:.3f}" if acc is not None else ("-" if shipped else "not shipped (--lid-model)")
        table.add_row(family, cov.labels.get(family, "(none)"), measured, "decides" if family == best else "")
    if cov.auto_accuracy is not None:
        table.add_row("auto (both + rules)", "-", f"{cov.auto_accuracy:.3f}", "--lid auto")
    out.print(table)
    if not cov.well_covered():
        out.print(f"[yellow]{coverage.uncovered_message([code])}[/yellow]")


@app.command()
@user_errors
def sample(
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write the sample input into.")] = Path(
        "babelmill-sample"
    ),
    docs: Annotated[int, typer.Option("--docs", help="Documents per language.")] = 200,
    files: Annotated[int, typer.Option("--files", help="JSONL files to spread the documents over.")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same files.")] = 0,
    malformed: Annotated[
        bool,
        typer.Option(
            "--malformed/--clean",
            help="Include malformed records (bad JSON, invalid UTF-8, missing text) to show quarantine at work.",
        ),
    ] = True,
) -> None:
    """Generate a small multilingual JSONL corpus (with duplicates and some broken records)."""
    from babelmill.sample import write_sample

    paths = write_sample(output, docs_per_lang=docs, files=files, seed=seed, malformed=malformed)
    out.print(f"wrote {len(paths)} files to {output}")


@app.command()
@user_errors
def demo(
    workdir: Annotated[
        Path, typer.Option("--workdir", help="Where the sample input and the output go (replaced on every run).")
    ] = Path("babelmill-demo"),
    docs: Annotated[int, typer.Option("--docs", help="Generated documents per language.")] = 200,
    num_cpus: NumCpusOpt = None,
    progress: ProgressOpt = True,
) -> None:
    """Generate a sample web crawl and run the corpus job on it end to end with built-in
    defaults: shipped LID model, every filter, global dedup, PII scrubbing, embedded Ray."""
    setup_logging(LogLevel.warning)
    from babelmill.pipelines.jobs import CorpusOptions, corpus_job
    from babelmill.sample import write_sample

    inputs = workdir / "input"
    write_sample(inputs, docs_per_lang=docs, files=4, seed=0, malformed=True)
    job = corpus_job(inputs=[str(inputs)], output=workdir / "output", options=CorpusOptions(), command=_command_line())
    execute(job, EngineOptions(num_cpus=num_cpus), overwrite=True, progress=progress)


@app.callback(invoke_without_command=True)
def main_callback(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """babelmill: corpus building, synthetic instruction data and label projection for any language."""
    if version:
        out.print(f"babelmill {__version__}")
        raise typer.Exit()


def main() -> None:
    """Console entry point.

    A usage error (unknown option, bad value, missing argument) is one line on stderr with
    exit code 2, like every other error the user can fix, not click's usage block.
    """
    _readable_help(app)
    try:
        from typer._click.exceptions import ClickException  # typer vendors click from 0.2x on
    except ImportError:  # pragma: no cover - older typer on real click
        from click.exceptions import ClickException  # type: ignore[no-redef]
    try:
        code = app(standalone_mode=False)
    except ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.exit(2)  # typer has printed the help already
        where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = " ".join(exc.format_message().split())
        console.print(f"[red]error:[/red] {escape(message)}{escape(where)}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        console.print("interrupted; rerun the same command to resume")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


# ----------------------------------------------------------------- babelmill stages


@app.command("stages")
@user_errors
def stages_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the stages as JSON (one object per stage) instead of a table.")
    ] = False,
) -> None:
    """List every stage: name, class, module, the drop reasons it declares, its resources."""
    from babelmill.processors.catalog import describe, stage_classes

    rows = [describe(cls) for cls in stage_classes()]
    if as_json:
        import orjson

        out.print_json(orjson.dumps(rows).decode())
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} stages")
    for key in ("name", "class", "module", "kind", "reasons", "resources"):
        table.add_column(key, overflow="fold")
    for r in rows:
        res = r["resources"]
        used = (
            f"{res['num_cpus']:g} CPU"
            + (f", {res['num_gpus']:g} GPU" if res["num_gpus"] else "")
            + (f", {res['memory'] / 2**30:g} GiB" if res["memory"] else "")
        )
        table.add_row(
            r["name"],
            r["class"],
            r["module"].removeprefix("babelmill."),
            r["kind"],
            ", ".join(r["reasons"]) or "-",
            used,
        )
    out.print(table)


# ----------------------------------------------------------------- project / align evaluation

project_app = typer.Typer(
    cls=ReadableHelpGroup,
    help="Label projection: NER data in a new language from annotated source sentences, and its evaluation.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(project_app, name="project")
align_app = typer.Typer(
    help="Word alignment tools: evaluate an alignment against gold links.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(align_app, name="align")


class NerFormat(str, enum.Enum):
    auto = "auto"
    conll = "conll"
    jsonl = "jsonl"
    parquet = "parquet"
    hf = "hf"


class TagScheme(str, enum.Enum):
    auto = "auto"
    iob1 = "iob1"
    iob2 = "iob2"
    bioes = "bioes"
    io = "io"


def _read_tags(path: str, fmt: NerFormat, scheme: TagScheme, what: str) -> tuple[list[list[str]], list[list[str]]]:
    """Tokens and IOB2 tags of every sentence of an NER file or directory, in order."""
    from babelmill.processors.ner.options import NerOptions
    from babelmill.processors.ner.readers import read_ner
    from babelmill.processors.ner.schemes import detect_scheme, to_iob2

    if not Path(path).exists():
        raise BabelmillError(f"--{what} {path} does not exist")
    kind = fmt.value
    try:
        table, bad = read_ner([path], ReaderOptions(ner=NerOptions(max_tokens=1_000_000)), fmt=kind)
    except ValueError as exc:
        raise BabelmillError(f"--{what} {path}: {exc}") from None
    if bad:
        raise BabelmillError(
            f"--{what} {path}: {len(bad)} malformed sentence(s), first: record {bad[0].record}: {bad[0].error}"
        )
    tokens = table.column("tokens").to_pylist()
    tags = table.column("tags").to_pylist()
    if scheme != TagScheme.iob2:
        chosen = detect_scheme(tags) if scheme == TagScheme.auto else scheme.value
        try:
            tags = [to_iob2(t, chosen)[0] for t in tags]
        except ValueError as exc:
            raise BabelmillError(f"--{what} {path}: {exc}") from None
    return tokens, tags


def _type_map(values: list[str] | None) -> dict[str, str]:
    mapping = {}
    for item in values or []:
        for pair in item.split(","):
            src, sep, dst = pair.partition("=")
            if not sep or not src.strip() or not dst.strip():
                raise BabelmillError(f"--map {pair!r}: write OLD=NEW, e.g. --map ORG=ORGANIZATION")
            mapping[src.strip()] = dst.strip()
    return mapping


@project_app.command("eval")
@user_errors
def project_eval(
    pred: Annotated[
        str,
        typer.Option(
            "--pred", help="Predicted (projected) NER data: CoNLL, JSONL, Parquet or HF dataset; a file or a directory."
        ),
    ],
    gold: Annotated[str, typer.Option("--gold", help="Gold NER data, the same sentences in the same order.")],
    drop_types: Annotated[
        Optional[list[str]],
        typer.Option(
            "--drop-types", help="Entity types to leave out on both sides (comma-separated or repeated), e.g. MISC."
        ),
    ] = None,
    map_types: Annotated[
        Optional[list[str]],
        typer.Option("--map", help="Rename a type before scoring, OLD=NEW (repeatable), e.g. ORG=ORGANIZATION."),
    ] = None,
    scheme: Annotated[
        TagScheme,
        typer.Option(
            "--scheme",
            help="Tag scheme of both inputs; iob2 scores them as written (seqeval strict), others convert to IOB2 first.",
        ),
    ] = TagScheme.iob2,
    format: Annotated[
        NerFormat, typer.Option("--format", help="Input format of both; 'auto' goes by file extension.")
    ] = NerFormat.auto,
    by_position: Annotated[
        bool,
        typer.Option(
            "--by-position",
            help="Score sentences whose tokens differ between the inputs by position instead of refusing them.",
        ),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Entity-level precision, recall and F1 (seqeval strict IOB2), per type and micro."""
    import json as _json

    from babelmill.processors.evaluate.ner import entity_scores, format_table

    p_tokens, p_tags = _read_tags(pred, format, scheme, "pred")
    g_tokens, g_tags = _read_tags(gold, format, scheme, "gold")
    if len(p_tags) != len(g_tags):
        raise BabelmillError(
            f"--pred has {len(p_tags)} sentences but --gold has {len(g_tags)}; they must be the same sentences in the same order"
        )
    if not by_position:
        for i, (a, b) in enumerate(zip(p_tokens, g_tokens)):
            if a != b:
                raise BabelmillError(
                    f"sentence {i}: tokens differ between --pred and --gold ({len(a)} vs {len(b)} tokens); pass --by-position to score them anyway"
                )
    try:
        scores = entity_scores(p_tags, g_tags, _type_map(map_types), _split_codes(drop_types))
    except ValueError as exc:
        raise BabelmillError(str(exc)) from None
    if json_out:
        out.print_json(_json.dumps(scores.to_dict()))
    else:
        out.print(format_table(scores), highlight=False)


@align_app.command("eval")
@user_errors
def align_eval(
    pred: Annotated[
        Path,
        typer.Option("--pred", help="Predicted alignment, Pharaoh format (i-j per link, one line per sentence pair)."),
    ],
    gold: Annotated[
        Path, typer.Option("--gold", help="Gold alignment, Pharaoh format: i-j sure, i?j or ipj possible.")
    ],
    one_based: Annotated[
        bool, typer.Option("--one-based", help="The gold file counts words from 1 (several published gold sets do).")
    ] = False,
    pred_one_based: Annotated[
        bool, typer.Option("--pred-one-based", help="The predicted file counts words from 1.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Alignment error rate (AER), precision and recall against gold links."""
    import json as _json

    from babelmill.processors.evaluate.alignment import alignment_scores, parse_pharaoh

    parsed = {}
    for name, path, based in (("pred", pred, pred_one_based), ("gold", gold, one_based)):
        if not path.is_file():
            raise BabelmillError(f"--{name} {path} is not a file")
        try:
            parsed[name] = parse_pharaoh(path.read_text(encoding="utf-8").splitlines(), based)
        except ValueError as exc:
            raise BabelmillError(f"--{name} {path}: {exc}") from None
    try:
        scores = alignment_scores([possible for _, possible in parsed["pred"]], parsed["gold"])
    except ValueError as exc:
        raise BabelmillError(str(exc)) from None
    if json_out:
        out.print_json(_json.dumps(scores.to_dict()))
    else:
        out.print(
            f"AER {scores.aer * 100:.2f}  precision {scores.precision * 100:.2f}  recall {scores.recall * 100:.2f}  ({scores.sentences} sentences, {scores.predicted} predicted links, {scores.sure} sure gold links)",
            highlight=False,
        )


# ----------------------------------------------------------------- code-switching and interleaving (issue 9)


class CodeSwitchMode(str, enum.Enum):
    dictionary = "dictionary"
    align = "align"
    translate = "translate"
    xicl = "xicl"
    xcot = "xcot"


class SwitchUnit(str, enum.Enum):
    word = "word"
    phrase = "phrase"


class InterleaveMode(str, enum.Enum):
    interlinear = "interlinear"
    alternate = "alternate"
    pack = "pack"
    translation_instructions = "translation-instructions"


class AlignUnit(str, enum.Enum):
    sentence = "sentence"
    paragraph = "paragraph"


class InterlinearOrder(str, enum.Enum):
    src_tgt = "src-tgt"
    tgt_src = "tgt-src"
    alternate = "alternate"


class AskSide(str, enum.Enum):
    src = "src"
    tgt = "tgt"


MosesOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--moses", help="Moses file pair PREFIX.SRC / PREFIX.TGT (line-aligned); repeat for several. Replaces --input."
    ),
]
ParallelInputOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--input",
        "-i",
        help="Parallel input: JSONL/Parquet with src/tgt, a translation dataset, instruct translate output, or TSV (src<TAB>tgt[<TAB>alignment]); repeat for several.",
    ),
]
TemplatesOpt = Annotated[
    Optional[Path],
    typer.Option("--templates", help="YAML of per-language instruction templates, overriding langs/templates.yaml."),
]


def _bilingual_inputs(
    v: dict[str, Any], src: str, tgt: str, command: str
) -> tuple[list[str], dict[str, tuple[str, str]], str]:
    """Inputs, the Moses source-name -> target-file map and the input format, checked
    before Ray starts (unaligned Moses pairs are one line here)."""
    from babelmill.processors.io.parallel import check_moses

    fmt = _enum_value(v["input_format"])
    inputs = list(v["input"] or [])
    moses: dict[str, tuple[str, str]] = {}
    if v["moses"]:
        if inputs:
            raise BabelmillError(f"{command}: pass either --input or --moses, not both")
        for prefix in v["moses"]:
            s, t = f"{prefix}.{src}", f"{prefix}.{tgt}"
            lost = check_moses({s: t})
            if lost:
                log.warning("--moses %s: %d line(s) blank in %s only; their target lines are skipped", prefix, lost, s)
            if os.path.basename(s) in moses:
                raise BabelmillError(f"--moses {prefix}: another pair has the same file name {os.path.basename(s)}")
            moses[os.path.basename(s)] = (s, t)
            inputs.append(s)
        fmt = "text"
    if not inputs:
        raise BabelmillError(f"{command} needs --input or --moses (or an 'input' key in --recipe)")
    if v["output"] is None:
        raise BabelmillError(f"{command} needs --output DIR")
    if fmt == "auto" and all(i.endswith((".tsv", ".tsv.gz", ".tsv.zst")) for i in inputs):
        fmt = "text"
    return inputs, moses, fmt


def _lexicon_map(values: list[str] | None, targets: list[str]) -> dict[str, str]:
    import babelmill.langs as langs_mod

    out: dict[str, str] = {}
    for item in values or []:
        lang, sep, path = str(item).partition("=")
        if not sep:
            if len(targets) != 1:
                raise BabelmillError(f"--lexicon {item}: with several targets, name the language: --lexicon LANG=FILE")
            lang, path = targets[0], str(item)
        code = langs_mod.get(lang).code
        if not os.path.isfile(path):
            raise BabelmillError(f"--lexicon {path} does not exist")
        out[code] = path
    return out


@instruct_app.command("codeswitch")
@user_errors
def instruct_codeswitch(
    ctx: typer.Context,
    input: ParallelInputOpt = None,
    output: OutputOpt = None,
    moses: MosesOpt = None,
    src: Annotated[str, typer.Option("--src", help="Source language (code or name).")] = "en",
    tgt: Annotated[
        Optional[list[str]],
        typer.Option("--tgt", help="Target language(s), comma-separated; several: each switched unit draws one."),
    ] = None,
    mode: Annotated[
        CodeSwitchMode,
        typer.Option(
            "--mode", help="dictionary, align (Pharaoh 'alignment' column), translate (MT), xicl or xcot prompts."
        ),
    ] = CodeSwitchMode.dictionary,
    ratio: Annotated[
        float,
        typer.Option("--ratio", help="Target share of switchable source words to switch (xicl: of demo sentences)."),
    ] = 0.3,
    unit: Annotated[
        SwitchUnit, typer.Option("--unit", help="Switch single words or multi-word phrases.")
    ] = SwitchUnit.word,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives byte-identical output.")] = 1,
    lexicon: Annotated[
        Optional[list[str]],
        typer.Option(
            "--lexicon", help="Bilingual lexicon (MUSE 'src tgt' lines or TSV); LANG=FILE per target; repeat."
        ),
    ] = None,
    induce_lexicon: Annotated[
        Optional[list[str]],
        typer.Option(
            "--induce-lexicon",
            help="Induce the lexicon from word-aligned pairs (JSONL src/tgt/alignment or TSV); LANG=FILE.",
        ),
    ] = None,
    match_stats: Annotated[
        Optional[Path],
        typer.Option("--match-stats", help="JSON of `codeswitch stats --json`: each row samples its ratio from it."),
    ] = None,
    max_phrase: Annotated[
        int, typer.Option("--max-phrase", help="Longest phrase (words) taken from an alignment.")
    ] = 4,
    shots: Annotated[int, typer.Option("--shots", help="xicl: demonstrations per prompt.")] = 3,
    ask: Annotated[
        AskSide, typer.Option("--ask", help="xcot: ask in the src language (answer in tgt) or the reverse.")
    ] = AskSide.src,
    templates: TemplatesOpt = None,
    drop_unswitched: Annotated[
        bool, typer.Option("--drop-unswitched/--keep-unswitched", help="Reject rows where nothing could be switched.")
    ] = False,
    model: Annotated[
        Optional[str],
        typer.Option("--model", "-m", help="translate mode: CTranslate2 or HF model directory, or a cached hub id."),
    ] = None,
    device: Annotated[Device, typer.Option("--device", help="translate mode: cuda, cpu or auto.")] = Device.auto,
    compute_type: Annotated[
        ComputeType, typer.Option("--compute-type", help="translate mode: CTranslate2 compute type.")
    ] = ComputeType.default,
    beam_size: Annotated[int, typer.Option("--beam-size", help="translate mode: beam width.")] = 1,
    max_batch_tokens: Annotated[
        int, typer.Option("--max-batch-tokens", help="translate mode: tokens per MT batch.")
    ] = 2048,
    cache_size: Annotated[
        int, typer.Option("--cache-size", help="translate mode: segments cached per worker.")
    ] = 100_000,
    model_cache_dir: Annotated[
        Optional[str], typer.Option("--model-cache-dir", help="Where converted models are cached.")
    ] = None,
    allow_download: Annotated[
        bool, typer.Option("--allow-download/--no-download", help="Download hub models not in the cache.")
    ] = False,
    input_format: Annotated[
        InputFormat, typer.Option("--input-format", help="File format; 'auto' by extension (.tsv: text).")
    ] = InputFormat.auto,
    id_field: IdFieldOpt = "id",
    hf_split: HfSplitOpt = "train",
    max_record_bytes: MaxBytesOpt = DEFAULT_MAX_RECORD_BYTES,
    output_format: OutFormatOpt = OutputFormat.parquet,
    recipe: RecipeOpt = None,
    overwrite: OverwriteOpt = False,
    ray_address: RayAddressOpt = None,
    num_cpus: NumCpusOpt = None,
    num_gpus: NumGpusOpt = None,
    progress: ProgressOpt = True,
    log_level: LogLevelOpt = LogLevel.warning,
) -> None:
    """Code-switched text and cross-lingual prompts from parallel or monolingual text.

    Each row keeps id/source_id, the switched text, the source text, ratio_target,
    ratio, the switched spans and CMI, M-index, I-index, switch points, burstiness.
    """
    v = apply_recipe(ctx, recipe, {k: val for k, val in locals().items() if k != "ctx"})
    setup_logging(LogLevel(_enum_value(v["log_level"])))
    import babelmill.langs as langs_mod

    m = _enum_value(v["mode"])
    src_code = langs_mod.get(v["src"]).code
    targets = [langs_mod.get(c).code for c in _split_codes(v["tgt"])]
    if not targets:
        raise BabelmillError("instruct codeswitch needs --tgt LANG[,LANG...]")
    if len(targets) > 1 and m not in ("dictionary", "translate"):
        raise BabelmillError(f"--mode {m} takes one --tgt; several targets work with dictionary and translate")
    if not 0.0 <= float(v["ratio"]) <= 1.0:
        raise BabelmillError(f"--ratio {v['ratio']} must be between 0 and 1")
    inputs, moses_map, fmt = _bilingual_inputs(v, src_code, targets[0], "instruct codeswitch")
    lexicons = _lexicon_map(v["lexicon"], targets)
    induce = _lexicon_map(v["induce_lexicon"], targets)
    if m == "dictionary":
        if not lexicons and not induce:
            raise BabelmillError(
                "--mode dictionary needs --lexicon FILE or --induce-lexicon FILE (LANG=FILE per target)"
            )
        from babelmill.processors.codeswitch.lexicon import Lexicon, induce_from_file

        for path in lexicons.values():
            Lexicon.from_file(path)  # a malformed lexicon is one line now
        for path in induce.values():
            if not len(induce_from_file(path)):
                raise BabelmillError(
                    f"--induce-lexicon {path}: no word pair is linked 1-1 at least twice; give more aligned data or a --lexicon"
                )
        missing = [t for t in targets if t not in lexicons and t not in induce]
        if missing:
            raise BabelmillError(f"no --lexicon for target(s) {', '.join(missing)}")
    density = None
    if v["match_stats"] is not None:
        from babelmill.processors.codeswitch.tagged import load_density

        density = load_density(v["match_stats"])
    spec = None
    if m == "translate":
        if not v["model"]:
            raise BabelmillError("--mode translate needs --model (a CTranslate2 or Hugging Face model directory)")
        from babelmill.processors.translate.engine import CTranslate2Spec, resolve_device
        from babelmill.processors.translate.models import resolve_model

        dev = resolve_device(_enum_value(v["device"]))
        spec = CTranslate2Spec(
            model=str(v["model"]),
            device=dev,
            compute_type=_enum_value(v["compute_type"]),
            intra_threads=int(v["num_cpus"] or os.cpu_count() or 1) if dev == "cpu" else 0,
            beam_size=int(v["beam_size"]),
            max_batch_tokens=int(v["max_batch_tokens"]),
            cache_size=int(v["cache_size"]),
            cache_dir=v["model_cache_dir"],
            allow_download=bool(v["allow_download"]),
        )
        resolved = resolve_model(
            spec.model, quantization=spec.quantization, cache_dir=spec.cache_dir, allow_download=spec.allow_download
        )
        for code in targets:
            resolved.plan(src_code, code)
    if v["templates"] is not None and not Path(v["templates"]).is_file():
        raise BabelmillError(f"--templates {v['templates']} does not exist")
    from babelmill.pipelines.jobs import codeswitch_job

    job = codeswitch_job(
        inputs=inputs,
        output=storage.location(v["output"]),
        mode=m,
        targets=targets,
        src=src_code,
        ratio=float(v["ratio"]),
        unit=_enum_value(v["unit"]),
        seed=int(v["seed"]),
        lexicons=lexicons,
        induce=induce,
        spec=spec,
        density=density,
        max_phrase=int(v["max_phrase"]),
        shots=int(v["shots"]),
        ask=_enum_value(v["ask"]),
        templates=None if v["templates"] is None else str(v["templates"]),
        drop_unswitched=bool(v["drop_unswitched"]),
        moses=moses_map,
        reader=ReaderOptions(
            id_field=v["id_field"], max_record_bytes=int(v["max_record_bytes"]), hf_split=v["hf_split"]
        ),
        input_format=fmt,
        output_format=_enum_value(v["output_format"]),
        command=_command_line(),
    )
    engine = EngineOptions(ray_address=v["ray_address"], num_cpus=v["num_cpus"], num_gpus=v["num_gpus"])
    execute(job, engine, bool(v["overwrite"]), bool(v["progress"]))


@instruct_app.command("interleave")
@user_errors
def instruct_interleave(
    ctx: typer.Context,
    input: ParallelInputOpt = None,
    output: OutputOpt = None,
    moses: MosesOpt = None,
    src: Annotated[str, typer.Option("--src", help="Source language (code or name).")] = "en",
    tgt: Annotated[Optional[str], typer.Option("--tgt", help="Target language (code or name).")] = None,
    mode: Annotated[
        InterleaveMode, typer.Option("--mode", help="interlinear, alternate, pack or translation-instructions.")
    ] = InterleaveMode.interlinear,
    unit: Annotated[
        AlignUnit, typer.Option("--unit", help="Aligned unit: sentence or paragraph.")
    ] = AlignUnit.sentence,
    order: Annotated[
        InterlinearOrder, typer.Option("--order", help="interlinear: src-tgt, tgt-src or alternate.")
    ] = InterlinearOrder.src_tgt,
    sep: Annotated[str, typer.Option("--sep", help="Separator between parts (escapes like \\n are read).")] = "\\n",
    tokenizer: Annotated[
        Optional[str],
        typer.Option("--tokenizer", help="pack: local HF tokenizer directory or a tiktoken encoding name."),
    ] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="pack: tokens per context.")] = 2048,
    overlap: Annotated[int, typer.Option("--overlap", help="pack: units shared by neighbouring windows.")] = 1,
    template_lang: Annotated[
        Optional[str],
        typer.Option(
            "--template-lang", help="translation-instructions: language of the instruction (default: source)."
        ),
    ] = None,
    templates: TemplatesOpt = None,
    reverse: Annotated[
        bool, typer.Option("--reverse/--no-reverse", help="translation-instructions: also emit tgt-to-src rows.")
    ] = False,
    input_format: Annotated[
        InputFormat, typer.Option("--input-format", help="File format; 'auto' by extension (.tsv: text).")
    ] = InputFormat.auto,
    id_field: IdFieldOpt = "id",
    hf_split: HfSplitOpt = "train",
    max_record_bytes: MaxBytesOpt = DEFAULT_MAX_RECORD_BYTES,
    output_format: OutFormatOpt = OutputFormat.parquet,
    recipe: RecipeOpt = None,
    overwrite: OverwriteOpt = False,
    ray_address: RayAddressOpt = None,
    num_cpus: NumCpusOpt = None,
    num_gpus: NumGpusOpt = None,
    progress: ProgressOpt = True,
    log_level: LogLevelOpt = LogLevel.warning,
) -> None:
    """Interleaved bilingual documents from parallel text.

    interlinear and alternate need aligned units (unequal counts are rejected); pack
    fits a document and its translation into --max-tokens, cutting long pairs into
    overlapping aligned windows that cover every unit.
    """
    v = apply_recipe(ctx, recipe, {k: val for k, val in locals().items() if k != "ctx"})
    setup_logging(LogLevel(_enum_value(v["log_level"])))
    import babelmill.langs as langs_mod

    if not v["tgt"]:
        raise BabelmillError("instruct interleave needs --tgt LANG")
    src_code, tgt_code = langs_mod.get(v["src"]).code, langs_mod.get(v["tgt"]).code
    inputs, moses_map, fmt = _bilingual_inputs(v, src_code, tgt_code, "instruct interleave")
    m = _enum_value(v["mode"])
    if m == "pack":
        if not v["tokenizer"]:
            raise BabelmillError(
                "--mode pack needs --tokenizer (a local HF tokenizer directory or a tiktoken encoding name)"
            )
        if int(v["max_tokens"]) < 1 or int(v["overlap"]) < 0:
            raise BabelmillError("--max-tokens must be >= 1 and --overlap >= 0")
        from babelmill.processors.interleave.tokens import TokenCounter

        TokenCounter(str(v["tokenizer"])).load()  # a bad tokenizer is one line now
    if v["templates"] is not None and not Path(v["templates"]).is_file():
        raise BabelmillError(f"--templates {v['templates']} does not exist")
    from babelmill.pipelines.jobs import interleave_job

    job = interleave_job(
        inputs=inputs,
        output=storage.location(v["output"]),
        mode=m,
        src=src_code,
        tgt=tgt_code,
        unit=_enum_value(v["unit"]),
        order=_enum_value(v["order"]),
        sep=str(v["sep"]).replace("\\n", "\n").replace("\\t", "\t"),
        tokenizer=None if v["tokenizer"] is None else str(v["tokenizer"]),
        max_tokens=int(v["max_tokens"]),
        overlap=int(v["overlap"]),
        template_lang=None if not v["template_lang"] else langs_mod.get(v["template_lang"]).code,
        templates=None if v["templates"] is None else str(v["templates"]),
        reverse=bool(v["reverse"]),
        moses=moses_map,
        reader=ReaderOptions(
            id_field=v["id_field"], max_record_bytes=int(v["max_record_bytes"]), hf_split=v["hf_split"]
        ),
        input_format=fmt,
        output_format=_enum_value(v["output_format"]),
        command=_command_line(),
    )
    engine = EngineOptions(ray_address=v["ray_address"], num_cpus=v["num_cpus"], num_gpus=v["num_gpus"])
    execute(job, engine, bool(v["overwrite"]), bool(v["progress"]))


codeswitch_app = typer.Typer(
    help="Measure code-mixed text: CMI, M-index, I-index, switch points, burstiness.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(codeswitch_app, name="codeswitch")


@codeswitch_app.command("stats")
@user_errors
def codeswitch_stats(
    file: Annotated[
        Path,
        typer.Argument(
            help="word/lang tokens per line, JSONL with tokens + langs, or CoNLL token<TAB>label lines (blank line between utterances)."
        ),
    ],
    independent: Annotated[
        Optional[list[str]],
        typer.Option(
            "--independent",
            help="Language-independent labels, comma-separated (default: univ,ne,undef,mixed,other,...).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (input of --match-stats).")] = False,
    lid: Annotated[bool, typer.Option("--lid/--no-lid", help="Untagged text: label words with fastText LID.")] = False,
    lid_model: Annotated[Optional[str], typer.Option("--lid-model", help="fastText LID model for --lid.")] = None,
    lid_langs: Annotated[
        Optional[list[str]], typer.Option("--lid-langs", help="--lid: allowed languages, comma-separated.")
    ] = None,
) -> None:
    """Code-mixing metrics of language-tagged text (compare synthetic with natural)."""
    from babelmill.processors.codeswitch.metrics import DEFAULT_INDEPENDENT
    from babelmill.processors.codeswitch.tagged import measure, read_tagged, tag_words

    indep = [x.lower() for x in _split_codes(independent)] or sorted(DEFAULT_INDEPENDENT)
    if lid:
        if not file.is_file():
            raise BabelmillError(f"{file} does not exist")
        import babelmill.langs as langs_mod

        lines = [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        utts = tag_words(lines, lid_model, [langs_mod.get(c).code for c in _split_codes(lid_langs)] or None)
    else:
        utts = list(read_tagged(file))
    result = measure(utts, indep)
    if as_json:
        import orjson

        sys.stdout.write(orjson.dumps(result).decode() + "\n")
        return
    from rich.table import Table

    table = Table(title=f"{file.name}: {result['utterances']:,} utterances")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in (
        "utterances",
        "tokens",
        "independent_tokens",
        "mixed_utterances",
        "cmi_mean",
        "cmi_mean_mixed",
        "cmi_2016_mean",
        "m_index",
        "i_index",
        "switch_points_mean",
        "burstiness",
        "span_mean",
    ):
        val = result[key]
        table.add_row(key, f"{val:,.3f}" if isinstance(val, float) else f"{val:,}")
    table.add_row("languages", ", ".join(f"{k} {n:,}" for k, n in result["languages"].items()))
    out.print(table)


# ----------------------------------------------------------------- project (the job)


class ProjectMethod(str, enum.Enum):
    markers = "markers"
    align = "align"
    score = "score"
    parallel = "parallel"


class AlignerName(str, enum.Enum):
    eflomal = "eflomal"
    simalign = "simalign"
    attention = "attention"


class Symmetrize(str, enum.Enum):
    intersection = "intersection"
    grow_diag_final_and = "grow-diag-final-and"
    grow_diag_final = "grow-diag-final"
    grow_diag = "grow-diag"
    union = "union"


class SimAlignMethod(str, enum.Enum):
    argmax = "argmax"
    itermax = "itermax"
    match = "match"


def _marker_pairs(values: list[str] | None) -> list[tuple[str, str]] | None:
    pairs = []
    for v in values or []:
        parts = str(v).split(" ")
        if len(parts) != 2 or not all(parts):
            raise BabelmillError(
                f"--markers {v!r}: give the opening and closing marker separated by one space, e.g. '[ ]'"
            )
        pairs.append((parts[0], parts[1]))
    return pairs or None


def _project_checks(v: dict[str, Any], method: str) -> None:
    """Everything about the command line that can be wrong, before Ray starts."""
    import glob as _glob

    for spec in v["input"]:
        if not Path(spec).exists() and not _glob.glob(spec):
            raise BabelmillError(f"--input {spec} does not exist")
    for name in ("target",):
        for spec in v[name] or []:
            for p in str(spec).split(","):
                if p and not Path(p).exists():
                    raise BabelmillError(f"--{name} {p} does not exist")
    for spec in v["extra_parallel"] or []:
        _, sep, rest = str(spec).partition("=")
        for p in (rest if sep else str(spec)).split(","):
            if p and not Path(p).exists():
                raise BabelmillError(f"--extra-parallel {p} does not exist")
    if method == "parallel" and not v["target"]:
        raise BabelmillError("--method parallel needs --target FILE (the target side you already have)")


@project_app.callback(invoke_without_command=True)
@user_errors
def project_command(
    ctx: typer.Context,
    input: Annotated[
        Optional[list[str]],
        typer.Option(
            "--input",
            "-i",
            help="Labelled sentences: CoNLL (.conll, .iob2, ...), JSONL with tokens/tags, Parquet or a Hugging Face dataset (ner_tags ClassLabel).",
        ),
    ] = None,
    output: OutputOpt = None,
    src: Annotated[str, typer.Option("--src", help="Language of the labelled input.")] = "en",
    tgt: Annotated[
        Optional[list[str]],
        typer.Option("--tgt", help="Target language(s), comma-separated or repeated; one subset each (data/<tgt>/)."),
    ] = None,
    method: Annotated[
        ProjectMethod,
        typer.Option(
            "--method",
            help="markers: EasyProject markers through MT; align: translate, word-align, project; score: the MT model scores candidate spans; parallel: align onto a target side you have (--target).",
        ),
    ] = ProjectMethod.align,
    target: Annotated[
        Optional[list[str]],
        typer.Option(
            "--target",
            help="Existing target side: TSV, two Moses files (repeat), JSONL src/tgt, HF translation dataset, or pre-tokenized CoNLL/lines. Either column order.",
        ),
    ] = None,
    target_pretokenized: Annotated[
        bool,
        typer.Option(
            "--target-pretokenized/--target-raw",
            help="Split --target text on whitespace (its tokens are the gold ones) instead of the target tokenizer.",
        ),
    ] = False,
    aligner: Annotated[
        AlignerName,
        typer.Option(
            "--aligner",
            help="Word aligner for align/parallel: eflomal (trains on the run; GPL extra), simalign (--encoder), attention (the MT model's).",
        ),
    ] = AlignerName.eflomal,
    symmetrize: Annotated[
        Symmetrize, typer.Option("--symmetrize", help="How the two alignment directions are combined.")
    ] = Symmetrize.grow_diag_final_and,
    model: Annotated[
        Optional[str],
        typer.Option(
            "--model",
            "-m",
            help="CTranslate2 translation model (dir, Hugging Face dir, or cached hub id) for markers, align, score and the attention aligner.",
        ),
    ] = None,
    encoder: Annotated[
        Optional[str],
        typer.Option("--encoder", help="Local encoder directory for --aligner simalign (mBERT, XLM-R, LaBSE)."),
    ] = None,
    simalign_method: Annotated[
        SimAlignMethod, typer.Option("--simalign-method", help="SimAlign link extraction.")
    ] = SimAlignMethod.itermax,
    extra_parallel: Annotated[
        Optional[list[str]],
        typer.Option(
            "--extra-parallel",
            help="More unlabelled parallel text for eflomal, [LANG=]FILE[,FILE2] (same formats as --target); repeat.",
        ),
    ] = None,
    name_priors: Annotated[
        bool, typer.Option("--name-priors/--no-name-priors", help="Give eflomal name and cognate matches as priors.")
    ] = True,
    name_matching: Annotated[
        bool,
        typer.Option(
            "--name-matching/--no-name-matching",
            help="Find entities the aligner misses by (transliterated) name match.",
        ),
    ] = True,
    markers: Annotated[
        Optional[list[str]],
        typer.Option(
            "--markers", help="Marker pair for --method markers, 'OPEN CLOSE' (default '[ ]'); repeat for several."
        ),
    ] = None,
    labels: Annotated[
        Optional[list[str]],
        typer.Option(
            "--labels", help="IOB2 label names in ClassLabel order, comma-separated (default: from the input)."
        ),
    ] = None,
    tag_scheme: Annotated[
        TagScheme, typer.Option("--tag-scheme", help="Tag scheme of the input; auto detects it per file.")
    ] = TagScheme.auto,
    drop_on: Annotated[
        Optional[list[str]],
        typer.Option(
            "--drop-on",
            help="Quality flags that drop a sentence, comma-separated (default: entity_lost, type_conflict; '' drops none). Others stay as flags.",
        ),
    ] = None,
    min_confidence: Annotated[
        Optional[float],
        typer.Option(
            "--min-confidence",
            help="Flag entities whose alignment or marker-match confidence is below this, 0-1 (default 0.3 align, 0 markers).",
        ),
    ] = None,
    stem_length: Annotated[
        int, typer.Option("--stem-length", help="eflomal aligns words cut to this many characters (0: whole words).")
    ] = 5,
    eflomal_runs: Annotated[
        int,
        typer.Option(
            "--eflomal-runs",
            min=1,
            help="Independent eflomal trainings whose links are voted: steadier on small runs, each one more training.",
        ),
    ] = 5,
    max_span_ratio: Annotated[
        Optional[float],
        typer.Option(
            "--max-span-ratio",
            help="Longest target span relative to its source span (default 2 for align, 3 for markers).",
        ),
    ] = None,
    score_max_extra: Annotated[
        int,
        typer.Option("--score-max-extra", help="score: candidate spans up to this many words longer than the entity."),
    ] = 2,
    score_reverse: Annotated[
        Optional[str],
        typer.Option(
            "--score-reverse",
            help="score: also rank candidates by p(entity | candidate): 'same' (the MT model in the other "
            "direction; multilingual models) or a target-to-source model directory.",
        ),
    ] = None,
    format: Annotated[
        NerFormat, typer.Option("--format", help="Input format; auto goes by extension.")
    ] = NerFormat.auto,
    token_column: Annotated[
        Optional[int], typer.Option("--token-column", help="CoNLL: 0-based column of the token (default: found).")
    ] = None,
    tag_column: Annotated[
        Optional[int], typer.Option("--tag-column", help="CoNLL: 0-based column of the tag (default: found).")
    ] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Longer sentences are quarantined.")] = 512,
    id_field: IdFieldOpt = "id",
    hf_split: HfSplitOpt = "train",
    output_format: OutFormatOpt = OutputFormat.parquet,
    device: Annotated[
        Device, typer.Option("--device", help="Where the MT model runs: cuda, cpu, or auto.")
    ] = Device.auto,
    compute_type: Annotated[
        ComputeType, typer.Option("--compute-type", help="CTranslate2 compute type (default: int8 CPU, float16 CUDA).")
    ] = ComputeType.default,
    beam_size: Annotated[int, typer.Option("--beam-size", help="Beam width of the translation.")] = 1,
    max_batch_tokens: Annotated[int, typer.Option("--max-batch-tokens", help="Tokens per translation batch.")] = 2048,
    intra_threads: Annotated[
        int,
        typer.Option("--intra-threads", help="CPU threads per translation batch (0: every CPU of the embedded Ray)."),
    ] = 0,
    model_cache_dir: Annotated[
        Optional[str], typer.Option("--model-cache-dir", help="Where converted models are cached.")
    ] = None,
    allow_download: Annotated[
        bool,
        typer.Option("--allow-download/--no-download", help="Download and convert hub models missing from the cache."),
    ] = False,
    recipe: RecipeOpt = None,
    overwrite: OverwriteOpt = False,
    ray_address: RayAddressOpt = None,
    num_cpus: NumCpusOpt = None,
    num_gpus: NumGpusOpt = None,
    progress: ProgressOpt = True,
    log_level: LogLevelOpt = LogLevel.warning,
) -> None:
    """Label projection: an NER dataset into each target language.

    `babelmill project --input en.conll --src en --tgt de --method align --model M
    --output DIR`; `babelmill project eval` scores the result against gold tags.
    """
    if ctx.invoked_subcommand is not None:
        return
    given = {k: val for k, val in locals().items() if k != "ctx"}
    if not given["input"] and recipe is None:
        out.print(ctx.get_help())
        raise typer.Exit(0)
    v = apply_recipe(ctx, recipe, given)
    setup_logging(LogLevel(_enum_value(v["log_level"])))
    _need(v, "project")
    how = str(_enum_value(v["method"]))
    _project_checks(v, how)
    targets = _split_codes(v["tgt"])
    if not targets:
        raise BabelmillError("project needs --tgt LANG[,LANG...]")
    from babelmill.pipelines.jobs import DEFAULT_DROP_ON, ProjectOptions, project_job
    from babelmill.processors.ner.options import NerOptions

    spec = None
    if v["model"]:
        from babelmill.processors.translate.engine import CTranslate2Spec, resolve_device
        from babelmill.processors.translate.models import resolve_model

        dev = resolve_device(_enum_value(v["device"]))
        intra = int(v["intra_threads"]) or (int(v["num_cpus"] or os.cpu_count() or 1) if dev == "cpu" else 0)
        spec = CTranslate2Spec(
            model=str(v["model"]),
            device=dev,
            compute_type=_enum_value(v["compute_type"]),
            intra_threads=intra,
            beam_size=int(v["beam_size"]),
            max_batch_tokens=int(v["max_batch_tokens"]),
            cache_dir=v["model_cache_dir"],
            allow_download=bool(v["allow_download"]),
        )
        resolved = resolve_model(
            spec.model, quantization=spec.quantization, cache_dir=spec.cache_dir, allow_download=spec.allow_download
        )
        for code in targets:  # an unsupported pair is one line now
            resolved.plan(v["src"], code)
        if v["score_reverse"] is not None:  # a missing or one-way reverse model is one line too
            reverse = resolved
            if v["score_reverse"] != "same":
                reverse = resolve_model(
                    str(v["score_reverse"]),
                    quantization=spec.quantization,
                    cache_dir=spec.cache_dir,
                    allow_download=spec.allow_download,
                )
            for code in targets:
                reverse.plan(code, v["src"])
    options = ProjectOptions(
        method=how,
        targets=targets,
        src=v["src"],
        target=[p for t in v["target"] or [] for p in str(t).split(",") if p],
        target_pretokenized=bool(v["target_pretokenized"]),
        aligner=str(_enum_value(v["aligner"])),
        symmetrize=str(_enum_value(v["symmetrize"])),
        encoder=v["encoder"],
        simalign_method=str(_enum_value(v["simalign_method"])),
        extra_parallel=list(v["extra_parallel"] or []),
        name_priors=bool(v["name_priors"]),
        name_matching=bool(v["name_matching"]),
        markers=_marker_pairs(v["markers"]),
        labels=_split_codes(v["labels"]) or None,
        tag_scheme=str(_enum_value(v["tag_scheme"])),
        drop_on=_split_codes(v["drop_on"]) if v["drop_on"] else list(DEFAULT_DROP_ON),
        min_confidence=None if v["min_confidence"] is None else float(v["min_confidence"]),
        stem_length=int(v["stem_length"]),
        eflomal_runs=int(v["eflomal_runs"]),
        max_span_ratio=None if v["max_span_ratio"] is None else float(v["max_span_ratio"]),
        score_max_extra=int(v["score_max_extra"]),
        score_reverse=v["score_reverse"],
    )
    reader = ReaderOptions(
        id_field=v["id_field"],
        hf_split=v["hf_split"],
        ner=NerOptions(
            token_column=v["token_column"], tag_column=v["tag_column"], max_tokens=int(v["max_tokens"]), lang=v["src"]
        ),
    )
    fmt = {"conll": "conll", "jsonl": "jsonl", "parquet": "parquet", "hf": "hf"}.get(
        str(_enum_value(v["format"])), "auto"
    )
    job = project_job(
        list(v["input"]),
        storage.location(v["output"]),
        options,
        spec,
        reader,
        fmt,
        str(_enum_value(v["output_format"])),
        _command_line(),
    )
    engine = EngineOptions(ray_address=v["ray_address"], num_cpus=v["num_cpus"], num_gpus=v["num_gpus"])
    execute(job, engine, bool(v["overwrite"]), bool(v["progress"]))


if __name__ == "__main__":
    main()
