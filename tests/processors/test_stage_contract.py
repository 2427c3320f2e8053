"""Every stage declares what the runner may expect of it (``reasons``, ``expands``,
``resources``): each one, run on the test data, writes only reasons it declared, the
executor refuses an undeclared one, and ``babelmill stages`` lists the declarations."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from typing import ClassVar

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from instruct_doubles import ALPACA, MESSAGES, SHAREGPT, StandInSpec, docs
from babelmill.pipelines import cli
from babelmill.pipelines.executor import process_batch
from babelmill.pipelines.ledger import Ledger
from babelmill.sample import write_sample
from babelmill.processors.base import DROP_REASON, Filter, Stage, StageContractError
from babelmill.processors.catalog import describe, stage_classes
from babelmill.processors.dedup import MinHashDeduplicator
from babelmill.processors.extract import (
    AutoExtractor,
    HtmlExtractor,
    ResiliparseExtractor,
    TrafilaturaExtractor,
    UrlBlocklistFilter,
)
from babelmill.processors.instruct.stages import InstructionParser, InstructionTranslator, TargetExpander
from babelmill.processors.io import ReaderOptions, discover_shards, read_shard
from babelmill.processors.lid import AutoLanguageIdentifier, FastTextLanguageIdentifier, HeliportLanguageIdentifier
from babelmill.processors.normalize import TextNormalizer
from babelmill.processors.pii import PIIScrubber
from babelmill.processors.quality import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from babelmill.processors.translate.checks import TranslationQualityFilter
from babelmill.processors.translate.stages import TextTranslator
from babelmill.processors.validate import EmptyTextFilter


@pytest.fixture(scope="module")
def crawl_docs(tmp_path_factory) -> pa.Table:
    d = tmp_path_factory.mktemp("crawl")
    write_sample(d, docs_per_lang=30, files=2, seed=5, malformed=True, langs=("en", "sw", "de", "fr", "zh"))
    shards = discover_shards([str(d)], "auto", "line", None)
    tables = [b.docs for s in shards for b in read_shard(s, ReaderOptions())]
    table = pa.concat_tables(tables, promote_options="permissive")
    # copies, so that dedup has something to find; an HTML page with nothing to extract
    html = pa.table(
        {
            "id": ["h1", "h2"],
            "text": [
                "<html><body><p>Hello there, this is a page about rivers and hills.</p></body></html>",
                "<html></html>",
            ],
            "content_type": ["text/html", "text/html"],
        }
    )
    blank = pa.table({"id": ["b1", "b2"], "text": ["", "  \n "]})
    return pa.concat_tables([table, table.slice(0, 20), blank, html], promote_options="permissive")


def _instruct_docs() -> pa.Table:
    return docs([ALPACA, SHAREGPT, MESSAGES, "{not json", {"instruction": 3}], ids=["a", "b", "c", "d", "e"])


def _emitted(stage: Stage, table: pa.Table) -> tuple[pa.Table, set[str]]:
    out = stage(table)
    if DROP_REASON not in out.column_names:
        return out, set()
    return out.filter(pc.is_null(out.column(DROP_REASON))).drop_columns([DROP_REASON]), set(
        out.column(DROP_REASON).drop_null().to_pylist()
    )


def test_every_stage_writes_only_declared_reasons(crawl_docs: pa.Table, tmp_path) -> None:
    """Each stage alone over the whole crawl (so every filter sees every document), the
    instruction stages over records with malformed ones among them."""
    seen: dict[type, set[str]] = defaultdict(set)
    instances: dict[type, Stage] = {}
    blocklist = tmp_path / "blocked.txt"
    blocklist.write_text("blocked.example\n")
    corpus: list[Stage] = [
        TrafilaturaExtractor(),
        ResiliparseExtractor(),
        AutoExtractor(),
        EmptyTextFilter(),
        FastTextLanguageIdentifier(["en", "sw", "de"], line_level=True),
        HeliportLanguageIdentifier(["en", "sw", "de"]),
        AutoLanguageIdentifier(["en", "sw", "de"]),
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(),
        FineWebQualityFilter(),
        TextNormalizer(),
        PIIScrubber(),
        MinHashDeduplicator(),
    ]
    plain = crawl_docs.drop_columns(["content_type"]) if "content_type" in crawl_docs.column_names else crawl_docs
    # every row with its language (rows LID would reject included)
    with_lang = FastTextLanguageIdentifier()(plain).drop_columns([DROP_REASON])
    for stage in corpus:
        stage.setup()
        _, reasons = _emitted(stage, crawl_docs if isinstance(stage, HtmlExtractor) else with_lang)
        seen[type(stage)] |= reasons
        instances[type(stage)] = stage
    text_stage = TextTranslator(StandInSpec(), src_lang="en", tgt_lang="de")
    _, seen[TextTranslator] = _emitted(text_stage, with_lang.slice(0, 8))
    instances[TextTranslator] = text_stage
    table = _instruct_docs()
    translate = InstructionTranslator(StandInSpec(drop_sentinel=True))
    for stage in (
        InstructionParser(),
        TargetExpander(["de", "en"]),
        translate,
        TranslationQualityFilter(skip=("wrong_language",)),
    ):
        stage.setup()
        table, reasons = _emitted(stage, table)
        seen[type(stage)] |= reasons
        instances[type(stage)] = stage
    urls = pa.table(
        {
            "id": ["u1", "u2"],
            "text": ["a page", "another page"],
            "meta": ['{"url": "https://blocked.example/x"}', '{"url": "https://fine.example/y"}'],
        }
    )
    url_filter = UrlBlocklistFilter([str(blocklist)])
    url_filter.setup()
    _, seen[UrlBlocklistFilter] = _emitted(url_filter, urls)
    instances[UrlBlocklistFilter] = url_filter
    _ner_projection_stages(seen, instances)
    _run_bilingual_stages(seen, instances, tmp_path)
    for cls, reasons in seen.items():
        undeclared = sorted(r for r in reasons if not instances[cls].declares(r) or not _in_class_list(cls, r))
        assert not undeclared, f"{cls.__name__} wrote undeclared reasons {undeclared}"
    # the test data exercises the contract: most stages reject something on it
    assert sum(len(r) for r in seen.values()) >= 12, {c.__name__: r for c, r in seen.items()}
    for cls in (
        EmptyTextFilter,
        TrafilaturaExtractor,
        UrlBlocklistFilter,
        FastTextLanguageIdentifier,
        HeliportLanguageIdentifier,
        AutoLanguageIdentifier,
        MinHashDeduplicator,
        InstructionParser,
        TargetExpander,
        TranslationQualityFilter,
        *_BILINGUAL_REJECTING,
    ):
        assert seen[cls], f"{cls.__name__} rejected nothing on the test data: {dict(seen)}"
    # and every stage babelmill ships was run here
    assert {c for c in stage_classes()} <= set(seen), {c.__name__ for c in stage_classes()} - {c.__name__ for c in seen}


class _Links:
    """Stand-in aligner: word i links to word i."""

    def align_scored(self, src, tgt):  # type: ignore[no-untyped-def]
        return [{(i, i): 1.0 for i in range(min(len(s), len(t)))} for s, t in zip(src, tgt)]


def _ner_projection_stages(seen: dict, instances: dict) -> None:
    """The NER and label-projection stages over NER rows (a broken tag, an entity that
    cannot be found, a sentence without a target among them), models stood in for."""
    from babelmill.processors.ner.schemes import TagSchemeNormalizer
    from babelmill.processors.ner.writers import NerTagEncoder
    from babelmill.processors.projection import pipeline as pp
    from babelmill.processors.projection.markers import MarkerInserter, MarkerProjector, MarkerTranslator
    from babelmill.processors.projection.score import ScoreProjector
    from babelmill.processors.projection.stages import ProjectSpansStage

    ner = pa.table(
        {
            "id": ["s1", "s2", "s3", "s4"],
            "tokens": [["Ana", "visits", "Lima"], ["no", "names"], ["Ana", "sleeps"], ["Bad", "tag"]],
            "tags": [["B-PER", "O", "B-LOC"], ["O", "O"], ["B-PER", "O"], ["X-PER", "O"]],
            "lang": ["en"] * 4,
            "source": ["t.conll"] * 4,
        }
    )

    def run(stage: Stage, table: pa.Table) -> pa.Table:
        out, reasons = _emitted(stage, table)
        seen[type(stage)] |= reasons
        instances[type(stage)] = stage
        return out

    rows = run(TagSchemeNormalizer(), ner)
    rows = run(TargetExpander(["de"]), rows)
    marked = run(MarkerInserter(), rows)
    marked = run(MarkerTranslator(StandInSpec(), src="en"), marked)
    run(MarkerProjector(), marked)
    src = run(pp.ProjectionSource(), rows)
    tgt = run(pp.TargetTokenizer("src_text"), src)  # the source text stands in for a translation
    run(pp.GivenTarget({"s1": ["Ana", "besucht", "Lima"], "s3": []}), src)
    other = pp.GivenTarget({"s1": ["eins", "zwei", "drei"], "s2": ["a", "b"], "s3": ["c", "d"]})(src)
    global_stage = pp.EflomalGlobalAlign()
    n = other.num_rows
    links = global_stage.mark(
        other, list(range(n)), global_stage.combine(n, {"align": (pa.array([[]] * n, pp.ALIGNMENT), {})})
    )
    seen[pp.EflomalGlobalAlign] |= set()
    instances[pp.EflomalGlobalAlign] = global_stage
    words = pp.WordAlignStage("simalign", encoder="stand-in")
    words._simalign, words._pairs = _Links(), {}
    run(words, tgt)
    projected = run(pp.PairwiseProjectSpans(), links)  # no links: entities are lost
    run(ProjectSpansStage(), links)
    score = pp.ScoreProjectStage(StandInSpec())
    score._translator, score._scorers = (
        None,
        {("en", "de"): pp._ScoreAdapter(ScoreProjector(lambda s, t: [-float(len(x)) for x in t]))},
    )
    run(score, tgt)
    finished = run(
        pp.ProjectedRows(), tgt.append_column("tgt_lang_", tgt.column("tgt_lang")).drop_columns(["tgt_lang_"])
    )
    run(NerTagEncoder(["O", "B-PER", "I-PER"]), finished)
    assert seen[pp.PairwiseProjectSpans] and seen[pp.GivenTarget], {c.__name__: r for c, r in seen.items()}
    assert projected.num_rows < links.num_rows


def _bilingual_docs(records: list[dict]) -> pa.Table:
    import orjson

    return pa.table(
        {
            "id": [r["id"] for r in records],
            "text": [""] * len(records),
            "meta": [orjson.dumps(r).decode() for r in records],
            "source": ["in.jsonl"] * len(records),
        }
    )


def _bilingual_records() -> list[dict]:
    """Parallel records, good and bad: every ``ParallelParser`` rejection, documents whose
    units line up or not, conversations, Pharaoh alignments valid, invalid and missing."""
    import orjson

    convo = {
        "messages": [
            {"role": "user", "content": "What is the river? Tell me."},
            {"role": "assistant", "content": "It is long. Really."},
        ]
    }
    turns = [{"role": "user", "content": "Mto ni nini? Niambie."}, {"role": "assistant", "content": "Ni mrefu. Kweli."}]
    return [
        {"id": "doc", "src": "The river is long.\nThe hill is green.", "tgt": "Mto ni mrefu.\nKilima ni kijani."},
        {"id": "misaligned", "src": "One river.\nTwo hills.\nThree trees.", "tgt": "Mto mmoja.\nVilima viwili."},
        {"id": "aligned", "src": "green tea is good", "tgt": "chai kijani ni nzuri", "alignment": "0-1 1-0 2-2 3-3"},
        {"id": "bad_alignment", "src": "green tea", "tgt": "chai kijani", "alignment": "0-7 x"},
        {"id": "numbers", "src": "42 7", "tgt": "42 7", "alignment": "0-0 1-1"},
        *(
            {"id": f"c{i}", "messages": turns, "original": orjson.dumps(convo).decode(), "format": "messages"}
            for i in range(3)
        ),
        {"id": "empty", "src": "a", "tgt": "  "},
        {"id": "nothing", "foo": 1},
        {"id": "turns", "messages": turns[:1], "original": orjson.dumps(convo).decode(), "format": "messages"},
        {
            "id": "roles",
            "messages": [turns[1], turns[0]],
            "original": orjson.dumps(convo).decode(),
            "format": "messages",
        },
        {"id": "mono", "text": "just the river"},
    ]


#: the code-switching / interleaving stages that must reject something on ``_bilingual_records``
_BILINGUAL_REJECTING: list[type[Stage]] = []


def _run_bilingual_stages(seen: dict[type, set[str]], instances: dict[type, Stage], tmp_path) -> None:
    """The parallel reader over every kind of bad record, then code-switching (dictionary,
    align, translate), xICL/xCoT and the interleaving modes over its kept rows."""
    from tiny_tokenizer import build_tokenizer

    from babelmill.processors.codeswitch.prompts import CrossLingualCoT, CrossLingualICL
    from babelmill.processors.codeswitch.stages import CodeSwitcher
    from babelmill.processors.interleave.stages import Alternate, Interlinear, Packer, TranslationInstructions
    from babelmill.processors.io.parallel import ParallelParser

    lexicon = tmp_path / "lex.txt"
    lexicon.write_text("river mto\ntea chai\ngreen kijani\n")
    tokenizer = build_tokenizer(tmp_path / "tok")
    parser = ParallelParser("en", "sw")
    parsed, reasons = _emitted(parser, _bilingual_docs(_bilingual_records()))
    seen[ParallelParser] |= reasons
    instances[ParallelParser] = parser
    stages: list[Stage] = [
        # align first: the instance the generic check holds CodeSwitcher to declares most
        CodeSwitcher("align", ["sw"], ratio=1.0, unit="phrase", drop_unswitched=True),
        CodeSwitcher("dictionary", ["sw"], ratio=1.0, lexicons={"sw": str(lexicon)}, drop_unswitched=True),
        CodeSwitcher("translate", ["sw"], ratio=1.0, spec=StandInSpec(), drop_unswitched=True),
        CrossLingualICL(shots=2),
        CrossLingualCoT(),
        Interlinear(),
        Alternate(unit="sentence"),
        Packer(str(tokenizer), max_tokens=3),
        TranslationInstructions(reverse=True),
    ]
    for stage in stages:
        stage.setup()
        _, reasons = _emitted(stage, parsed)
        seen[type(stage)] |= reasons
        instances.setdefault(type(stage), stage)
        if isinstance(stage, CodeSwitcher):  # each mode writes only what its instance declares
            assert all(stage.declares(r) for r in reasons), (stage.mode, reasons)
    _BILINGUAL_REJECTING[:] = [
        ParallelParser,
        CodeSwitcher,
        CrossLingualICL,
        CrossLingualCoT,
        Interlinear,
        Alternate,
        Packer,
    ]
    assert seen[ParallelParser] == {
        "malformed_parallel",
        "turn_count_mismatch",
        "role_mismatch",
        "no_target",
        "empty_side",
    }, seen[ParallelParser]
    assert seen[CodeSwitcher] >= {"missing_alignment", "malformed_alignment", "nothing_switched"}, seen[CodeSwitcher]


def _in_class_list(cls: type[Stage], reason: str) -> bool:
    """Also in the class's own list, which ``babelmill stages`` prints."""
    probe = Stage()
    probe.declared_reasons = lambda: cls.reasons  # type: ignore[method-assign]
    return probe.declares(reason)


class Sloppy(Filter):
    name: ClassVar[str] = "sloppy"
    reasons: ClassVar[tuple[str, ...]] = ("too_short",)

    def decide(self, df):  # type: ignore[no-untyped-def]
        import polars as pl

        return pl.when(pl.col("text").str.len_chars() < 3).then(pl.lit("too_short")).otherwise(pl.lit("too_long_{x}"))


def test_an_undeclared_reason_is_a_clear_error() -> None:
    table = pa.table({"id": ["a", "b"], "text": ["hi", "a longer text"]})
    with pytest.raises(
        StageContractError, match=r"stage sloppy \(Sloppy\) wrote drop reason 'too_long_\{x\}'.*declared: too_short"
    ):
        process_batch(table, [Sloppy()], Ledger.for_stages(["read", "sloppy"]), [])


def test_declared_patterns_match_their_variable_part() -> None:
    stage = GopherRepetitionFilter()
    assert stage.declares("top_2_gram") and stage.declares("duplicated_10_n_grams") and stage.declares("empty")
    assert not stage.declares("top__gram_x") and not stage.declares("something_else")
    assert TranslationQualityFilter(skip=("wrong_language",)).declares("untranslated")
    assert not TranslationQualityFilter(skip=("wrong_language",)).declares("wrong_language")


def test_stages_command_lists_every_stage_with_its_reasons(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["babelmill", "stages", "--json"])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert not exc.value.code
    rows = json.loads(capsys.readouterr().out)
    by_class = {r["class"]: r for r in rows}
    assert by_class["MinHashDeduplicator"] == describe(MinHashDeduplicator)
    assert by_class["MinHashDeduplicator"]["kind"] == "global" and by_class["TargetExpander"]["kind"] == "expands"
    assert (
        by_class["EmptyTextFilter"]["reasons"] == ["empty_text"]
        and by_class["EmptyTextFilter"]["module"] == "babelmill.processors.validate"
    )
    assert set(by_class["FastTextLanguageIdentifier"]["resources"]) == {"num_cpus", "num_gpus", "memory"}
    assert "Stage" not in by_class and "Filter" not in by_class
    assert len(rows) == len(stage_classes()) == len(set(by_class))
