"""Instruction datasets: parsing the three formats, fanning out to targets, translating
with format preservation, and the output checks (processors.instruct, processors.translate.checks).

Translation uses deterministic stand-ins (no model): ``ReverseTranslator`` writes every
word backwards behind a ``tgt:`` tag, so expected outputs can be written by hand.
"""

from __future__ import annotations

import pickle
from collections import Counter
from pathlib import Path

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from babelmill.processors.base import DROP_REASON, Resources
from babelmill.processors.instruct import (
    InstructionParser,
    InstructionTranslator,
    TargetExpander,
    TranslationQualityFilter,
)
from babelmill.processors.schema import MESSAGE_TYPE
from babelmill.processors.translate.checks import (
    LanguageCheck,
    LengthRatioCheck,
    LostPlaceholderCheck,
    RepetitionCheck,
    UntranslatedCheck,
    longest_repeat,
)
from instruct_doubles import ALPACA, MESSAGES, SHAREGPT, StandInSpec, docs


def run(table: pa.Table, stages: list) -> tuple[pa.Table, Counter]:
    """Run stages like the executor: rows with a drop reason leave after each stage."""
    dropped: Counter = Counter()
    for stage in stages:
        n = table.num_rows
        table = stage(table)
        if not getattr(stage, "expands", False):
            assert table.num_rows == n
        if DROP_REASON in table.column_names:
            reasons = table.column(DROP_REASON)
            dropped.update(r for r in reasons.to_pylist() if r is not None)
            table = table.filter(pc.is_null(reasons)).drop_columns([DROP_REASON])
    return table, dropped


def by_id(table: pa.Table) -> dict[str, dict]:
    return {row["id"]: row for row in table.to_pylist()}


# --- parsing ---------------------------------------------------------------------------------


def test_parser_reads_all_three_formats() -> None:
    out = InstructionParser()(docs([ALPACA, SHAREGPT, MESSAGES]))
    assert out.num_rows == 3
    assert out.column("format").to_pylist() == ["alpaca", "sharegpt", "messages"]
    assert out.schema.field("messages").type == MESSAGE_TYPE
    assert "meta" not in out.column_names
    assert out.column("original").to_pylist() == [orjson.dumps(r).decode() for r in (ALPACA, SHAREGPT, MESSAGES)]
    alpaca, sharegpt, messages = out.column("messages").to_pylist()
    assert alpaca == [
        {"role": "user", "content": ALPACA["instruction"] + "\n\n" + ALPACA["input"]},
        {"role": "assistant", "content": ALPACA["output"]},
    ]
    assert [m["role"] for m in sharegpt] == ["system", "user", "assistant"]
    assert messages == [
        {"role": "user", "content": "What is %s used for?"},
        {"role": "assistant", "content": "It formats strings."},
    ]
    assert DROP_REASON not in out.column_names  # nothing malformed, nothing decided


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ("{not json", "not JSON"),
        (None, "empty record"),
        ([1, 2], "expected an object"),
        ({"prompt": "hi"}, "no instruction format recognised"),
        ({"instruction": "Do it.", "input": ""}, "output is missing"),
        ({"instruction": "", "output": "x"}, "instruction is missing or empty"),
        ({"instruction": ["a"], "output": "x"}, "instruction is list"),
        ({"conversations": []}, "conversations is empty"),
        ({"conversations": [{"from": "robot", "value": "x"}]}, "unknown speaker 'robot'"),
        ({"conversations": [{"from": "human", "value": 3}]}, "conversations[0].value is int"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "unknown role 'wizard'"),
        ({"messages": "hello"}, "messages is str"),
        ({"messages": [{"role": "user", "content": None}]}, "content is null"),
    ],
)
def test_malformed_records_get_a_reason_not_an_exception(record: object, problem: str) -> None:
    table = docs([ALPACA, record])
    out = InstructionParser()(table)
    assert out.num_rows == 2  # rows are never removed
    assert out.column(DROP_REASON).to_pylist() == [None, "malformed_instruction"]
    error = out.column("parse_error")[1].as_py()
    assert problem in error
    assert out.column("parse_error")[0].as_py() is None


def test_explicit_format_rejects_other_formats() -> None:
    out = InstructionParser(format="alpaca")(docs([ALPACA, SHAREGPT]))
    assert out.column(DROP_REASON).to_pylist() == [None, "malformed_instruction"]


def test_openai_content_parts_and_tool_calls() -> None:
    record = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Describe this."},
                    {"type": "image_url", "image_url": {"url": "x"}},
                    {"type": "text", "text": "Briefly."},
                ],
            },
            {"role": "assistant", "content": None, "tool_calls": [{"id": "t1"}]},
            {"role": "tool", "content": '{"ok": true}'},
        ]
    }
    out = InstructionParser()(docs([record]))
    assert out.column("messages")[0].as_py() == [
        {"role": "user", "content": "Describe this.\nBriefly."},
        {"role": "assistant", "content": ""},
        {"role": "tool", "content": '{"ok": true}'},
    ]
    table, _ = run(docs([record]), [InstructionParser(), TargetExpander(["de"]), InstructionTranslator(StandInSpec())])
    translated = orjson.loads(table.column("translated_original")[0].as_py())
    parts = translated["messages"][0]["content"]
    assert [p.get("text") for p in parts] == ["de: ebircseD siht.", None, "de: ylfeirB."]
    assert translated["messages"][2]["content"] == '{"ok": true}'  # tool output is not a role we translate


# --- targets ---------------------------------------------------------------------------------


def test_target_expander_fans_out_and_marks_same_language() -> None:
    table = InstructionParser()(docs([ALPACA, SHAREGPT, MESSAGES], ids=["a", "b", "c"]))
    table = table.set_column(table.column_names.index("lang"), "lang", pa.array([None, "de", None], pa.string()))
    stage = TargetExpander(["de", "fr", "hi"])
    assert stage.expands is True
    out = stage(table)
    assert out.num_rows == 9
    assert out.column("id").to_pylist() == ["a#de", "a#fr", "a#hi", "b#de", "b#fr", "b#hi", "c#de", "c#fr", "c#hi"]
    assert out.column("source_id").to_pylist() == ["a"] * 3 + ["b"] * 3 + ["c"] * 3
    assert out.column("src_lang").to_pylist() == ["en"] * 3 + ["de"] * 3 + ["en"] * 3
    assert out.column("tgt_lang").to_pylist() == ["de", "fr", "hi"] * 3
    assert out.column(DROP_REASON).to_pylist() == [None] * 3 + ["same_language"] + [None] * 5
    assert out.column("messages").to_pylist()[3] == table.column("messages").to_pylist()[1]
    with pytest.raises(ValueError):
        TargetExpander([])
    with pytest.raises(LookupError, match="xq"):
        TargetExpander(["de", "xq"])
    assert TargetExpander("German,swh_Latn").targets == ["de", "sw"]


# --- translation -------------------------------------------------------------------------------


def test_translate_all_formats_to_several_targets() -> None:
    translate = InstructionTranslator(StandInSpec())
    table, dropped = run(
        docs([ALPACA, SHAREGPT, MESSAGES], ids=["a", "b", "c"]),
        [InstructionParser(), TargetExpander(["de", "fr"]), translate],
    )
    assert dropped == Counter()
    rows = by_id(table)
    assert sorted(rows) == ["a#de", "a#fr", "b#de", "b#fr", "c#de", "c#fr"]
    # one engine call per (src, tgt) pair for the whole batch
    assert sorted((s, t) for s, t, _ in translate.translator.calls) == [("en", "de"), ("en", "fr")]

    a = orjson.loads(rows["a#de"]["translated_original"])
    assert a == {
        "id": "a1",
        "instruction": "de: nialpxE eht `sorted` noitcnuf. de: peeK ti trohs.",
        "input": "de: esU {name} ni eht elpmaxe.",
        "output": "de: llaC `sorted(xs)` ot teg a wen tsil.\n\n```python\nprint(sorted([3, 1]))\n```\n- de: skroW no yna elbareti.",
        "category": "code",
    }
    assert rows["a#de"]["messages"] == [
        {"role": "user", "content": a["instruction"] + "\n\n" + a["input"]},
        {"role": "assistant", "content": a["output"]},
    ]
    b = orjson.loads(rows["b#fr"]["translated_original"])
    assert b == {
        "conversations": [
            {"from": "system", "value": "fr: uoY era esret."},
            {"from": "human", "value": "fr: erehW era eht scod? fr: dneS a knil."},
            {"from": "gpt", "value": "fr: eeS https://docs.python.org/3/ rof sliated."},
        ],
        "source": "chat",
    }
    assert [m["content"] for m in rows["b#fr"]["messages"]] == [t["value"] for t in b["conversations"]]
    c = orjson.loads(rows["c#de"]["translated_original"])
    assert c["messages"] == [
        {"role": "user", "content": "de: tahW si %s desu rof?"},
        {"role": "assistant", "content": "de: tI stamrof sgnirts.", "weight": 1},
    ]

    assert {r["model"] for r in rows.values()} == {"stand-in/reverse"}
    assert table.schema.field("score").type == pa.float32()
    assert rows["a#de"]["score"] == -0.25 and rows["a#fr"]["score"] == -0.5
    assert all(r["source_id"] + "#" + r["tgt_lang"] == r["id"] for r in rows.values())
    assert all(r["mt_problems"] == [] for r in rows.values())
    counters = translate.take_counters()
    assert counters["segments"] == 2 * 11 and counters["cache_hits"] == 0 and counters["chars"] > 0

    # the same batch again is served by the engine's cache
    again = (
        InstructionParser()(docs([MESSAGES]))
        .append_column("src_lang", pa.array(["en"]))
        .append_column("tgt_lang", pa.array(["de"]))
    )
    translate(again)
    assert translate.take_counters()["cache_hits"] == 2


def test_targets_without_spaces_join_sentences_without_spaces() -> None:
    table, _ = run(
        docs([SHAREGPT], ids=["b"]),
        [InstructionParser(), TargetExpander(["zh", "de"]), InstructionTranslator(StandInSpec(), roles=("user",))],
    )
    rows = by_id(table)
    assert rows["b#zh"]["messages"][1]["content"] == "zh: erehW era eht scod?zh: dneS a knil."
    assert rows["b#de"]["messages"][1]["content"] == "de: erehW era eht scod? de: dneS a knil."


def test_role_and_field_selection() -> None:
    chain = [InstructionParser(), TargetExpander(["de"])]
    only_user = InstructionTranslator(StandInSpec(), roles=("user",))
    table, _ = run(docs([SHAREGPT, MESSAGES], ids=["b", "c"]), [*chain, only_user])
    rows = by_id(table)
    b = orjson.loads(rows["b#de"]["translated_original"])["conversations"]
    assert [t["value"] for t in b] == [
        "You are terse.",
        "de: erehW era eht scod? de: dneS a knil.",
        SHAREGPT["conversations"][2]["value"],
    ]
    assert [m["content"] for m in rows["c#de"]["messages"]] == ["de: tahW si %s desu rof?", "It formats strings."]

    by_speaker = InstructionTranslator(StandInSpec(), roles=("gpt",))
    table, _ = run(docs([SHAREGPT], ids=["b"]), [*chain, by_speaker])
    values = [m["content"] for m in table.column("messages")[0].as_py()]
    assert values[:2] == ["You are terse.", "Where are the docs? Send a link."] and values[2].startswith("de: eeS")

    alpaca_fields = InstructionTranslator(StandInSpec(), fields=("instruction", "input"))
    table, _ = run(docs([ALPACA], ids=["a"]), [*chain, alpaca_fields])
    a = orjson.loads(table.column("translated_original")[0].as_py())
    assert a["output"] == ALPACA["output"] and a["input"] == "de: esU {name} ni eht elpmaxe."


def test_lost_placeholder_flows_to_the_checks() -> None:
    chain = [InstructionParser(), TargetExpander(["de"]), InstructionTranslator(StandInSpec(drop_sentinel=True))]
    table, _ = run(docs([MESSAGES, {"instruction": "Say hi.", "output": "Hi."}], ids=["c", "x"]), chain)
    problems = by_id(table)["c#de"]["mt_problems"]
    assert problems and "messages.0.content" in problems[0] and "lost ⟦0⟧" in problems[0]
    assert by_id(table)["x#de"]["mt_problems"] == []
    checked = TranslationQualityFilter(skip=("wrong_language",))(table)
    assert dict(zip(checked.column("id").to_pylist(), checked.column(DROP_REASON).to_pylist())) == {
        "c#de": "lost_placeholder",
        "x#de": None,
    }


def test_output_loads_with_datasets(tmp_path: Path) -> None:
    import pyarrow.parquet as pq
    from datasets import Dataset

    table, _ = run(
        docs([ALPACA, SHAREGPT, MESSAGES], ids=["a", "b", "c"]),
        [InstructionParser(), TargetExpander(["de"]), InstructionTranslator(StandInSpec())],
    )
    pq.write_table(table, tmp_path / "part.parquet")
    ds = Dataset.from_parquet(str(tmp_path / "part.parquet"), cache_dir=str(tmp_path / "cache"))
    assert len(ds) == 3
    assert ds[0]["messages"][0]["role"] == "user" and ds[0]["tgt_lang"] == "de" and ds[0]["source_id"] == "a"


def test_stages_are_picklable_and_declare_resources() -> None:
    translate = InstructionTranslator(StandInSpec(), roles=("user",))
    assert translate.resources == Resources(1.0, 0.0) and translate.stateful
    translate.setup()
    stages = [InstructionParser(), TargetExpander(["de", "fr"]), translate, TranslationQualityFilter()]
    stages[-1].setup()  # loads the LID model; it must not travel with the stage
    for stage in stages:
        clone = pickle.loads(pickle.dumps(stage))
        assert type(clone) is type(stage) and clone.config() == stage.config()
    assert "_translator" not in pickle.loads(pickle.dumps(translate)).__dict__
    assert translate.config()["spec"] == {"drop_sentinel": False}


# --- checks --------------------------------------------------------------------------------------


def frame(
    rows: list[tuple[str, str]], tgt: str = "de", src: str = "en", problems: list[list[str]] | None = None
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "mt_source": [s for s, _ in rows],
            "mt_output": [o for _, o in rows],
            "mt_problems": problems or [[] for _ in rows],
            "src_lang": [src] * len(rows),
            "tgt_lang": [tgt] * len(rows),
        },
        schema_overrides={"mt_problems": pl.List(pl.String)},
    )


GOOD_EN = "The weather is nice today, so we will walk to the park after lunch."
GOOD_DE = "Das Wetter ist heute schön, also gehen wir nach dem Mittagessen in den Park."


def test_lost_placeholder_check() -> None:
    df = frame([(GOOD_EN, GOOD_DE)] * 2, problems=[["unit 0: lost ⟦0⟧ = '{x}'"], []])
    assert LostPlaceholderCheck().flags(df).to_list() == [True, False]


def test_untranslated_check() -> None:
    df = frame(
        [
            (GOOD_EN, GOOD_EN),  # a copy
            (GOOD_EN, "The weather is nice today, so we walk to the park after lunch!"),  # mostly copied words
            (GOOD_EN, GOOD_DE),  # translated
            ("Python 3", "Python 3"),  # too short to call a copy
            ("Use the GPU with CUDA.", "Verwende die GPU mit CUDA."),  # shared names are fine
        ]
    )
    assert UntranslatedCheck().flags(df).to_list() == [True, True, False, False, False]


def test_repetition_check() -> None:
    loop = "Das ist ein Test, " + "ich weiß nicht, " * 6 + "Ende."
    cjk_loop = "这是一个" + "好的" * 10
    df = frame(
        [
            (GOOD_EN, loop),
            (GOOD_EN, GOOD_DE),
            ("yes yes yes yes yes yes yes yes yes", "ja ja ja ja ja ja ja ja ja"),  # the source loops too
            ("This is good.", cjk_loop),
            (GOOD_EN + " " + GOOD_EN[::-1], " ".join([GOOD_DE] * 6)),  # compresses far better than its source
            (" ".join([GOOD_EN] * 6), " ".join([GOOD_DE] * 6)),  # ... unless the source does too
        ]
    )
    assert RepetitionCheck().flags(df).to_list() == [True, False, False, True, True, False]
    assert longest_repeat(["a", "b", "a", "b", "a", "b", "c"], 4) == (1, 3)
    assert longest_repeat(["x"] * 5, 2) == (5, 1)


def test_length_ratio_check_with_per_language_factors() -> None:
    src = "Please describe the main causes of the French Revolution in three sentences."
    df = frame(
        [(src, "Bitte."), (src, src * 3), (src, src), ("Short one.", "Sehr sehr viel länger als die Quelle hier.")]
    )
    assert LengthRatioCheck().flags(df).to_list() == [True, True, False, False]
    zh = frame([(src, "请用三句话描述法国大革命的主要原因。")], tgt="zh")
    assert LengthRatioCheck().flags(zh).to_list() == [False]  # short in characters, as Chinese is
    assert LengthRatioCheck(char_factor={}).flags(zh).to_list() == [True]
    assert LengthRatioCheck(bounds={"de": (0.01, 100.0)}).flags(df).to_list() == [False, False, False, False]


def test_language_check() -> None:
    df = frame(
        [
            (GOOD_EN, GOOD_DE),
            (GOOD_EN, GOOD_EN),
            (GOOD_EN, "Hallo."),
            (GOOD_EN, "Il fait beau aujourd'hui, nous irons donc au parc après le déjeuner."),
        ]
    )
    assert LanguageCheck().flags(df).to_list() == [False, True, False, True]
    fr = frame([(GOOD_EN, "Il fait beau aujourd'hui, nous irons donc au parc après le déjeuner.")], tgt="fr")
    assert LanguageCheck().flags(fr).to_list() == [False]


def test_quality_filter_first_failing_check_names_the_reason() -> None:
    src = "Please describe the main causes of the French Revolution in three sentences."
    df = frame(
        [
            (src, GOOD_DE),
            (src, src),
            (src, "Bitte."),
            (GOOD_EN, "The weather is nice today, so we go to the park after lunch."),
        ],
        problems=[[], [], [], []],
    )
    df = df.with_columns(pl.Series("mt_problems", [[], ["lost"], [], []], dtype=pl.List(pl.String)))
    out = TranslationQualityFilter()(df.to_arrow())
    assert out.column(DROP_REASON).to_pylist() == [None, "lost_placeholder", "length_ratio", "untranslated"]
    assert TranslationQualityFilter(skip=("lost_placeholder", "untranslated"))(df.to_arrow()).column(
        DROP_REASON
    ).to_pylist() == [
        None,
        "wrong_language",
        "length_ratio",
        "wrong_language",
    ]
