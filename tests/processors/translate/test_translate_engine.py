"""The CTranslate2 engine on tiny random models built here: conversion and caching,
quantization, each family's language tokens, batching order, the segment cache, and the
one-line errors for missing models and unsupported languages."""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tiny_models
from babelmill.processors.base import Resources
from babelmill.processors.errors import ModelNotFoundError
from babelmill.processors.translate import models as models_mod
from babelmill.processors.translate.engine import CTranslate2Spec, CTranslate2Translator, TranslationResult, Translator
from babelmill.processors.translate.models import (
    UnsupportedLanguageError,
    UnsupportedModelError,
    detect_family,
    marian_languages,
    resolve_model,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory):
    """Builds a tiny model on first use, once per session."""
    root = tmp_path_factory.getbasetemp()
    return lambda kind: tiny_models.cached(kind, root)


@pytest.fixture(scope="session")
def ct2_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Conversions shared by tests that do not look at conversion itself."""
    return tmp_path_factory.mktemp("ct2-cache")


@pytest.fixture(scope="session")
def marian(built, ct2_cache: Path) -> CTranslate2Translator:
    return CTranslate2Spec(str(built("marian")), device="cpu", cache_dir=str(ct2_cache)).build()


def _translator(path: Path, cache: Path, **kw) -> CTranslate2Translator:
    return CTranslate2Spec(str(path), device="cpu", cache_dir=str(cache), **kw).build()


# ----------------------------------------------------------------------------- resolution


def test_hf_dir_is_converted_once_then_reused(built, tmp_path: Path) -> None:
    hf = built("marian")
    first = resolve_model(hf, cache_dir=tmp_path)
    assert first.converted and (first.path / "model.bin").is_file()
    assert first.path.parent == tmp_path
    info = json.loads((first.path / "babelmill.json").read_text())
    assert info["family"] == "marian" and info["quantization"] == "int8"
    assert info["languages"] == {"source": ["en"], "target": ["de"]}
    assert (first.path / "source.spm").is_file()  # tokenizer files travel with the model
    mtime = (first.path / "model.bin").stat().st_mtime_ns

    second = resolve_model(hf, cache_dir=tmp_path)
    assert not second.converted and second.path == first.path
    assert (second.path / "model.bin").stat().st_mtime_ns == mtime
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]

    # A translator built on the same cache loads the conversion instead of redoing it.
    tr = _translator(hf, tmp_path)
    assert not tr.model.converted and tr.model.path == first.path


def test_changed_model_dir_is_reconverted(built, tmp_path: Path) -> None:
    hf = tmp_path / "hf"
    shutil.copytree(built("marian"), hf)
    first = resolve_model(hf, cache_dir=tmp_path / "cache")
    config = hf / "config.json"
    config.write_text(config.read_text())  # same content, new mtime: the key must change
    os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 10**9))
    second = resolve_model(hf, cache_dir=tmp_path / "cache")
    assert second.converted and second.path != first.path


@pytest.mark.parametrize(
    ("quantization", "stored"),
    [("int8", "int8"), ("int8_float16", "int8"), ("float16", "float16"), ("float32", "float32")],
)
def test_quantization_flag_sets_stored_weights(built, tmp_path: Path, quantization: str, stored: str) -> None:
    resolved = resolve_model(built("marian"), quantization=quantization, cache_dir=tmp_path)
    types = tiny_models.model_bin_types(resolved.path)
    assert types.most_common(1)[0][0] == stored, types
    if stored != "int8":
        assert set(types) == {stored}, types
    assert quantization in resolved.path.name and resolved.info["quantization"] == quantization


def test_compute_type_default_is_int8_on_cpu(marian: CTranslate2Translator, built, ct2_cache: Path) -> None:
    assert marian.device == "cpu" and marian._ct2.compute_type.startswith("int8")
    fp32 = _translator(built("marian"), ct2_cache, compute_type="float32")
    assert fp32._ct2.compute_type == "float32"


def test_ct2_dir_is_used_as_is(built, tmp_path: Path) -> None:
    converted = resolve_model(built("nllb"), cache_dir=tmp_path)
    again = resolve_model(converted.path, cache_dir=tmp_path / "unused")
    assert again.path == converted.path and not again.converted and again.family == "nllb"
    assert not (tmp_path / "unused").exists()
    # A CTranslate2 dir converted elsewhere (no babelmill.json): family from its tokenizer.
    foreign = tmp_path / "foreign"
    shutil.copytree(converted.path, foreign)
    (foreign / "babelmill.json").unlink()
    resolved = resolve_model(foreign)
    assert resolved.family == "nllb" and resolved.name == str(foreign)


def test_detect_family_from_config() -> None:
    assert detect_family({"model_type": "marian"}, {}) == "marian"
    assert detect_family({"model_type": "m2m_100"}, {"tokenizer_class": "NllbTokenizerFast"}) == "nllb"
    assert detect_family({"model_type": "m2m_100"}, {"tokenizer_class": "M2M100Tokenizer"}) == "m2m100"
    assert detect_family({"model_type": "m2m_100"}, {}, "facebook/nllb-200-distilled-600M") == "nllb"
    assert detect_family({"model_type": "t5"}, {}) == "madlad"
    with pytest.raises(UnsupportedModelError, match="bert"):
        detect_family({"model_type": "bert"}, {}, "bert-base")


def test_marian_languages_from_tokenizer_config_or_name() -> None:
    assert marian_languages({"source_lang": "eng", "target_lang": "deu"}, "x") == {"source": ["eng"], "target": ["deu"]}
    assert marian_languages({}, "Helsinki-NLP/opus-mt-en-de") == {"source": ["en"], "target": ["de"]}
    assert marian_languages({}, "/models/opus-mt-tc-big-en-ar") == {"source": ["en"], "target": ["ar"]}
    assert marian_languages({}, "/models/my-marian") == {}


def test_interrupted_conversion_leaves_nothing_behind(built, tmp_path: Path, monkeypatch) -> None:
    class Broken:
        def convert(self, output_dir: str, **kw) -> None:
            Path(output_dir).mkdir(parents=True)
            (Path(output_dir) / "model.bin").write_bytes(b"half a model")
            raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(models_mod, "_make_converter", lambda *a, **k: Broken())
        with pytest.raises(KeyboardInterrupt):
            resolve_model(built("marian"), cache_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".lock-")] == []
    assert resolve_model(built("marian"), cache_dir=tmp_path).converted


def test_missing_path_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model(tmp_path / "no-such-model", cache_dir=tmp_path)
    assert "\n" not in str(err.value) and "--model PATH" in str(err.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="neither a CTranslate2 model"):
        resolve_model(tmp_path / "empty", cache_dir=tmp_path)


def _isolated_hub_cache(monkeypatch, cache: Path) -> None:
    import huggingface_hub.constants as hf_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))


def test_offline_hub_id_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    _isolated_hub_cache(monkeypatch, tmp_path / "hub")
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model("facebook/nllb-200-distilled-600M", cache_dir=tmp_path)
    message = str(err.value)
    assert message == (
        "model 'facebook/nllb-200-distilled-600M' is not in the local cache and downloads are off; "
        "pass --model PATH to a CTranslate2 or Hugging Face model directory, or --allow-download"
    )
    with pytest.raises(ModelNotFoundError, match="could not be downloaded") as err:
        resolve_model("facebook/nllb-200-distilled-600M", cache_dir=tmp_path, allow_download=True)
    assert "\n" not in str(err.value)


def test_hub_id_found_in_local_hf_cache(built, tmp_path: Path, monkeypatch) -> None:
    hub = tmp_path / "hub"
    repo = hub / "models--babelmill-test--tiny-marian"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(built("marian"), repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    _isolated_hub_cache(monkeypatch, hub)
    resolved = resolve_model("babelmill-test/tiny-marian", cache_dir=tmp_path / "ct2")
    assert resolved.converted and resolved.name == "babelmill-test/tiny-marian"
    assert resolved.path.name.startswith("babelmill-test--tiny-marian-int8-")
    tr = _translator("babelmill-test/tiny-marian", tmp_path / "ct2")
    assert tr.name == "babelmill-test/tiny-marian" and not tr.model.converted


# ----------------------------------------------------------------------------- language tokens


def test_nllb_source_and_forced_target_tokens(built, ct2_cache: Path) -> None:
    tr = _translator(built("nllb"), ct2_cache)
    for tgt, token in (("sw", "swh_Latn"), ("de", "deu_Latn")):
        for source, output in tr.debug_tokens(tiny_models.sentences(3, seed=2), "en", tgt):
            assert source[0] == "eng_Latn" and source[-1] == "</s>"
            assert output[0] == token
    ((source, _),) = tr.debug_tokens(["Ka lumo."], "sw", "en")
    assert source[0] == "swh_Latn"


def test_m2m100_source_and_forced_target_tokens(built, ct2_cache: Path) -> None:
    tr = _translator(built("m2m100"), ct2_cache)
    assert tr.model.family == "m2m100"
    for source, output in tr.debug_tokens(tiny_models.sentences(3, seed=2), "en", "sw"):
        assert source[0] == "__en__" and source[-1] == "</s>"
        assert output[0] == "__sw__"
    assert all(o[0] == "__de__" for _, o in tr.debug_tokens(["Ka lumo."], "fr", "de"))


def test_madlad_source_prefix_names_the_target(built, ct2_cache: Path) -> None:
    tr = _translator(built("madlad"), ct2_cache)
    assert tr.model.family == "madlad"
    ((source, _),) = tr.debug_tokens(["Ka lumo verin."], "en", "sw")
    assert source[0] == "<2sw>" and source[1].startswith("▁") and source[-1] == "</s>"
    assert tr.plan("en", "sw").target_prefix == ()


def test_marian_multi_target_prefix(built, ct2_cache: Path) -> None:
    tr = _translator(built("marian_multi"), ct2_cache)
    ((source, _),) = tr.debug_tokens(["Ka lumo verin."], "en", "sw")
    assert source[0] == ">>swa<<"
    ((source, _),) = tr.debug_tokens(["Ka lumo verin."], "en", "de")
    assert source[0] == ">>deu<<"
    with pytest.raises(UnsupportedLanguageError, match="French"):
        tr.translate(["Ka lumo."], "en", "fr")


def test_marian_pair_refuses_other_languages(marian: CTranslate2Translator) -> None:
    ((source, _),) = marian.debug_tokens(["Ka lumo verin."], "en", "de")
    assert source[0] != ">>deu<<" and source[-1] == "</s>"  # no language tokens
    with pytest.raises(UnsupportedLanguageError) as err:
        marian.translate(["Ka lumo."], "sw", "de")
    assert "Swahili" in str(err.value) and marian.name in str(err.value)
    with pytest.raises(UnsupportedLanguageError, match="target language is de"):
        marian.translate(["Ka lumo."], "en", "sw")


def test_language_without_model_code_is_refused(built, ct2_cache: Path) -> None:
    from babelmill import langs

    tr = _translator(built("m2m100"), ct2_cache)
    missing = next((p for p in langs.all_profiles() if not p.m2m100), None)
    if missing is None:
        pytest.skip("every language in langs has an M2M100 code")
    with pytest.raises(UnsupportedLanguageError) as err:
        tr.translate(["Ka lumo."], "en", missing.code)
    assert missing.name in str(err.value) and "m2m100" in str(err.value)
    with pytest.raises(UnsupportedLanguageError):
        tr.translate(["Ka lumo."], "en", "qqq")


# ----------------------------------------------------------------------------- translation


def test_results_come_back_in_input_order(built, ct2_cache: Path) -> None:
    texts = tiny_models.sentences(24, seed=7, max_words=20)
    # float32: int8 kernels may round differently with the batch shape, flipping near-tied
    # tokens of a random model; the order is what is tested here.
    one_by_one = _translator(built("marian"), ct2_cache, cache_size=0, compute_type="float32")
    alone = {t: one_by_one.translate([t], "en", "de")[0] for t in texts}
    expected = {t: r.text for t, r in alone.items()}
    assert len(set(expected.values())) > len(texts) // 2  # the model's output depends on its input

    shuffled = texts[:]
    random.Random(3).shuffle(shuffled)
    # A small token budget: several length-sorted batches and several translate_batch calls.
    batched = _translator(built("marian"), ct2_cache, max_batch_tokens=40, compute_type="float32")
    results = batched.translate(shuffled, "en", "de")
    assert [r.text for r in results] == [expected[t] for t in shuffled]
    assert all(isinstance(r, TranslationResult) and r.score < 0 for r in results)
    assert [r.score for r in results] == pytest.approx([alone[t].score for t in shuffled], abs=1e-3)


def test_repeated_segments_translated_once(built, ct2_cache: Path) -> None:
    tr = _translator(built("marian"), ct2_cache, compute_type="float32")
    texts = tiny_models.sentences(5, seed=11)
    batch = texts + texts[:3] + ["", texts[0]]
    first = tr.translate(batch, "en", "de")
    assert tr.stats["segments"] == 9 and tr.stats["translated"] == 5 and tr.stats["cache_hits"] == 4
    assert tr.stats["empty"] == 1 and first[8].text == "" and first[8].score == 0.0
    assert first[5].text == first[0].text == first[9].text
    tokens = tr.stats["source_tokens"]

    second = tr.translate(list(reversed(texts)), "en", "de")  # across calls: all from the cache
    assert [r.text for r in second] == [r.text for r in reversed(first[:5])]
    assert tr.stats["translated"] == 5 and tr.stats["cache_hits"] == 9
    assert tr.stats["source_tokens"] == tokens and tr.stats["target_tokens"] > 0

    off = _translator(built("marian"), ct2_cache, cache_size=0, compute_type="float32")
    assert [r.text for r in off.translate(batch, "en", "de")] == [r.text for r in first]
    assert off.stats["translated"] == 9 and off.stats["cache_hits"] == 0

    small = _translator(built("marian"), ct2_cache, cache_size=2)
    small.translate(texts, "en", "de")
    small.translate(texts[:1], "en", "de")  # evicted: the cache kept only the last two
    assert small.stats["translated"] == 6 and small.stats["cache_hits"] == 0


def test_decoding_length_follows_input_length(built, ct2_cache: Path) -> None:
    tr = _translator(built("marian"), ct2_cache, max_length_ratio=0.5)
    for source, output in tr.debug_tokens(tiny_models.sentences(6, seed=4, max_words=20), "en", "de"):
        assert len(output) <= int(0.5 * len(source)) + 10
    fixed = _translator(built("marian"), ct2_cache, min_decoding_length=7, max_decoding_length=7)
    assert {len(o) for _, o in fixed.debug_tokens(tiny_models.sentences(4, seed=4), "en", "de")} == {7}


def test_overlong_input_is_truncated_and_counted(built, ct2_cache: Path) -> None:
    tr = _translator(built("marian"), ct2_cache, max_decoding_length=4)
    long_text = " ".join(tiny_models.sentences(200, seed=1))
    ((source, _),) = tr.debug_tokens([long_text], "en", "de")
    assert len(source) == 512 and source[-1] == "</s>"
    assert tr.stats["truncated"] == 1


def test_spec_is_picklable_and_declares_resources(built) -> None:
    spec = CTranslate2Spec(str(built("marian")), device="cpu", inter_threads=2, intra_threads=2)
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert spec.resources == Resources(4.0, 0.0)
    assert CTranslate2Spec("x", device="cuda").resources == Resources(1.0, 1.0)
    with pytest.raises(ValueError, match="device"):
        _ = CTranslate2Spec("x", device="tpu").resources


def test_translator_protocol(marian: CTranslate2Translator) -> None:
    assert isinstance(marian, Translator)
    assert set(marian.stats) >= {"segments", "cache_hits", "source_tokens", "target_tokens"}


def test_engine_imports_neither_ray_nor_polars() -> None:
    code = (
        "import sys, processors.translate as t, processors.translate.engine; t.CTranslate2Spec; "
        "bad = {'ray', 'polars', 'ctranslate2', 'transformers'} & set(sys.modules); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
