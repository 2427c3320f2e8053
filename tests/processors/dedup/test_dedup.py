"""Exact + MinHash near-dedup on constructed sets whose answer is known.

Documents are random word sequences from a generated vocabulary, so two documents
share 5-grams only where the test put them there, and the true Jaccard similarity of
any pair can be computed exactly from the word lists.
"""

from __future__ import annotations

import pickle
import random
import string
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pytest

from babelmill.processors.dedup import (
    EXACT_DUPLICATE,
    NEAR_DUPLICATE,
    MinHashDeduplicator,
    normalize_texts,
    rehydration_weights,
)
from babelmill.processors.dedup.graph import bucket_edges
from babelmill.processors.dedup.minhash import mix64, shingle_hashes

NGRAM = 5


def make_vocab(rng: random.Random, size: int = 20_000) -> list[str]:
    words = {"".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(size)}
    return sorted(words)


def shingles(words: list[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    if len(words) < n:
        return {tuple(words)}
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: list[str], b: list[str]) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


def substitute(rng: random.Random, words: list[str], vocab: list[str], k: int) -> list[str]:
    out = list(words)
    for i in rng.sample(range(len(out)), k):
        out[i] = rng.choice(vocab)
    return out


def docs_table(texts: list[str | None], lang: str = "en") -> pa.Table:
    return pa.table({"id": [f"d{i}" for i in range(len(texts))], "text": texts, "lang": [lang] * len(texts)})


@pytest.fixture(scope="module")
def constructed():
    """Originals, exact and near copies, a chain, unrelated docs; returns (table, roles)."""
    rng = random.Random(7)
    vocab = make_vocab(rng)
    texts: list[str] = []
    roles: dict[str, list[int]] = {}

    def add(words_or_text, role: str) -> int:
        text = words_or_text if isinstance(words_or_text, str) else " ".join(words_or_text)
        texts.append(text)
        roles.setdefault(role, []).append(len(texts) - 1)
        return len(texts) - 1

    originals = [[rng.choice(vocab) for _ in range(200)] for _ in range(4)]
    o = [add(w, f"orig{i}") for i, w in enumerate(originals)]
    # exact copies: case, whitespace and punctuation only
    add(" ".join(originals[0]).upper(), "orig0")
    add("  " + "\n\t ".join(originals[0]) + " !!", "orig0")
    add(", ".join(w.capitalize() for w in originals[1]) + ".", "orig1")
    # near copies: two substituted words out of 200 (Jaccard ~0.9)
    near0 = substitute(rng, originals[0], vocab, 2)
    assert jaccard(near0, originals[0]) >= 0.85
    add(near0, "orig0")
    near2 = substitute(rng, originals[2], vocab, 1) + ["appendix", "words"]
    assert jaccard(near2, originals[2]) >= 0.85
    add(near2, "orig2")
    # a chain: 200-word windows shifted by 10 over one sequence; neighbours ~0.9 similar, ends ~0.47
    seq = [rng.choice(vocab) for _ in range(270)]
    for s in range(0, 80, 10):
        add(seq[s : s + 200], "chain")
    assert jaccard(seq[0:200], seq[70:270]) < 0.5
    # unrelated documents, some short (whole doc = one shingle)
    for _ in range(20):
        add([rng.choice(vocab) for _ in range(rng.randint(30, 150))], "unrelated")
    add(["lonely", "short", "doc"], "unrelated")
    assert o == [0, 1, 2, 3]
    return docs_table(texts), roles


@pytest.fixture(scope="module")
def deduped(constructed):
    table, _ = constructed
    return MinHashDeduplicator().dedup_table(table)


def _clusters(out: pa.Table) -> dict[int, int]:
    return dict(enumerate(out.column("dup_cluster_size").to_pylist()))


def test_exact_and_near_copies_are_found_with_reasons(constructed, deduped):
    _, roles = constructed
    reason = deduped.column("drop_reason").to_pylist()
    size = deduped.column("dup_cluster_size").to_pylist()
    orig0 = roles["orig0"]  # [0, 4, 5, 7]: original, upper, whitespace, near
    assert reason[orig0[0]] is None
    assert [reason[i] for i in orig0[1:]] == [EXACT_DUPLICATE, EXACT_DUPLICATE, NEAR_DUPLICATE]
    assert all(size[i] == 4 for i in orig0)
    orig1 = roles["orig1"]
    assert [reason[i] for i in orig1] == [None, EXACT_DUPLICATE] and [size[i] for i in orig1] == [2, 2]
    orig2 = roles["orig2"]
    assert [reason[i] for i in orig2] == [None, NEAR_DUPLICATE] and [size[i] for i in orig2] == [2, 2]
    assert reason[roles["orig3"][0]] is None and size[roles["orig3"][0]] == 1


def test_chain_is_one_cluster_though_its_ends_are_not_linked(constructed, deduped):
    table, roles = constructed
    chain = roles["chain"]
    reason = deduped.column("drop_reason").to_pylist()
    size = deduped.column("dup_cluster_size").to_pylist()
    assert reason[chain[0]] is None
    assert all(reason[i] == NEAR_DUPLICATE for i in chain[1:])
    assert all(size[i] == len(chain) for i in chain)
    # the ends are joined only through the middle: no band links them directly
    d = MinHashDeduplicator()
    sig = d.signatures(table)
    bands = d.band_matrix(sig)
    first, last = chain[0], chain[-1]
    assert not np.any(bands[first] == bands[last])
    edges = np.concatenate(d.near_edges(np.arange(table.num_rows), bands))
    assert not any({int(a), int(b)} == {first, last} for a, b in edges)


def test_unrelated_docs_are_never_merged(constructed, deduped):
    _, roles = constructed
    reason = deduped.column("drop_reason").to_pylist()
    size = deduped.column("dup_cluster_size").to_pylist()
    for i in roles["unrelated"]:
        assert reason[i] is None and size[i] == 1
    kept = sum(r is None for r in reason)
    assert kept == 4 + 1 + len(roles["unrelated"])  # one per original, one for the chain


def _groups(table: pa.Table) -> set[frozenset[str]]:
    """Clusters of size > 1 as sets of ids; checks each cluster's keeper is its first row."""
    d = MinHashDeduplicator()
    doc = np.arange(table.num_rows)
    sig = d.signatures(table)
    res = d.resolve(
        table.num_rows, d.exact_edges(doc, sig.column("exact_hash").to_numpy()), d.near_edges(doc, d.band_matrix(sig))
    )
    ids = table.column("id").to_pylist()
    members: dict[int, list[int]] = {}
    for doc_i, cluster in zip(res.column("doc").to_pylist(), res.column("cluster").to_pylist()):
        members.setdefault(cluster, []).append(doc_i)
    assert all(min(m) == cluster for cluster, m in members.items())
    return {frozenset(ids[i] for i in m) for m in members.values()}


def test_keeper_is_first_in_input_order_and_deterministic(constructed, deduped):
    table, _ = constructed
    shuffled = table.take(pa.array(np.random.default_rng(3).permutation(table.num_rows)))
    groups = _groups(table)
    assert groups == _groups(shuffled)  # the same clusters whatever the order
    out = MinHashDeduplicator().dedup_table(shuffled)
    ids = out.column("id").to_pylist()
    kept = {i for i, r in zip(ids, out.column("drop_reason").to_pylist()) if r is None}
    for group in groups:  # the kept member is the one that comes first in the new order
        first = next(i for i in ids if i in group)
        assert group & kept == {first}
    # a second run gives the same answer
    assert MinHashDeduplicator().dedup_table(shuffled).equals(out)


def test_batch_splitting_does_not_change_the_result(constructed, deduped):
    table, _ = constructed
    d = MinHashDeduplicator()
    whole = d.signatures(table)
    cuts = [0, 5, 6, 19, table.num_rows]
    parts = [d.signatures(table.slice(a, b - a)) for a, b in pairwise(cuts)]
    assert pa.concat_tables(parts).equals(whole)
    doc = np.arange(table.num_rows)
    res = d.resolve(
        table.num_rows,
        d.exact_edges(doc, whole.column("exact_hash").to_numpy()),
        d.near_edges(doc, d.band_matrix(whole)),
    )
    # phase 3 per batch, with global doc numbers, equals the one-table run
    marked = pa.concat_tables([d.mark(table.slice(a, b - a), doc[a:b], res) for a, b in pairwise(cuts)])
    assert marked.equals(deduped)


def test_s_curve_high_similarity_found_low_similarity_not():
    rng = random.Random(11)
    vocab = make_vocab(rng)
    texts, sims = [], []
    for k in range(400):
        base = [rng.choice(vocab) for _ in range(200)]
        if k % 2 == 0:  # high: a few substitutions and a small shift
            other = substitute(rng, base, vocab, rng.randint(0, 2))[rng.randint(0, 4) :]
        else:  # low: a large shift, Jaccard (196 - s) / (196 + s) <= 0.5
            s = rng.randint(66, 140)
            other = base[s:] + [rng.choice(vocab) for _ in range(s)]
        texts += [" ".join(base), " ".join(other)]
        sims.append(jaccard(base, other))
    d = MinHashDeduplicator()
    bands = d.band_matrix(d.signatures(docs_table(texts)))
    found = np.any(bands[0::2] == bands[1::2], axis=1)
    sims_a = np.array(sims)
    high, low = sims_a >= 0.85, sims_a <= 0.5
    assert high.sum() >= 150 and low.sum() >= 150
    assert found[high].mean() >= 0.97  # theory: >= 0.99 at 0.85
    assert found[low].mean() <= 0.10  # theory: <= 0.053 at 0.5
    assert not found[sims_a <= 0.3].any()


def test_exact_only_and_near_only():
    rng = random.Random(5)
    vocab = make_vocab(rng)
    base = [rng.choice(vocab) for _ in range(150)]
    texts = [" ".join(base), " ".join(base).upper(), " ".join(substitute(rng, base, vocab, 1))]
    table = docs_table(texts)
    exact_only = MinHashDeduplicator(near=False).dedup_table(table).column("drop_reason").to_pylist()
    assert exact_only == [None, EXACT_DUPLICATE, None]
    near_only = MinHashDeduplicator(exact=False).dedup_table(table).column("drop_reason").to_pylist()
    assert near_only == [None, NEAR_DUPLICATE, NEAR_DUPLICATE]
    cased = MinHashDeduplicator(lowercase=False, near=False).dedup_table(table).column("drop_reason").to_pylist()
    assert cased == [None, None, None]
    exact_stage = MinHashDeduplicator(near=False)
    sig = exact_stage.signatures(table)
    assert sig.column("bands").null_count == 3 and sig.column("exact_hash").null_count == 0
    with pytest.raises(ValueError):
        exact_stage.band_matrix(sig)
    assert exact_stage(table).equals(exact_stage.dedup_table(table))  # as a plain stage: within the batch


def test_chinese_documents_use_the_segmenter():
    words = [
        "我们",
        "今天",
        "天气",
        "非常",
        "好",
        "学校",
        "老师",
        "学生",
        "朋友",
        "中国",
        "北京",
        "上海",
        "经济",
        "发展",
        "科学",
        "技术",
        "工作",
        "生活",
        "城市",
        "农村",
        "历史",
        "文化",
        "音乐",
        "电影",
        "图书馆",
        "医院",
        "医生",
        "公司",
        "市场",
        "价格",
        "政府",
        "政策",
        "环境",
        "保护",
        "河流",
        "山区",
        "火车",
        "飞机",
        "电脑",
        "手机",
        "网络",
        "新闻",
        "报纸",
        "孩子",
        "父母",
        "家庭",
        "周末",
        "早上",
        "晚上",
        "吃饭",
        "喝茶",
        "运动",
        "比赛",
        "旅游",
        "季节",
        "春天",
        "夏天",
        "秋天",
    ]
    rng = random.Random(2)
    base = [rng.choice(words) for _ in range(160)]
    original = "".join(base)
    punctuated = "，".join("".join(base[i : i + 8]) for i in range(0, len(base), 8)) + "。"
    near = list(base)
    near[80] = "冬天"
    other = "".join(rng.choice(words) for _ in range(160))
    table = docs_table([original, punctuated, "".join(near), other], lang="zh")
    out = MinHashDeduplicator().dedup_table(table)
    assert out.column("drop_reason").to_pylist() == [None, EXACT_DUPLICATE, NEAR_DUPLICATE, None]
    assert out.column("dup_cluster_size").to_pylist() == [3, 3, 3, 1]
    # the segmenter really ran: far more shingles than one per line
    d = MinHashDeduplicator()
    _, _, lengths, _ = d.words(table)
    assert lengths[0] > 100


def test_shingle_hashes_match_a_plain_python_reference():
    rng = np.random.default_rng(0)
    lengths = np.array([7, 0, 3, 5, 12, 1], dtype=np.int64)
    words = rng.integers(0, 2**64 - 1, size=int(lengths.sum()), dtype=np.uint64)
    counts, got = shingle_hashes(lengths, words, 5)
    mul, mask = 0x9E3779B97F4A7C15, (1 << 64) - 1
    expected, start = [], 0
    for n in lengths:
        w = [int(x) for x in words[start : start + n]]
        start += n
        grams = [w[i : i + 5] for i in range(n - 4)] if n >= 5 else [w]
        for g in grams:
            h = 0x2545F4914F6CDD1D if not g else g[0]
            for x in g[1:]:
                h = (h * mul + x) & mask
            expected.append(h)
    assert counts.tolist() == [3, 1, 1, 1, 8, 1]
    assert got.tolist() == mix64(np.array(expected, dtype=np.uint64)).tolist()


def test_chunking_keeps_signatures_identical():
    rng = random.Random(4)
    vocab = make_vocab(rng, 2000)
    texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 900))) for _ in range(30)]
    table = docs_table(texts)
    big = MinHashDeduplicator()
    small = MinHashDeduplicator()
    small._chunk = 64  # documents longer than a chunk are split and their minima combined
    small._rows = 7  # big batches are tokenised in slices
    assert small.signatures(table).equals(big.signatures(table))


def test_bucket_edges_are_stars_to_the_smallest_doc():
    doc = np.array([9, 3, 7, 1, 5, 4], dtype=np.int64)  # deliberately unsorted
    keys = np.array([2, 1, 2, 3, 1, 2], dtype=np.uint64)
    edges = bucket_edges(doc, keys)
    assert sorted(map(tuple, edges.tolist())) == [(3, 5), (4, 7), (4, 9)]
    assert bucket_edges(np.arange(3), np.array([1, 2, 3], dtype=np.uint64)).shape == (0, 2)


def test_resolve_components_sizes_and_reasons():
    d = MinHashDeduplicator(rehydrate=True)
    exact = np.array([[2, 6]])
    near = [np.array([[2, 8], [6, 10]]), np.array([[1, 3]]), np.empty((0, 2), dtype=np.int64)]
    res = d.resolve(12, exact, near)
    rows = list(
        zip(
            *(
                res.column(c).to_pylist()
                for c in ("doc", "cluster", "cluster_size", "keep", "reason", "rehydration_weight")
            )
        )
    )
    assert rows == [
        (1, 1, 2, True, None, 2.0),
        (2, 2, 4, True, None, 3.0),
        (3, 1, 2, False, NEAR_DUPLICATE, None),
        (6, 2, 4, False, EXACT_DUPLICATE, None),
        (8, 2, 4, False, NEAR_DUPLICATE, None),
        (10, 2, 4, False, NEAR_DUPLICATE, None),
    ]
    assert d.take_counters()["clusters"] == 2
    with pytest.raises(ValueError):
        d.resolve(5, exact, near)
    assert d.resolve(3, np.empty((0, 2)), []).num_rows == 0


def test_rehydration_weights_follow_fineweb2():
    sizes = np.array([1, 2, 3, 4, 5, 99, 100, 999, 1000, 50_000])
    assert rehydration_weights(sizes).tolist() == [1, 2, 3, 3, 5, 5, 8, 8, 1, 1]


def test_mark_keeps_earlier_reasons_and_fills_singletons():
    d = MinHashDeduplicator(rehydrate=True)
    batch = pa.table({"id": ["a", "b", "c"], "text": ["x", "x", "y"], "drop_reason": [None, None, "too_short"]})
    res = d.resolve(10, np.array([[4, 5]]), [np.array([[4, 6]])])
    out = d.mark(batch, np.array([4, 5, 6]), res)
    assert out.column("drop_reason").to_pylist() == [None, EXACT_DUPLICATE, "too_short"]
    assert out.column("dup_cluster_size").to_pylist() == [3, 3, 3]
    assert out.column("rehydration_weight").to_pylist() == [3.0, None, None]
    lone = d.mark(batch, np.array([0, 1, 2]), res)
    assert lone.column("dup_cluster_size").to_pylist() == [1, 1, 1]
    assert lone.column("rehydration_weight").to_pylist() == [1.0, 1.0, 1.0]


def test_normalisation_collapses_case_punctuation_numbers_and_width():
    norm = normalize_texts(
        ["Hello,  WORLD!! 2024", "hello world 1999.5", "ＨＥＬＬＯ　world 7", None, "naïve café"]
    ).to_list()
    assert norm[0] == norm[1] == norm[2] == "hello world 0"
    assert norm[3] == ""
    assert norm[4] == "naïve café"  # diacritics are kept


def test_space_split_equals_every_spaced_profiles_word_regex():
    """The fast path of tokenizer="lang" must give what the profile's regex gives."""
    from babelmill import langs

    sample = [
        "Don't stop: the U.S.A. e.g. 3.14 and 1,000,000 -- see www.example.com or mail a.b@c.org...",
        "Ünïcödé café naïve — «quoted» ‘single’ “double” co\u00adoperation zero\u200bwidth",
        "Привет, мир! Как дела? Γειά σου, κόσμε. Բարեւ աշխարհ։ გამარჯობა მსოფლიო",
        "مرحبا بالعالم، كيف حالك؟ سلام دنیا می\u200cخواهم שלום עולם! नमस्ते दुनिया। বাংলা ভাষা",
        "ሰላም ልዑል። தமிழ் மொழி, తెలుగు భాష; ಕನ್ನಡ ನುಡಿ ਪੰਜਾਬੀ ગુજરાતી ଓଡ଼ିଆ മലയാളം සිංහල",
        "Tiếng Việt có dấu; Türkçe ığüşöç; Kiswahili ni lugha; Èdè Yorùbá; isiZulu; 한국어 문장입니다",
    ]
    norm = normalize_texts(sample)
    split = norm.str.split(" ").to_list()
    regexes = {p.word_regex for p in langs.all_profiles() if p.spaced and p.word_regex}
    assert regexes
    for regex in regexes:
        assert norm.str.extract_all(regex).to_list() == split
    fast = MinHashDeduplicator().signatures(docs_table(sample))
    strict = MinHashDeduplicator(tokenizer="regex").signatures(docs_table(sample))
    assert fast.equals(strict)


def test_unknown_language_falls_back_to_spaces():
    d = MinHashDeduplicator()
    table = pa.table(
        {"text": ["one two three four five six", "one two three four five six"], "lang": ["xx-nope", None]}
    )
    bands = d.band_matrix(d.signatures(table))
    assert (bands[0] == bands[1]).all()
    assert d.take_counters()["unknown_lang_docs"] == 2


def test_empty_null_and_short_docs():
    table = docs_table(["", None, "two words", "Two, words.", "three words here"])
    out = MinHashDeduplicator().dedup_table(table)
    assert out.column("drop_reason").to_pylist() == [None, EXACT_DUPLICATE, None, EXACT_DUPLICATE, None]
    near = MinHashDeduplicator(exact=False).dedup_table(table).column("drop_reason").to_pylist()
    assert near == [None, NEAR_DUPLICATE, None, NEAR_DUPLICATE, None]


def test_config_pickle_and_validation():
    d = MinHashDeduplicator(ngram=3, num_bands=9, rows_per_band=13, rehydrate=True)
    cfg = d.config()
    assert {k: cfg[k] for k in ("ngram", "num_bands", "rows_per_band", "seed", "rehydrate", "tokenizer")} == {
        "ngram": 3,
        "num_bands": 9,
        "rows_per_band": 13,
        "seed": 1,
        "rehydrate": True,
        "tokenizer": "lang",
    }
    assert cfg != MinHashDeduplicator().config()
    clone = pickle.loads(pickle.dumps(d))
    table = docs_table(["a b c d e f g", "a b c d e f g h"])
    assert clone.signatures(table).equals(d.signatures(table))
    assert clone.signatures(table).schema.field("bands").type == pa.list_(pa.uint64(), 9)
    with pytest.raises(ValueError):
        MinHashDeduplicator(tokenizer="nope")
