"""NER readers (CoNLL layouts, JSONL, HF datasets), tag schemes and writers, and a run
of the runner over NER files with quarantine and a ``datasets`` round trip."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from babelmill.processors.io.records import ReaderOptions
from babelmill.processors.ner.options import NerOptions
from babelmill.processors.ner.readers import detect_layout, read_ner
from babelmill.processors.ner.schemes import TagSchemeNormalizer, detect_scheme, to_iob2
from babelmill.processors.ner.writers import NerTagEncoder, conll_text, export_conll, label_names_for, write_conll
from babelmill.processors.ner.features import label_names_in
from babelmill.processors.schema import NER_SCHEMA, conform


def _read(paths, **ner):
    table, bad = read_ner([str(p) for p in paths], ReaderOptions(ner=NerOptions(**ner)))
    return table.to_pylist(), [q.to_dict() for q in bad]


# ------------------------------------------------------------------ CoNLL


def test_conll2003_layout_crlf_docstart(tmp_path: Path) -> None:
    f = tmp_path / "en.conll"
    f.write_bytes(
        b"-DOCSTART- -X- -X- O\r\n\r\nEU NNP B-NP I-ORG\r\nrejects VBZ B-VP O\r\nGerman JJ B-NP I-MISC\r\n\r\n"
        b"-DOCSTART- -X- -X- O\r\n\r\nPeter NNP B-NP I-PER\r\nBlackburn NNP I-NP I-PER\r\n"
    )
    rows, bad = _read([f])
    assert bad == []
    assert [r["tokens"] for r in rows] == [["EU", "rejects", "German"], ["Peter", "Blackburn"]]
    assert [r["tags"] for r in rows] == [
        ["I-ORG", "O", "I-MISC"],
        ["I-PER", "I-PER"],
    ]  # the NER column, not the chunk one
    assert [r["id"] for r in rows] == ["en.conll:0", "en.conll:1"]
    assert rows[0]["source"] == "en.conll"


def test_universal_ner_layout_with_comments_and_extra_columns(tmp_path: Path) -> None:
    f = tmp_path / "de.iob2"
    f.write_text(
        "# sent_id = s1\n# text = Anna wohnt in Wien\n1\tAnna\tB-PER\t-\t-\n2\twohnt\tO\t-\t-\n3\tin\tO\t-\t-\n4\tWien\tB-LOC\t-\t-\n\n"
        "# sent_id = s2\n1\t#\tO\t-\t-\n2\tx\tO\t-\t-\n"
    )
    rows, bad = _read([f], lang="de")
    assert bad == []
    assert rows[0]["tokens"] == ["Anna", "wohnt", "in", "Wien"]
    assert rows[0]["tags"] == ["B-PER", "O", "O", "B-LOC"]
    assert orjson.loads(rows[0]["meta"]) == {"sent_id": "s1"}
    assert rows[0]["lang"] == "de"
    assert rows[1]["tokens"] == ["#", "x"]  # a token '#' is not a comment


def test_plain_two_columns_and_forced_columns(tmp_path: Path) -> None:
    plain = tmp_path / "p.txt"
    plain.write_text("Oslo B-LOC\nis O\n\nfine O\n")
    rows, bad = _read([plain])
    assert [r["tags"] for r in rows] == [["B-LOC", "O"], ["O"]] and bad == []
    conll02 = tmp_path / "es.test.conll02"  # CoNLL-2002 naming is recognised too
    conll02.write_text("Lima\tB-LOC\n")
    assert _read([conll02])[0][0]["tokens"] == ["Lima"]
    odd = tmp_path / "odd.conll"
    odd.write_text("B-LOC\tOslo\tx\nO\tis\tx\n")
    rows, _ = _read([odd], token_column=1, tag_column=0)
    assert rows[0]["tokens"] == ["Oslo", "is"] and rows[0]["tags"] == ["B-LOC", "O"]


def test_detect_layout_prefers_rightmost_entity_column() -> None:
    rows = [["EU", "NNP", "B-NP", "B-ORG"], ["is", "VBZ", "B-VP", "O"]]
    assert detect_layout(rows).token == 0 and detect_layout(rows).tag == 3
    idx = [["1", "EU", "B-ORG", "-", "-"], ["2", "is", "O", "-", "-"]]
    assert (detect_layout(idx).token, detect_layout(idx).tag) == (1, 2)


def test_conll_malformed_sentences_quarantined(tmp_path: Path) -> None:
    f = tmp_path / "bad.conll"
    f.write_text("a\tO\nb\tB-PER\n\nragged\n\n\tO\n\n" + "".join(f"w{i}\tO\n" for i in range(6)) + "\nok\tO\n")
    rows, bad = _read([f], max_tokens=5)
    assert [r["tokens"] for r in rows] == [["a", "b"], ["ok"]]
    errors = [b["error"] for b in bad]
    assert "ragged line" in errors[0] and "empty token" in errors[1] and "exceeds the cap of 5" in errors[2]
    assert [b["record"] for b in bad] == [1, 2, 3]
    assert rows[1]["id"] == "bad.conll:4"  # ordinals count quarantined sentences too


# ------------------------------------------------------------------ JSONL and HF


def test_jsonl_tags_and_integer_ner_tags(tmp_path: Path) -> None:
    f = tmp_path / "x.jsonl"
    lines = [
        {"id": "a", "tokens": ["Ana", "sings"], "tags": ["B-PER", "O"], "lang": "es", "extra": 1},
        {"tokens": ["Rome"], "ner_tags": [3]},
        {"tokens": ["x", "y"], "tags": ["O"]},
        {"tokens": ["x"]},
    ]
    f.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    rows, bad = _read([f], label_names=("O", "B-PER", "I-PER", "B-LOC", "I-LOC"))
    assert [r["id"] for r in rows] == ["a", "x.jsonl:1"]
    assert rows[0]["lang"] == "es" and orjson.loads(rows[0]["meta"]) == {"extra": 1}
    assert rows[1]["tags"] == ["B-LOC"]
    assert ["1 tags" in b["error"] for b in bad] == [True, False, False]
    assert "no 'tags'" in bad[1]["error"] and "invalid JSON" in bad[2]["error"]
    _, bad = _read([f])
    assert any("need label names" in b["error"] for b in bad)


def _hf_dataset():
    import datasets

    names = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    feats = datasets.Features(
        {
            "id": datasets.Value("string"),
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
        }
    )
    return datasets.Dataset.from_dict(
        {"id": ["1", "2"], "tokens": [["Jo", "Kim", "ran"], ["in", "Lima"]], "ner_tags": [[1, 2, 0], [0, 3]]},
        features=feats,
    )


def test_hf_save_to_disk_and_load_dataset_paths(tmp_path: Path) -> None:
    ds = _hf_dataset()
    ds.save_to_disk(str(tmp_path / "saved"))
    rows, bad = _read([tmp_path / "saved"])
    assert bad == [] and [r["tags"] for r in rows] == [["B-PER", "I-PER", "O"], ["O", "B-LOC"]]
    (tmp_path / "pq").mkdir()
    ds.to_parquet(str(tmp_path / "pq" / "train.parquet"))
    table, bad = read_ner([str(tmp_path / "pq")], ReaderOptions(ner=NerOptions()), fmt="hf")
    assert bad == [] and table.column("tags").to_pylist()[1] == ["O", "B-LOC"]


# ------------------------------------------------------------------ tag schemes


@pytest.mark.parametrize(
    "tags,scheme,expected,repairs",
    [
        (["I-PER", "I-PER", "O", "I-LOC", "B-LOC"], "iob1", ["B-PER", "I-PER", "O", "B-LOC", "B-LOC"], 0),
        (["B-PER", "I-PER", "O", "I-LOC"], "iob2", ["B-PER", "I-PER", "O", "B-LOC"], 1),
        (["B-PER", "I-LOC", "I-LOC"], "iob2", ["B-PER", "B-LOC", "I-LOC"], 1),
        (
            ["S-PER", "B-LOC", "I-LOC", "E-LOC", "O", "U-ORG"],
            "bioes",
            ["B-PER", "B-LOC", "I-LOC", "I-LOC", "O", "B-ORG"],
            0,
        ),
        (["B-LOC", "L-LOC", "U-PER", "U-PER"], "bioes", ["B-LOC", "I-LOC", "B-PER", "B-PER"], 0),
        (["O", "E-LOC", "S-PER", "I-PER"], "bioes", ["O", "B-LOC", "B-PER", "B-PER"], 2),
        (["B-LOC", "O"], "bioes", ["B-LOC", "O"], 1),  # B- never closed by E-
        (["PER", "PER", "O", "LOC"], "io", ["B-PER", "I-PER", "O", "B-LOC"], 0),
    ],
)
def test_to_iob2(tags, scheme, expected, repairs) -> None:
    assert to_iob2(tags, scheme) == (expected, repairs)


def test_detect_scheme() -> None:
    assert detect_scheme([["I-PER", "O", "I-LOC", "B-LOC"]]) == "iob1"
    assert detect_scheme([["B-PER", "I-PER"], ["O", "I-LOC"]]) == "iob2"
    assert detect_scheme([["S-PER", "O"]]) == "bioes"
    assert detect_scheme([["U-PER", "O"]]) == "bioes"
    assert detect_scheme([["PER", "O"]]) == "io"
    assert detect_scheme([["O"]]) == "iob2"


def test_normalizer_detects_per_source_and_counts() -> None:
    batch = pa.table(
        {
            "id": ["a", "b", "c", "d"],
            "tags": [["I-PER", "O"], ["I-LOC", "B-LOC"], ["B-ORG", "I-PER"], ["X-PER"]],
            "source": ["one.conll", "one.conll", "two.conll", "two.conll"],
        }
    )
    stage = TagSchemeNormalizer()
    out = stage(batch)
    assert out.column("tags").to_pylist()[:3] == [["B-PER", "O"], ["B-LOC", "B-LOC"], ["B-ORG", "B-PER"]]
    assert out.column("drop_reason").to_pylist() == [None, None, None, "invalid_tag"]
    counters = stage.take_counters()
    assert counters["scheme_iob1"] == 2 and counters["scheme_iob2"] == 1
    assert counters["sequences_repaired"] == 1 and counters["tags_repaired"] == 1
    with pytest.raises(ValueError):
        TagSchemeNormalizer("bilou2")


# ------------------------------------------------------------------ writers


def test_conll_writer_round_trip(tmp_path: Path) -> None:
    table = pa.table({"tokens": [["Ana", "ran"], ["Lima"]], "tags": [["B-PER", "O"], ["B-LOC"]]})
    assert conll_text(table["tokens"].to_pylist(), table["tags"].to_pylist()) == "Ana\tB-PER\nran\tO\n\nLima\tB-LOC\n\n"
    write_conll(table, tmp_path / "out.conll")
    rows, bad = _read([tmp_path / "out.conll"])
    assert (
        bad == []
        and [r["tokens"] for r in rows] == table["tokens"].to_pylist()
        and [r["tags"] for r in rows] == table["tags"].to_pylist()
    )


def test_encoder_metadata_survives_conform_and_loads_as_classlabel(tmp_path: Path) -> None:
    import datasets

    assert label_names_for(["PER", "LOC", "PER"]) == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    batch = pa.table({"id": ["a", "b"], "tokens": [["Ana", "ran"], ["x"]], "tags": [["B-PER", "O"], ["B-ORG"]]})
    out = conform(NerTagEncoder(types=["PER", "LOC"])(batch), NER_SCHEMA)
    assert out.column("ner_tags").to_pylist() == [[3, 0], None]
    assert out.column("drop_reason").to_pylist() == [None, "unknown_label"]
    assert label_names_in(out.schema) == {"ner_tags": ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]}
    (tmp_path / "data").mkdir()
    pq.write_table(out.slice(0, 1).drop(["drop_reason"]), tmp_path / "data" / "x.parquet")
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "data" / "*.parquet"), split="train")
    assert ds.features["ner_tags"].feature.names == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    assert ds.features["ner_tags"].feature.int2str(ds[0]["ner_tags"]) == ["B-PER", "O"]


# ------------------------------------------------------------------ through the runner


def test_runner_reads_ner_shards(tmp_path: Path, ray_session) -> None:
    import datasets

    from babelmill.pipelines.runner import Job, run
    from babelmill.processors.ner.writers import NerTagEncoder

    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "a.conll").write_text("Ana B-PER\nran O\n\nbroken\n\nLima I-LOC\n")
    (inp / "b.jsonl").write_text(
        json.dumps({"tokens": ["Kim"], "tags": ["S-PER"]})
        + "\n"
        + json.dumps({"tokens": ["Oslo"], "tags": ["B-MISC"]})
        + "\n"
    )
    reader = ReaderOptions(ner=NerOptions())
    job = Job(
        "ner-copy",
        [str(inp)],
        tmp_path / "out",
        [TagSchemeNormalizer(), NerTagEncoder(types=["PER", "LOC"])],
        reader,
        schema="ner",
    )
    result = run(job)
    led = result.ledger
    assert (led.input, led.kept, led.rejected, led.quarantined) == (5, 3, 1, 1)
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "out" / "data" / "*.parquet"), split="train")
    names = ds.features["ner_tags"].feature
    assert sorted(tuple(names.int2str(r)) for r in ds["ner_tags"]) == [("B-LOC",), ("B-PER",), ("B-PER", "O")]
    card = (tmp_path / "out" / "README.md").read_text()
    assert "## Labels (`ner_tags`)" in card and "| 3 | B-PER |" in card
    assert export_conll(tmp_path / "out", tmp_path / "conll") == {"all": 3}
    quarantined = [
        orjson.loads(line)
        for f in (tmp_path / "out" / "quarantine").rglob("*.jsonl")
        for line in f.read_text().splitlines()
    ]
    assert len(quarantined) == 1 and "ragged line" in quarantined[0]["error"]


def test_truncated_compressed_conll_keeps_what_was_read(tmp_path: Path) -> None:
    import gzip

    body = "".join(f"w{i}\tO\n\n" for i in range(2000)).encode()
    data = gzip.compress(body)
    (tmp_path / "cut.conll.gz").write_bytes(data[: len(data) // 2])
    rows, bad = _read([tmp_path / "cut.conll.gz"])
    assert 0 < len(rows) < 2000
    assert len(bad) == 1 and "unreadable from sentence" in bad[0]["error"]
