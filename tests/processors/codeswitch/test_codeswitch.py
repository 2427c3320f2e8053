"""Code-switching without Ray: metrics against hand-computed values, the ratio over many
generated sentences, span provenance, protected spans, seeds, phrase extraction, the
parallel reader's rejections, the translate mode on a stand-in translator, xICL/xCoT."""

from __future__ import annotations

import orjson
import pyarrow as pa
import pytest

from babelmill.processors.codeswitch import metrics as M
from babelmill.processors.codeswitch.lexicon import AlignmentError, Lexicon, extract_phrases, parse_alignment
from babelmill.processors.codeswitch.prompts import CrossLingualCoT, CrossLingualICL
from babelmill.processors.codeswitch.core import row_metrics
from babelmill.processors.codeswitch.stages import CodeSwitcher
from babelmill.processors.codeswitch.synthetic import lexicon_lines, pairs, vocab
from babelmill.processors.codeswitch.tagged import measure, parse_line
from babelmill.processors.io.parallel import ParallelParser
from babelmill.processors.translate.engine import TranslationResult
from babelmill.processors.translate.protect import protected_spans


def _docs(records: list[dict]) -> pa.Table:
    return pa.table(
        {
            "id": [str(r.get("id", i)) for i, r in enumerate(records)],
            "text": [""] * len(records),
            "meta": [orjson.dumps(r).decode() for r in records],
            "source": ["in.jsonl"] * len(records),
        }
    )


def _parallel(records: list[dict], need_target: bool = True, tgt: str = "sw") -> pa.Table:
    t = ParallelParser("en", tgt, need_target=need_target)(_docs(records))
    assert t.column("drop_reason").null_count == t.num_rows, t.column("drop_reason")
    return t.drop_columns(["drop_reason"])


@pytest.fixture(scope="module")
def lexicon_file(tmp_path_factory) -> str:
    _, lex = vocab(seed=0)
    path = tmp_path_factory.mktemp("lex") / "lex.txt"
    path.write_text("\n".join(lexicon_lines(lex)) + "\n")
    return str(path)


# ------------------------------------------------------------------ metrics


def test_metrics_match_hand_computed_values() -> None:
    # 6 tokens: en en hi univ hi en -> n=6, u=1, N=5, w_en=3, w_hi=2
    m = M.utterance_metrics(["en", "en", "hi", "univ", "hi", "en"])
    assert m.cmi == pytest.approx(100 * (1 - 3 / 5))  # 40
    # switch points skip the independent token: en en hi | hi en -> 2
    assert m.switch_points == 2
    assert m.cmi_2016 == pytest.approx(100 * (0.5 * (5 - 3) + 0.5 * 2) / 5)  # 40
    # M-index: p = (3/5, 2/5), Σp² = 13/25, k = 2 -> (12/25)/(13/25) = 12/13
    assert m.m_index == pytest.approx(12 / 13)
    assert m.i_index == pytest.approx(2 / 4)
    # spans 2, 2, 1: mean 5/3, sd sqrt(2/9)
    mean, sd = 5 / 3, (2 / 9) ** 0.5
    assert m.burstiness == pytest.approx((sd - mean) / (sd + mean))


def test_metrics_edge_cases() -> None:
    mono = M.utterance_metrics(["en", "en", "univ"])
    assert (mono.cmi, mono.cmi_2016, mono.m_index, mono.i_index, mono.switch_points) == (0.0, 0.0, 0.0, 0.0, 0)
    only_indep = M.utterance_metrics(["univ", "ne"])
    assert only_indep.cmi == 0.0 and only_indep.burstiness is None
    equal = M.utterance_metrics(["en", "hi", "en", "hi"])
    assert (
        equal.cmi == pytest.approx(50.0) and equal.m_index == pytest.approx(1.0) and equal.i_index == pytest.approx(1.0)
    )
    assert equal.burstiness == pytest.approx(-1.0)  # all spans of length 1: periodic


def test_corpus_metrics_and_tagged_lines() -> None:
    lines = [
        "I/en love/en chai/hi ,/univ yaar/hi",
        "ok/en fine/en",
        '{"tokens": ["a", "b", "c"], "langs": ["hi", "en", "hi"]}',
    ]
    utts = [parse_line(x) for x in lines]
    assert utts[0] == (["I", "love", "chai", ",", "yaar"], ["en", "en", "hi", "univ", "hi"])
    s = measure(utts)
    # CMI per utterance: 50, 0, 100*(1-2/3)=33.33
    assert s["utterances"] == 3
    assert s["cmi_mean"] == pytest.approx((50 + 0 + 100 / 3) / 3)
    assert s["cmi_mean_mixed"] == pytest.approx((50 + 100 / 3) / 2)
    # switch points 1, 0, 2; possible 3, 1, 2
    assert s["switch_points_mean"] == pytest.approx(1.0)
    assert s["i_index"] == pytest.approx(3 / 6)
    # corpus counts: en 5, hi 4
    p = (5 / 9, 4 / 9)
    assert s["m_index"] == pytest.approx((1 - sum(x * x for x in p)) / sum(x * x for x in p))
    assert sum(s["ratio_histogram"]) == 3


# ------------------------------------------------------------------ dictionary mode


def test_ratio_is_met_on_average(lexicon_file) -> None:
    recs = list(pairs(400, seed=3))
    table = _parallel(recs)
    for ratio in (0.15, 0.3, 0.6):
        out = CodeSwitcher("dictionary", ["sw"], ratio=ratio, seed=5, lexicons={"sw": lexicon_file})(table)
        achieved = out.column("ratio").to_pylist()
        assert abs(sum(achieved) / len(achieved) - ratio) <= 0.05, (ratio, sum(achieved) / len(achieved))


def test_spans_align_with_replacements_and_protected_spans_untouched(lexicon_file) -> None:
    recs = list(pairs(200, seed=4, protected=0.8))
    table = _parallel(recs)
    out = CodeSwitcher("dictionary", ["sw"], ratio=0.5, unit="phrase", seed=2, lexicons={"sw": lexicon_file})(table)
    lex = Lexicon.from_file(lexicon_file)
    n_spans = 0
    for row in out.to_pylist():
        src, text = row["source_text"], row["text"]
        pos_src = pos_out = 0
        rebuilt = []
        for sp in row["spans"]:
            n_spans += 1
            assert src[sp["start"] : sp["end"]] == sp["source"]
            assert text[sp["out_start"] : sp["out_end"]] == sp["replacement"]
            # an entry's translation, or (a run of listed words) word-by-word translations
            pieces = (
                [(sp["source"], sp["replacement"])]
                if sp["source"].lower() in lex
                else list(zip(sp["source"].split(" "), sp["replacement"].split(" ")))
            )
            assert all(o.lower() in [c.lower() for c in lex.candidates(w)] for w, o in pieces)
            # the text between spans is unchanged
            assert src[pos_src : sp["start"]] == text[pos_out : sp["out_start"]]
            rebuilt.append(src[pos_src : sp["start"]] + sp["replacement"])
            pos_src, pos_out = sp["end"], sp["out_end"]
        assert "".join(rebuilt) + src[pos_src:] == text
        # the metrics built from the source side equal those of the output text
        again = row_metrics([text], row["spans"], "en")
        assert row["cmi"] == pytest.approx(again["cmi"], abs=1e-4) and row["switch_points"] == again["switch_points"]
        for s, e in protected_spans(src):
            assert src[s:e] in text
            assert not any(sp["start"] < e and s < sp["end"] for sp in row["spans"])
        assert "42" not in "".join(sp["source"] for sp in row["spans"])
    assert n_spans > 500


def test_seed_reproducible_and_seeds_differ(lexicon_file) -> None:
    table = _parallel(list(pairs(100, seed=1)))
    a = CodeSwitcher("dictionary", ["sw"], ratio=0.3, seed=7, lexicons={"sw": lexicon_file})(table)
    b = CodeSwitcher("dictionary", ["sw"], ratio=0.3, seed=7, lexicons={"sw": lexicon_file})(table)
    c = CodeSwitcher("dictionary", ["sw"], ratio=0.3, seed=8, lexicons={"sw": lexicon_file})(table)
    assert a.equals(b)
    assert a.column("text").to_pylist() != c.column("text").to_pylist()
    # a row's output does not depend on the batch it is in
    half = CodeSwitcher("dictionary", ["sw"], ratio=0.3, seed=7, lexicons={"sw": lexicon_file})(table.slice(50))
    assert half.column("text").to_pylist() == a.column("text").to_pylist()[50:]


def test_multilingual_switching_uses_every_target(tmp_path) -> None:
    (tmp_path / "sw.txt").write_text("cat paka\ndog mbwa\nbird ndege\n")
    (tmp_path / "yo.txt").write_text("cat ologbo\ndog aja\nbird eye\n")
    table = _parallel(
        [{"id": str(i), "text": "the cat and the dog saw a bird"} for i in range(40)], need_target=False, tgt="sw,yo"
    )
    out = CodeSwitcher(
        "dictionary",
        ["sw", "yo"],
        ratio=1.0,
        seed=1,
        lexicons={"sw": str(tmp_path / "sw.txt"), "yo": str(tmp_path / "yo.txt")},
    )(table)
    langs = {sp["lang"] for row in out.column("spans").to_pylist() for sp in row}
    assert langs == {"sw", "yo"}
    for row in out.column("spans").to_pylist():
        for sp in row:
            assert sp["replacement"] in {"sw": {"paka", "mbwa", "ndege"}, "yo": {"ologbo", "aja", "eye"}}[sp["lang"]]


def test_lexicon_weights_and_multiword(tmp_path) -> None:
    (tmp_path / "lex.tsv").write_text("ice cream\taiskrimu\t1\nhouse\tnyumba\t9\nhouse\tkaya\t1\n")
    lex = Lexicon.from_file(tmp_path / "lex.tsv")
    assert lex.max_words == 2 and "Ice Cream" in lex
    import random

    rng = random.Random(0)
    draws = [lex.sample("house", rng) for _ in range(2000)]
    assert 0.85 < draws.count("nyumba") / 2000 < 0.95
    table = _parallel([{"id": "a", "text": "I like ice cream at the house."}], need_target=False)
    out = CodeSwitcher(
        "dictionary", ["sw"], ratio=1.0, unit="phrase", seed=1, lexicons={"sw": str(tmp_path / "lex.tsv")}
    )(table)
    assert out.column("text")[0].as_py() in ("I like aiskrimu at the nyumba.", "I like aiskrimu at the kaya.")
    word = CodeSwitcher(
        "dictionary", ["sw"], ratio=1.0, unit="word", seed=1, lexicons={"sw": str(tmp_path / "lex.tsv")}
    )(table)
    assert "ice cream" in word.column("text")[0].as_py()


def test_induced_lexicon() -> None:
    recs = list(pairs(300, seed=2, protected=0.0))
    lex = Lexicon.induce((r["src"], r["tgt"], r["alignment"]) for r in recs)
    _, truth = vocab(seed=0)
    assert len(lex) > 50
    hits = [w for w in list(truth)[:400] if w in lex]
    assert hits and all(set(lex.candidates(w)) <= {c.lower() for c in truth[w]} for w in hits)


# ------------------------------------------------------------------ align mode


def test_phrase_extraction_is_alignment_consistent() -> None:
    # src: a b c ; tgt: X Y ; links a-X, b-Y, c-Y  ->  (b c) is a phrase, (b) alone is not
    links = parse_alignment("0-0 1-1 2-1", 3, 2)
    phrases = extract_phrases(links, 3)
    assert (1, 2, 1, 1) in phrases and (0, 0, 0, 0) in phrases
    assert not any(p[:2] == (1, 1) for p in phrases)
    with pytest.raises(AlignmentError):
        parse_alignment("0-5", 3, 2)
    with pytest.raises(AlignmentError):
        parse_alignment("0_1", 3, 2)


def test_align_mode_uses_target_forms_and_rejects_bad_alignments() -> None:
    recs = list(pairs(200, seed=6, protected=0.5)) + [
        {"id": "bad", "src": "a b c", "tgt": "x y", "alignment": "0-9"},
        {"id": "none", "src": "a b c", "tgt": "x y"},
    ]
    table = _parallel(recs)
    out = CodeSwitcher("align", ["sw"], ratio=0.4, unit="phrase", seed=3)(table)
    reasons = out.column("drop_reason").to_pylist()
    assert reasons[-2:] == ["malformed_alignment", "missing_alignment"]
    good = [r for r, why in zip(out.to_pylist(), reasons) if why is None]
    ratios = [r["ratio"] for r in good]
    assert abs(sum(ratios) / len(ratios) - 0.4) <= 0.05
    for row, rec in zip(good, recs):
        tgt_tokens = rec["tgt"].split()
        for sp in row["spans"]:
            assert sp["method"] == "align"
            assert all(tok in tgt_tokens for tok in sp["replacement"].split())
            assert row["text"][sp["out_start"] : sp["out_end"]] == sp["replacement"]


# ------------------------------------------------------------------ translate mode


class _Bracketing:
    """A stand-in translator: upper-cases the text; drops brackets for 'lose' inputs."""

    name = "fake"
    stats: dict = {}

    def __init__(self) -> None:
        self.calls = []

    def translate(self, texts, src, tgt):
        self.calls.append(list(texts))
        out = []
        for t in texts:
            if "lose" in t and "[" in t:
                out.append(TranslationResult(t.replace("[", "").replace("]", "").upper(), 0.0))
            else:
                out.append(TranslationResult(t.upper(), 0.0))
        return out


class _Spec:
    resources = None

    def build(self):
        return _Bracketing()


def test_translate_mode_in_context_and_fallback() -> None:
    table = _parallel(
        [{"id": "1", "text": "We like green tea. We lose keys often."}, {"id": "2", "text": "we like green tea."}],
        need_target=False,
    )
    stage = CodeSwitcher("translate", ["sw"], ratio=1.0, seed=1, spec=_Spec())
    out = stage(table)
    rows = out.to_pylist()
    assert rows[0]["text"] == "WE LIKE GREEN TEA. WE LOSE KEYS OFTEN."
    methods = {sp["source"]: sp["method"] for sp in rows[0]["spans"]}
    assert methods["tea"] == "mt-context" and methods["keys"] == "mt-isolated"
    # one call for the bracketed sentences, one for the fallbacks, duplicates sent once
    assert len(stage._translator.calls) == 2
    assert len(stage._translator.calls[0]) == len(set(stage._translator.calls[0]))
    assert rows[1]["ratio"] == pytest.approx(1.0)


# ------------------------------------------------------------------ reader


def test_parallel_reader_rejects_misaligned_input() -> None:
    src_msgs = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    recs = [
        {"id": "ok", "src": "a", "tgt": "b"},
        {"id": "hf", "translation": {"en": "a", "sw": "b"}},
        {"id": "empty", "src": "a", "tgt": "  "},
        {"id": "nothing", "foo": 1},
        {
            "id": "turns",
            "messages": [{"role": "user", "content": "Jambo"}],
            "original": orjson.dumps({"messages": src_msgs}).decode(),
            "format": "messages",
        },
        {"id": "mono", "text": "just text"},
        {
            "id": "tr",
            "messages": [{"role": "user", "content": "Jambo"}, {"role": "assistant", "content": "Habari"}],
            "original": orjson.dumps({"messages": src_msgs}).decode(),
            "format": "messages",
            "source_id": "s1",
        },
    ]
    out = ParallelParser("en", "sw")(_docs(recs))
    assert out.column("drop_reason").to_pylist() == [
        None,
        None,
        "empty_side",
        "malformed_parallel",
        "turn_count_mismatch",
        "no_target",
        None,
    ]
    row = out.to_pylist()[-1]
    assert (
        row["roles"] == ["user", "assistant"]
        and row["src_segments"] == ["Hi", "Hello"]
        and row["tgt_segments"] == ["Jambo", "Habari"]
    )
    assert row["source_id"] == "s1"
    alpaca = ParallelParser("en", "sw", need_target=False)(
        _docs([{"id": "a", "instruction": "Say hi.", "input": "", "output": "Hi!"}])
    ).to_pylist()[0]
    assert (
        alpaca["drop_reason"] is None
        and alpaca["roles"] == ["user", "assistant"]
        and alpaca["src_segments"] == ["Say hi.", "Hi!"]
    )
    tsv = ParallelParser("en", "sw")(
        pa.table({"id": ["f:0", "f:1"], "text": ["a b\tx y\t0-0 1-1", "no tab here"], "source": ["f", "f"]})
    )
    assert tsv.column("drop_reason").to_pylist() == [None, "malformed_parallel"]
    assert tsv.column("alignment").to_pylist()[0] == "0-0 1-1"


# ------------------------------------------------------------------ prompts


def _conversations(n: int) -> list[dict]:
    recs = []
    for i in range(n):
        src = {
            "messages": [
                {"role": "user", "content": f"What is item {i}? Tell me."},
                {"role": "assistant", "content": f"It is thing {i}. Really."},
            ]
        }
        tgt = [
            {"role": "user", "content": f"Ni nini kitu {i}? Niambie."},
            {"role": "assistant", "content": f"Ni jambo {i}. Kweli."},
        ]
        recs.append(
            {
                "id": f"c{i}",
                "messages": tgt,
                "original": orjson.dumps(src).decode(),
                "format": "messages",
                "src_lang": "en",
                "tgt_lang": "sw",
            }
        )
    return recs


def test_xicl_prompts() -> None:
    table = _parallel(_conversations(12))
    out = CrossLingualICL(shots=3, ratio=0.5, seed=1)(table)
    rows = out.to_pylist()
    assert all(r["drop_reason"] is None for r in rows)
    for i, r in enumerate(rows):
        prompt = r["messages"][0]["content"]
        assert prompt.rstrip().endswith(f"Ni nini kitu {i}? Niambie.\nA:")
        assert r["messages"][1]["content"] == f"Ni jambo {i}. Kweli."
        assert prompt.count("Q: ") == 4
        for sp in r["spans"]:
            assert prompt[sp["out_start"] : sp["out_end"]] == sp["replacement"]
    assert any(r["spans"] for r in rows) and 0 < sum(r["ratio"] for r in rows) / len(rows) < 1
    assert out.equals(CrossLingualICL(shots=3, ratio=0.5, seed=1)(table))


def test_xcot_prompts_both_directions() -> None:
    table = _parallel(_conversations(2))
    rows = CrossLingualCoT(ask="src")(table).to_pylist()
    assert rows[0]["messages"][0]["content"].startswith("Answer the following question in Swahili.")
    assert rows[0]["messages"][0]["content"].endswith("What is item 0? Tell me.")
    assert rows[0]["messages"][1]["content"] == "Ni jambo 0. Kweli."
    rev = CrossLingualCoT(ask="tgt")(table).to_pylist()
    assert rev[0]["messages"][0]["content"].startswith("Jibu swali lifuatalo kwa Kiingereza.")
    assert rev[0]["messages"][1]["content"] == "It is thing 0. Really."
    assert rows[0]["cmi"] > 0


def test_dictionary_mode_with_an_induced_lexicon(tmp_path) -> None:
    path = tmp_path / "aligned.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in pairs(300, seed=2, protected=0.0)) + b"\n")
    table = _parallel(list(pairs(50, seed=9, protected=0.0)))
    out = CodeSwitcher("dictionary", ["sw"], ratio=0.3, seed=1, induce={"sw": str(path)})(table)
    spans = [sp for row in out.column("spans").to_pylist() for sp in row]
    _, truth = vocab(seed=0)
    assert spans and all(sp["method"] == "dictionary-induced" for sp in spans)
    assert all(sp["replacement"].lower() in [c.lower() for c in truth[sp["source"].lower()]] for sp in spans)


def test_stats_tags_untagged_text_with_word_level_lid(tmp_path) -> None:
    from typer.testing import CliRunner

    from babelmill.pipelines.cli import app

    f = tmp_path / "raw.txt"
    f.write_text("Das ist ein sehr gutes Buch und I really love it\nThe weather is nice today\n")
    res = CliRunner().invoke(app, ["codeswitch", "stats", str(f), "--lid", "--lid-langs", "en,de", "--json"])
    assert res.exit_code == 0, res.output
    stats = orjson.loads(res.output)
    assert stats["utterances"] == 2 and set(stats["languages"]) == {"de", "en"}
    assert stats["cmi_mean_mixed"] > 0 and stats["switch_points_mean"] >= 0.5


def test_conll_tagged_input(tmp_path) -> None:
    from babelmill.processors.codeswitch.tagged import read_tagged

    f = tmp_path / "lince.conll"
    f.write_text(
        "# sent_enum = 1\nI\tlang1\nlove\tlang1\ntacos\tlang2\n!\tother\n\n# sent_enum = 2\nMaria\tne\ncome\tlang2\n"
    )
    utts = list(read_tagged(f))
    assert utts == [
        (["I", "love", "tacos", "!"], ["lang1", "lang1", "lang2", "other"]),
        (["Maria", "come"], ["ne", "lang2"]),
    ]
    s = measure(utts)
    assert s["cmi_mean"] == pytest.approx((100 * (1 - 2 / 3) + 0) / 2) and s["switch_points_mean"] == pytest.approx(0.5)


def test_tiktoken_is_optional(monkeypatch) -> None:
    import sys

    from babelmill.processors.errors import BabelmillError
    from babelmill.processors.interleave.tokens import TokenCounter

    monkeypatch.setitem(sys.modules, "tiktoken", None)  # as if not installed
    with pytest.raises(BabelmillError, match="tiktoken"):
        TokenCounter("cl100k_base").load()


def test_record_language_codes_are_normalised() -> None:
    out = ParallelParser("en", "sw")(
        _docs([{"id": "a", "src": "x", "tgt": "y", "src_lang": "eng_Latn", "tgt_lang": "swh_Latn"}])
    ).to_pylist()[0]
    assert (out["src_lang"], out["tgt_lang"]) == ("en", "sw")


def test_phrase_unit_with_a_word_lexicon_switches_runs(lexicon_file) -> None:
    table = _parallel(list(pairs(300, seed=12, protected=0.3)))
    out = CodeSwitcher("dictionary", ["sw"], ratio=0.5, unit="phrase", seed=4, lexicons={"sw": lexicon_file})(table)
    rows = out.to_pylist()
    spans = [sp for r in rows for sp in r["spans"]]
    multi = [sp for sp in spans if " " in sp["source"]]
    assert multi and len(multi) < len(spans)
    lex = Lexicon.from_file(lexicon_file)
    for sp in multi:
        src_words, out_words = sp["source"].split(" "), sp["replacement"].split(" ")
        assert len(src_words) == len(out_words)
        assert all(o.lower() in [c.lower() for c in lex.candidates(w)] for w, o in zip(src_words, out_words))
    assert abs(sum(r["ratio"] for r in rows) / len(rows) - 0.5) <= 0.05
