"""HTML extraction on generated pages: the three extractors, charsets, the fallback rule
of ``auto``, bounded work per page (bombs, oversized pages), URL blocklists, and WARC /
Parquet files split into several shards."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from babelmill.pipelines.executor import OutputLayout, run_shard
from babelmill.processors.extract import (
    AutoExtractor,
    ResiliparseExtractor,
    TrafilaturaExtractor,
    UrlBlocklistFilter,
    decode_html,
    make_extractor,
    page_hints,
)
from babelmill.processors.extract.auto import N_FEATURES, block_features, block_scores, blocks
from babelmill.processors.io import ReaderOptions, discover_shards, read_shard
from babelmill.processors.io.warc import align, byte_ranges, splittable
from babelmill.processors.validate import EmptyTextFilter

SENTENCES = [
    "The people of this town have always said that the water from the river is good for the farms and the gardens.",
    "In the spring the river rises and floods the lower fields, which makes the soil rich and dark for the barley.",
    "Older residents still remember the great flood, when the bridge was closed for a whole month in the winter.",
    "Boats carried bread and letters from one side of the valley to the other until the water went back down.",
    "Today the town council plans a new dam upstream, and the farmers argue about it in the market every week.",
]
NAV = "".join(f"<li><a href='/section/{i}'>Section number {i}</a></li>" for i in range(12))
RELATED = "".join(f"<li><a href='/story/{i}'>Another story you may like, part {i}</a></li>" for i in range(10))


def article_page(title: str = "River town", extra: str = "", lang: str = "en") -> str:
    paras = "".join(f"<p>{s}</p>" for s in SENTENCES)
    return (
        f"<html lang='{lang}'><head><meta charset='utf-8'><title>{title} &amp; more</title><script>var tracking = 1;</script></head><body>"
        f"<header><nav><ul>{NAV}</ul></nav></header>"
        f"<main><article><h1>{title}</h1>{paras}{extra}</article></main>"
        f"<aside><h3>Related</h3><ul>{RELATED}</ul></aside>"
        "<footer><p>Copyright 2024 River Media. All rights reserved. Imprint. Privacy.</p></footer></body></html>"
    )


def batch_of(pages: list[str], ctype: str | None = "text/html", metas: list[str] | None = None) -> pa.Table:
    n = len(pages)
    return pa.table(
        {
            "id": [f"p{i}" for i in range(n)],
            "text": pages,
            "meta": metas or [json.dumps({"url": f"https://example.org/{i}"}) for i in range(n)],
            "content_type": [ctype] * n,
        }
    )


def reasons(table: pa.Table) -> list[str | None]:
    return table.column("drop_reason").to_pylist() if "drop_reason" in table.column_names else [None] * table.num_rows


# ------------------------------------------------------------------ extractors


@pytest.mark.parametrize("name", ["auto", "resiliparse", "trafilatura"])
def test_extractors_keep_the_article_and_drop_the_boilerplate(name: str) -> None:
    table_html = "<table><tr><th>Year</th><th>Flood height</th></tr><tr><td>1951</td><td>four metres</td></tr></table>"
    ordered = "<p>The council listed these measures for the coming spring season in the whole valley:</p><ol><li>raise the old dike by one metre</li><li>plant willows along the bank</li></ol>"
    bullets = "<ul><li>close the lower road in March</li><li>move the market square</li></ul>"
    closing = "<p>After these lists the article goes on with one more paragraph about the work on the river.</p>"
    stage = make_extractor(name, time_budget=0)
    out = stage(batch_of([article_page(extra=table_html + ordered + bullets + closing)]))
    assert reasons(out) == [None]
    text = out.column("text")[0].as_py()
    for s in SENTENCES:
        assert s in text
    assert "four metres" in text and "plant willows along the bank" in text and "more paragraph about the work" in text
    # resiliparse's main-content rules drop <ul> lists as navigation (auto inherits that)
    assert ("move the market square" in text) == (name == "trafilatura")
    for junk in ("<p>", "var tracking", "Section number 3", "Copyright 2024"):
        assert junk not in text
    if name != "resiliparse":  # resiliparse keeps an <aside> link list that auto's window drops
        assert "Another story you may like" not in text
    assert "content_type" not in out.column_names


def test_meta_keeps_url_title_and_language_hints() -> None:
    page = article_page(title="Flussstadt", lang="de-AT").replace(
        "<head>", "<head><meta http-equiv='Content-Language' content='de'>"
    )
    out = ResiliparseExtractor(time_budget=0)(batch_of([page]))
    meta = json.loads(out.column("meta")[0].as_py())
    assert meta == {
        "url": "https://example.org/0",
        "title": "Flussstadt & more",
        "html_lang": "de-AT",
        "meta_content_language": "de",
    }
    assert page_hints("<p>no head</p>") == {}


def test_non_html_rows_and_rows_without_content_type_column_pass_through() -> None:
    stage = AutoExtractor(time_budget=0)
    plain = pa.table({"id": ["a"], "text": ["just text"], "meta": [None]})
    assert stage(plain).equals(plain)
    out = stage(batch_of(["plain words, no markup"], ctype="text/plain"))
    assert out.column("text").to_pylist() == ["plain words, no markup"] and reasons(out) == [None]


def test_page_without_text_is_rejected() -> None:
    out = AutoExtractor(time_budget=0)(batch_of(["<html><body><script>x=1</script></body></html>"]))
    assert reasons(out) == ["no_extracted_text"]


# ------------------------------------------------------------------ charsets


def test_charset_from_header_then_meta_then_detection() -> None:
    ru = "<html><body><p>Москва — столица России, крупнейший город страны.</p></body></html>"
    text, codec, how = decode_html(ru.encode("cp1251"), "text/html; charset=windows-1251")
    assert (text, codec, how) == (ru, "cp1251", "header")
    ja = "<html><head><meta charset='shift_jis'></head><body><p>東京は日本の首都です。</p></body></html>"
    text, codec, how = decode_html(ja.encode("shift_jis"), "text/html")
    assert text == ja and how == "meta"
    # a wrong header charset that does not decode is not trusted: the meta one is
    text, _, how = decode_html(ja.encode("shift_jis"), "text/html; charset=utf-8")
    assert text == ja and how == "meta"
    # nothing declared, not UTF-8: detected, not replaced with U+FFFD
    de = (
        "<html><body><p>"
        + "Die Grüße aus München über die Straße sind schön, für Jürgen und Käthe. " * 20
        + "</p></body></html>"
    )
    text, codec, how = decode_html(de.encode("cp1252"), None)
    assert how == "detected" and "\ufffd" not in text and "Grüße aus München" in text
    # latin-1 labels mean windows-1252 (WHATWG): the euro sign survives
    text, codec, _ = decode_html("<p>5 € für Käse</p>".encode("cp1252"), "text/html; charset=ISO-8859-1")
    assert text == "<p>5 € für Käse</p>" and codec == "cp1252"
    assert decode_html("\ufeff<p>bom</p>".encode("utf-8"))[2] == "bom"


def test_warc_reader_decodes_by_charset(tmp_path: Path) -> None:
    path = tmp_path / "cs.warc.gz"
    pages = [
        (
            "https://example.org/ru",
            "text/html; charset=koi8-r",
            "<html><body><p>Привет, мир! Это проверка кодировки.</p></body></html>",
            "koi8-r",
        ),
        (
            "https://example.org/fr",
            "text/html",
            "<html><head><meta charset='iso-8859-15'></head><body><p>Ça coûte 5 € à Noël.</p></body></html>",
            "iso-8859-15",
        ),
    ]
    write_warc(path, [(u, ct, html.encode(enc)) for u, ct, html, enc in pages], gz=True)
    (shard,) = discover_shards([str(path)])
    rows = [r for b in read_shard(shard, ReaderOptions()) for r in b.docs.to_pylist()]
    got = {json.loads(r["meta"])["url"]: r["text"] for r in rows}
    assert got == {u: html for u, _, html, _ in pages}
    assert json.loads(rows[0]["meta"])["charset"] == "koi8-r (header)"


# ------------------------------------------------------------------ auto's fallback rule


def test_blocks_measure_link_density() -> None:
    marked = (
        "<h2>Title</h2>\n\n<p>plain words and <a href='x'>a link</a></p>\n\n<ul><li><a href='y'>all link</a></li></ul>"
    )
    got = blocks(marked)
    assert [b[0] for b in got] == ["Title", "plain words and a link", "all link"]
    assert got[0][2] and not got[1][2]
    assert got[1][1] == pytest.approx(len("a link") / len("plain words and a link"))
    assert got[2][1] == 1.0


def test_auto_window_and_fallback_rule() -> None:
    stage = AutoExtractor(time_budget=0)
    long = "x" * 120
    # an article between link lists: the window drops the lists, the page is not poor
    text, poor = stage.window(
        [("menu", 1.0, False)] + [("Head", 0.0, True)] + [(long, 0.0, False)] * 10 + [("more", 1.0, False)]
    )
    assert text.split("\n") == ["Head"] + [long] * 10 and not poor
    # link-heavy page: poor
    _, poor = stage.window([(long, 0.0, False)] * 2 + [("y" * 60, 1.0, False)] * 10)
    assert poor
    # most of the text outside the window: poor
    _, poor = stage.window([("z" * 70, 0.0, False)] * 20 + [(long, 0.0, False)])
    assert poor
    # no good block at all: poor
    assert stage.window([("short", 0.0, False)])[1]


def test_auto_falls_back_to_trafilatura_on_a_link_farm_only() -> None:
    farm = "<html><body>" + "".join(
        f"<div><a href='/{i}'>Link number {i} to another page of this site</a></div>" for i in range(60)
    )
    farm += "".join(f"<p>{s}</p>" for s in SENTENCES[:2]) + "</body></html>"
    stage = AutoExtractor(time_budget=0)
    out = stage(batch_of([article_page(), farm]))
    assert stage.take_counters() == {"fallback_trafilatura": 1}
    assert SENTENCES[0] in out.column("text")[1].as_py()
    no_fb = AutoExtractor(time_budget=0, fallback=False)
    no_fb(batch_of([farm]))
    assert not no_fb.take_counters()


# ------------------------------------------------------------------ bounded work


def test_oversized_page_is_rejected_before_parsing() -> None:
    huge_attr = "<html><body><div data-x='" + "A" * 3_000_000 + "'><p>hidden</p></div></body></html>"
    stage = TrafilaturaExtractor(max_page_chars=1_000_000, time_budget=0)
    started = time.perf_counter()
    out = stage(batch_of([article_page(), huge_attr, article_page()]))
    assert time.perf_counter() - started < 5
    assert reasons(out) == [None, "page_too_large", None]
    assert out.column("text")[1].as_py() == ""


@pytest.mark.timeout(120)
def test_bombs_cost_at_most_the_budget_and_spare_the_batch() -> None:
    budget = 1.0
    many_tags = "<html><body>" + "<p><b>x</b><i>y</i></p>" * 400_000 + "</body></html>"  # ~9 MB, 1.2M tags
    stage = TrafilaturaExtractor(time_budget=budget, max_page_chars=50_000_000)
    stage.setup()  # the worker process starts outside any page's budget
    started = time.perf_counter()
    text, reason = stage.extract_page(many_tags)
    spent = time.perf_counter() - started
    assert reason == "extract_timeout" and text is None
    assert spent < budget + 2.0, spent
    # the worker is replaced and the rest of a batch goes on
    out = stage(batch_of([article_page(), many_tags, article_page()]))
    assert reasons(out) == [None, "extract_timeout", None]
    assert SENTENCES[0] in out.column("text")[2].as_py()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("bomb", ["deep", "attributes"])
def test_fast_extractors_survive_bombs_within_budget(bomb: str) -> None:
    if bomb == "deep":
        page = "<html><body>" + "<div>" * 200_000 + "deep text" + "</div>" * 200_000 + "</body></html>"
    else:
        page = (
            "<html><body>"
            + "".join(f"<span title='{'v' * 5000}' data-{i}='{'w' * 5000}'>t{i}</span>" for i in range(300))
            + "</body></html>"
        )
    stage = AutoExtractor(time_budget=3.0, max_page_chars=50_000_000)
    stage.setup()
    started = time.perf_counter()
    _, reason = stage.extract_page(page)
    assert time.perf_counter() - started < 3.0 + 2.0
    assert reason in (None, "extract_timeout", "no_extracted_text")
    # (a worker killed on the bomb is restarted for the next page, outside the budget)
    out = stage(batch_of([page, article_page()]))
    assert reasons(out)[0] in (None, "extract_timeout", "no_extracted_text")
    assert reasons(out)[1] is None and SENTENCES[1] in out.column("text")[1].as_py()


# ------------------------------------------------------------------ URL blocklist


def test_url_blocklist_domains_prefixes_and_words(tmp_path: Path) -> None:
    domains = tmp_path / "domains"
    domains.write_text("# UT1 adult list\nbad.example\nwww.worse.example\n")
    urls = tmp_path / "urls"
    urls.write_text("good.example/private/\n")
    words = tmp_path / "words"
    words.write_text("casino\n")
    stage = UrlBlocklistFilter([str(domains), str(urls)], [str(words)])
    got = {
        url: stage.decide(url)
        for url in (
            "https://bad.example/page",
            "http://sub.bad.example/x",
            "https://worse.example/",
            "https://notbad.example/",
            "https://good.example/private/a",
            "https://good.example/public/a",
            "https://good.example/online-casino-guide",
            "https://good.example/casinos",
        )
    }
    assert got == {
        "https://bad.example/page": "url_blocked_domain",
        "http://sub.bad.example/x": "url_blocked_domain",
        "https://worse.example/": "url_blocked_domain",
        "https://notbad.example/": None,
        "https://good.example/private/a": "url_blocked_url",
        "https://good.example/public/a": None,
        "https://good.example/online-casino-guide": "url_blocked_word",
        "https://good.example/casinos": None,
    }
    metas = [json.dumps({"url": "https://bad.example/"}), json.dumps({"url": "https://ok.example/"}), None]
    out = stage(pa.table({"id": ["a", "b", "c"], "text": ["x", "y", "z"], "meta": metas}))
    assert reasons(out) == ["url_blocked_domain", None, None]


# ------------------------------------------------------------------ splitting


def write_warc(path: Path, pages: list[tuple[str, str, bytes]], gz: bool) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "babelmill-tests"}))
        for url, ctype, body in pages:
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
            )


def crawl_pages(n: int) -> list[tuple[str, str, bytes]]:
    out = []
    for i in range(n):
        if i % 17 == 5:
            out.append((f"https://example.org/img{i}.png", "image/png", b"\x89PNG" + bytes(range(256)) * 3))
        else:
            out.append(
                (
                    f"https://example.org/p{i}",
                    "text/html; charset=utf-8",
                    article_page(title=f"Page {i} of the crawl").encode(),
                )
            )
    return out


def kept_and_rejected(layout: OutputLayout, shards) -> tuple[list, list]:
    kept, rejected = [], []
    for s in shards:
        kept += pq.read_table(layout.data(s.shard_id)).to_pylist()
        if layout.rejected(s.shard_id).exists():
            rejected += pq.read_table(layout.rejected(s.shard_id)).to_pylist()
    return sorted(kept, key=lambda r: r["id"]), sorted(rejected, key=lambda r: r["id"])


def merged_counts(markers: list[dict]) -> dict:
    from babelmill.pipelines.ledger import Ledger

    names = [s["stage"] for s in markers[0]["ledger"]["stages"]]
    return Ledger.merge([Ledger.from_dict(m["ledger"], m.get("timing")) for m in markers], names).to_dict()


@pytest.mark.parametrize("gz", [True, False])
def test_split_warc_gives_the_same_output_and_ledger_as_one_shard(tmp_path: Path, gz: bool) -> None:
    path = tmp_path / ("crawl.warc.gz" if gz else "crawl.warc")
    write_warc(path, crawl_pages(120), gz)
    assert splittable(str(path))
    stages = lambda: [ResiliparseExtractor(time_budget=0), EmptyTextFilter()]  # noqa: E731
    results = {}
    for split in (0, path.stat().st_size // 7):
        layout = OutputLayout(tmp_path / f"out{split}", "parquet")
        shards = discover_shards([str(path)], split_bytes=split)
        markers = [run_shard(s, ReaderOptions(split_bytes=split), stages(), layout) for s in shards]
        results[split] = (len(shards), kept_and_rejected(layout, shards), merged_counts(markers))
    (n1, out1, led1), (n7, out7, led7) = results.values()
    assert n1 == 1 and n7 >= 6
    assert out1 == out7 and led1 == led7
    assert led1["input"] == 120 and len(out1[0]) == 120 - len([i for i in range(120) if i % 17 == 5])


def test_align_finds_record_starts(tmp_path: Path) -> None:
    path = tmp_path / "c.warc.gz"
    write_warc(path, crawl_pages(10), True)
    from fastwarc.warc import ArchiveIterator

    starts = [r.stream_pos for r in ArchiveIterator(str(path))]
    with open(path, "rb") as fh:
        size = path.stat().st_size
        assert align(fh, 0, True, size) == 0
        assert align(fh, 1, True, size) == starts[1]
        assert align(fh, starts[3], True, size) == starts[3]
        assert align(fh, starts[-1] + 1, True, size) == size
    # one gzip stream over the whole file cannot be cut
    whole = tmp_path / "whole.warc.gz"
    import gzip

    plain = tmp_path / "c.warc"
    write_warc(plain, crawl_pages(10), False)
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    assert not splittable(str(whole)) and byte_ranges(str(whole), 100) == [(0, whole.stat().st_size)]


def test_split_parquet_by_row_groups(tmp_path: Path) -> None:
    path = tmp_path / "docs.parquet"
    n = 5000
    pq.write_table(pa.table({"text": [f"document number {i} " * 5 for i in range(n)]}), path, row_group_size=500)
    shards = discover_shards([str(path)], split_bytes=path.stat().st_size // 4)
    assert len(shards) >= 3 and all(s.row_groups for s in shards)
    rows = [r for s in shards for b in read_shard(s, ReaderOptions()) for r in b.docs.to_pylist()]
    (one,) = discover_shards([str(path)], split_bytes=0)
    assert rows == [r for b in read_shard(one, ReaderOptions()) for r in b.docs.to_pylist()]
    assert [r["id"] for r in rows] == [f"docs.parquet:{i}" for i in range(n)]


def test_resume_across_split_shards(ray_session, tmp_path: Path) -> None:
    from babelmill.pipelines.jobs import ExtractOptions, copy_job
    from babelmill.pipelines.runner import run

    path = tmp_path / "crawl.warc.gz"
    write_warc(path, crawl_pages(60), True)
    reader = ReaderOptions(split_bytes=path.stat().st_size // 4)
    extract = ExtractOptions(extractor="resiliparse", page_time_budget=0)
    out = tmp_path / "out"
    first = run(copy_job([str(path)], out, reader, extract=extract))
    assert first.ledger.input == 60
    shards = discover_shards([str(path)], split_bytes=reader.split_bytes)
    assert len(shards) >= 4
    layout = OutputLayout(out, "parquet")
    want = kept_and_rejected(layout, shards)
    # a run killed after some shards: two markers and their outputs gone
    for s in shards[1:3]:
        layout.marker(s.shard_id).unlink()
        layout.data(s.shard_id).unlink()
    again = run(copy_job([str(path)], out, reader, extract=extract))
    assert again.shards_skipped == len(shards) - 2
    assert kept_and_rejected(layout, shards) == want
    assert again.ledger.to_dict() == first.ledger.to_dict()
    timing = {t["stage"]: t for t in json.loads((out / "timing.json").read_text())["stages"]}
    assert set(timing) == {"read", "extract", "validate"} and timing["extract"]["seconds"] > 0
    assert "Time per stage" in (out / "report.html").read_text()


def test_split_jsonl_by_lines_numbers_records_as_one_shard(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    lines = []
    for i in range(400):
        if i % 50 == 7:
            lines.append("{broken json line")
        elif i % 40 == 3:
            lines.append("   ")  # blank lines are not records
        elif i % 3 == 0:
            lines.append(json.dumps({"id": f"own{i}", "text": f"document {i} " * (i % 9 + 1), "date": "2024-01-02"}))
        else:
            lines.append(json.dumps({"text": f"document {i} " * (i % 7 + 1), "date": "2024-01-02"}))
    path.write_text("\n".join(lines) + "\n")
    results = []
    for split in (0, path.stat().st_size // 6):
        layout = OutputLayout(tmp_path / f"out{split}", "parquet")
        shards = discover_shards([str(path)], split_bytes=split)
        markers = [run_shard(s, ReaderOptions(split_bytes=split), [EmptyTextFilter()], layout) for s in shards]
        quarantine = [
            json.loads(line)
            for s in shards
            if layout.quarantine(s.shard_id).exists()
            for line in layout.quarantine(s.shard_id).read_text().splitlines()
        ]
        results.append(
            (
                len(shards),
                kept_and_rejected(layout, shards),
                merged_counts(markers),
                sorted(q["record"] for q in quarantine),
            )
        )
    (n1, out1, led1, q1), (n6, out6, led6, q6) = results
    assert (
        n1 == 1
        and n6 >= 5
        and all(s.byte_range for s in discover_shards([str(path)], split_bytes=path.stat().st_size // 6))
    )
    assert out1 == out6 and led1 == led6 and q1 == q6 and len(q1) == 8
    assert "docs.jsonl:1" in {r["id"] for r in out1[0]}


def test_auto_block_features_flag_boilerplate_repeats_and_code() -> None:
    blks = blocks(
        "<p>Share this story on Facebook</p>\n\n<p>A plain sentence about the river and the town.</p>\n\n"
        "<pre>pip install river</pre>\n\n<p>A plain sentence about the river and the town.</p>"
    )
    feats = block_features(blks, [1], 1, 3)
    assert feats.shape == (4, N_FEATURES)
    boiler, dup, code = feats[:, 20], feats[:, 26], feats[:, 33]
    assert boiler.tolist() == [1.0, 0.0, 0.0, 0.0]
    assert dup.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert code.tolist() == [0.0, 0.0, 1.0, 0.0]
    assert block_scores(feats).shape == (4,) and block_features([], [], 0, 0).shape == (0, N_FEATURES)


def test_auto_keeps_a_list_between_kept_blocks_and_drops_trailing_boilerplate() -> None:
    steps = "<ol><li>raise the old dike by one metre</li><li>plant willows along the bank</li></ol>"
    tail = "<h3>You may also like</h3><p>© 2024 River Media. All rights reserved.</p>"
    page = article_page(extra=f"<p>{SENTENCES[0]}</p>{steps}<p>{SENTENCES[1]}</p>{tail}")
    stage = AutoExtractor(time_budget=0, fallback=False)
    stage.setup_local()
    blks = blocks(stage._extract(stage._parse(page), main_content=True, preserve_formatting="minimal_html", links=True))
    _, _, (good, first, last) = stage._window(blks)
    scores = dict(zip((b[0] for b in blks), block_scores(block_features(blks, good, first, last))))
    listed = next(t for t in scores if t.startswith("raise the old dike"))
    assert scores[listed] < stage.min_block_score  # short items alone score low ...
    text, poor = stage.select(blks)
    assert not poor and "raise the old dike by one metre\n" in text and "plant willows" in text  # ... but stay
    for junk in ("You may also like", "All rights reserved"):
        assert scores[next(t for t in scores if junk in t)] < stage.min_block_score and junk not in text
