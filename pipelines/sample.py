"""Generated sample input for the demo and the tests: multilingual web-like documents
built from small per-language word lists, with exact and near duplicates and a few
malformed records, so that every path of a run (kept, rejected, quarantined) shows."""

from __future__ import annotations

import json
import random
from pathlib import Path

# Common function and content words per language, written for this project.
WORDS: dict[str, str] = {
    "en": "the people of this town have always said that water from the river is good for the farms and the children who walk to school every morning with their friends and teachers",
    "de": "die Leute in dieser Stadt haben immer gesagt dass das Wasser aus dem Fluss gut für die Felder ist und die Kinder gehen jeden Morgen mit ihren Freunden zur Schule",
    "fr": "les gens de cette ville ont toujours dit que l'eau de la rivière est bonne pour les champs et les enfants vont à l'école chaque matin avec leurs amis",
    "es": "la gente de este pueblo siempre ha dicho que el agua del río es buena para los campos y los niños van a la escuela cada mañana con sus amigos",
    "pt": "as pessoas desta cidade sempre disseram que a água do rio é boa para os campos e as crianças vão para a escola todas as manhãs com os seus amigos",
    "it": "la gente di questa città ha sempre detto che l'acqua del fiume è buona per i campi e i bambini vanno a scuola ogni mattina con i loro amici",
    "nl": "de mensen in deze stad hebben altijd gezegd dat het water uit de rivier goed is voor de velden en de kinderen gaan elke ochtend met hun vrienden naar school",
    "sw": "watu wa mji huu wamekuwa wakisema kwamba maji ya mto ni mazuri kwa mashamba na watoto wanakwenda shuleni kila asubuhi pamoja na marafiki zao na walimu wao",
    "id": "orang orang di kota ini selalu mengatakan bahwa air dari sungai itu baik untuk sawah dan anak anak pergi ke sekolah setiap pagi bersama teman teman mereka",
    "tr": "bu şehrin insanları her zaman nehirden gelen suyun tarlalar için iyi olduğunu söylerler ve çocuklar her sabah arkadaşlarıyla birlikte okula giderler",
    "pl": "ludzie w tym mieście zawsze mówili że woda z rzeki jest dobra dla pól a dzieci chodzą do szkoły każdego ranka razem ze swoimi przyjaciółmi",
    "yo": "àwọn ènìyàn ìlú yìí máa ń sọ pé omi odò náà dára fún oko àti àwọn ọmọdé tí wọ́n ń lọ sí ilé ìwé ní àràárọ̀ pẹ̀lú àwọn ọ̀rẹ́ wọn",
}


def make_document(lang: str, rng: random.Random) -> str:
    """A few paragraphs of shuffled sentences in one language."""
    words = WORDS[lang].split()
    paragraphs = []
    for _ in range(rng.randint(1, 3)):
        sentences = []
        for _ in range(rng.randint(2, 5)):
            n = rng.randint(8, 16)
            start = rng.randrange(len(words))
            sent = [words[(start + i) % len(words)] if rng.random() < 0.8 else rng.choice(words) for i in range(n)]
            sentences.append(" ".join(sent).capitalize() + ".")
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


def near_duplicate(text: str, rng: random.Random, edits: int = 2) -> str:
    words = text.split(" ")
    for _ in range(edits):
        words[rng.randrange(len(words))] = rng.choice(words)
    return " ".join(words)


def sample_records(docs_per_lang: int, seed: int = 0) -> list[dict]:
    """Well-formed records: documents in every language plus ~5% exact and ~5% near duplicates."""
    rng = random.Random(seed)
    records = []
    for lang in WORDS:
        for i in range(docs_per_lang):
            records.append({"id": f"{lang}-{i:05d}", "text": make_document(lang, rng), "url": f"https://example.org/{lang}/{i}", "lang_hint": lang})
    extra = []
    for rec in rng.sample(records, max(1, len(records) // 20)):
        extra.append({**rec, "id": rec["id"] + "-copy"})
    for rec in rng.sample(records, max(1, len(records) // 20)):
        extra.append({**rec, "id": rec["id"] + "-near", "text": near_duplicate(rec["text"], rng)})
    records.extend(extra)
    rng.shuffle(records)
    return records


#: One of each kind of broken record a real crawl dump contains.
MALFORMED_LINES: list[bytes] = [
    b'{"id": "broken-json", "text": "unterminated',
    b'{"id": "bad-utf8", "text": "caf\xe9 au lait"}',
    b'{"id": "no-text", "body": "the text is under another key"}',
    b'{"id": "number-text", "text": 12345}',
    b'["a", "list", "not", "an", "object"]',
    b"\x00\x01\x02\xff\xfe binary junk \x89PNG",
]


def write_sample(directory: Path, docs_per_lang: int = 200, files: int = 4, seed: int = 0, malformed: bool = True) -> list[Path]:
    """Write the sample as ``files`` JSONL files; returns their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("sample-*.jsonl"):
        old.unlink()
    records = sample_records(docs_per_lang, seed)
    records.append({"id": "empty-doc", "text": "   ", "url": "https://example.org/empty"})
    paths = []
    per_file = (len(records) + files - 1) // files
    for f in range(files):
        path = directory / f"sample-{f:02d}.jsonl"
        lines = [json.dumps(r, ensure_ascii=False).encode("utf-8") for r in records[f * per_file : (f + 1) * per_file]]
        if malformed and f == 0:
            for j, bad in enumerate(MALFORMED_LINES):
                lines.insert(min(len(lines), 3 + 7 * j), bad)
        path.write_bytes(b"\n".join(lines) + b"\n")
        paths.append(path)
    return paths
