"""Interleaving without Ray: interlinear loses and duplicates no token, packing never
exceeds the budget and covers every unit (with a tokenizer built here), alternation,
translation instructions, and unaligned documents rejected."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pyarrow as pa
import pytest

from babelmill.processors.codeswitch.synthetic import documents
from babelmill.processors.errors import BabelmillError
from babelmill.processors.interleave.stages import Alternate, Interlinear, Packer, TranslationInstructions
from babelmill.processors.interleave.tokens import TokenCounter
from babelmill.processors.io.parallel import ParallelParser
from tiny_tokenizer import build_tokenizer


def _parallel(records: list[dict]) -> pa.Table:
    docs = pa.table(
        {
            "id": [r["id"] for r in records],
            "text": [""] * len(records),
            "meta": [orjson.dumps(r).decode() for r in records],
            "source": ["x"] * len(records),
        }
    )
    return ParallelParser("en", "sw")(docs).drop_columns(["drop_reason"])


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory) -> Path:
    return build_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer")


def test_interlinear_loses_and_duplicates_no_token() -> None:
    docs = list(documents(40, seed=1))
    table = _parallel(docs)
    for order in ("src-tgt", "tgt-src", "alternate"):
        out = Interlinear(order=order, sep="\n")(table)
        for doc, text in zip(docs, out.column("text").to_pylist()):
            assert Counter(text.split()) == Counter(doc["src"].split()) + Counter(doc["tgt"].split())
            lines = text.split("\n")
            src_lines = doc["src"].split("\n")
            assert len(lines) == 2 * len(src_lines)
            first = (
                lines[0::2]
                if order == "src-tgt"
                else lines[1::2]
                if order == "tgt-src"
                else [lines[2 * i + (i % 2)] for i in range(len(src_lines))]
            )
            assert first == src_lines


def test_unaligned_documents_are_rejected() -> None:
    table = _parallel([{"id": "a", "src": "One.\nTwo.\nThree.", "tgt": "Moja.\nMbili."}])
    for stage in (Interlinear(), Alternate(unit="sentence")):
        assert stage(table).column("drop_reason").to_pylist() == ["unit_count_mismatch"]


def test_alternate_switches_language_every_unit() -> None:
    table = _parallel([{"id": "a", "src": "P one.\n\nP two.\n\nP three.", "tgt": "K moja.\n\nK mbili.\n\nK tatu."}])
    out = Alternate(unit="paragraph")(table)
    assert out.column("text").to_pylist() == ["P one.\n\nK mbili.\n\nP three."]


def test_pack_respects_budget_and_covers_every_unit(tokenizer_dir) -> None:
    docs = list(documents(30, seed=2, max_sents=40))
    table = _parallel(docs)
    counter = TokenCounter(str(tokenizer_dir))
    for budget, overlap in ((64, 1), (200, 2), (5000, 0)):
        packer = Packer(str(tokenizer_dir), max_tokens=budget, overlap=overlap)
        out = packer(table)
        rows = [r for r in out.to_pylist() if r["drop_reason"] is None]
        assert rows
        assert max(counter.count([r["text"] for r in rows])) <= budget
        assert all(r["tokens"] == n for r, n in zip(rows, counter.count([r["text"] for r in rows])))
        by_doc: dict[str, list[dict]] = {}
        for r in rows:
            by_doc.setdefault(r["source_id"], []).append(r)
        for doc in docs:
            if doc["id"] not in by_doc:  # rejected: one unit pair alone is over the budget
                continue
            src_lines = doc["src"].split("\n")
            covered = set()
            wins = by_doc[doc["id"]]
            for w in wins:
                covered.update(range(w["first_unit"], w["last_unit"] + 1))
                assert all(src_lines[i] in w["text"] for i in range(w["first_unit"], w["last_unit"] + 1))
            assert covered == set(range(len(src_lines)))
            for a, b in zip(wins, wins[1:]):  # neighbours overlap by at most `overlap` units
                assert b["first_unit"] > a["first_unit"] and a["last_unit"] - b["first_unit"] + 1 <= max(overlap, 0) + 0
    huge = Packer(str(tokenizer_dir), max_tokens=3)(table)
    assert set(huge.column("drop_reason").to_pylist()) == {"unit_over_budget"}


def test_tokenizer_errors_are_one_line(tmp_path) -> None:
    with pytest.raises(BabelmillError):
        TokenCounter(str(tmp_path)).load()  # a directory without a tokenizer
    f = tmp_path / "x.txt"
    f.write_text("x")
    with pytest.raises(BabelmillError):
        TokenCounter(str(f)).load()


def test_translation_instructions(tmp_path) -> None:
    table = _parallel([{"id": "a", "src": "Good morning.", "tgt": "Habari za asubuhi."}])
    out = TranslationInstructions(reverse=True)(table).to_pylist()
    assert [r["id"] for r in out] == ["a", "a#rev"]
    assert (
        out[0]["messages"][0]["content"] == "Translate the following text from English into Swahili:\n\nGood morning."
    )
    assert out[0]["messages"][1]["content"] == "Habari za asubuhi."
    assert out[1]["messages"][0]["content"].startswith(
        "Tafsiri maandishi yafuatayo kutoka Kiswahili kwenda Kiingereza:"
    )  # written in the source side's language
    user = tmp_path / "t.yaml"
    user.write_text("sw:\n  translate: 'Tafsiri kwa {target}:'\n")
    sw = TranslationInstructions(template_lang="sw", templates=str(user))(table).to_pylist()
    assert sw[0]["messages"][0]["content"].startswith("Tafsiri kwa Kiswahili:")


def test_pack_takes_an_unaligned_pair_whole_when_it_fits(tokenizer_dir) -> None:
    table = _parallel([{"id": "a", "src": "One.\nTwo.\nThree.", "tgt": "Moja.\nMbili."}])
    rows = Packer(str(tokenizer_dir), max_tokens=100)(table).to_pylist()
    assert rows[0]["drop_reason"] is None and rows[0]["text"] == "One.\nTwo.\nThree.\n\nMoja.\nMbili."
    assert Packer(str(tokenizer_dir), max_tokens=5)(table).column("drop_reason").to_pylist() == ["unit_count_mismatch"]
