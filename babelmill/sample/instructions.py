"""Generated instruction data (Alpaca, ShareGPT, OpenAI ``messages``) for the translation job.

The system prompts, task templates and follow-up turns live in ``instructions.yaml``
next to this module; this module fills and writes them.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from babelmill.sample.data import load

_DATA = load("instructions")
SYSTEM_PROMPTS: tuple[str, ...] = tuple(_DATA["system_prompts"])
_FILL: dict[str, tuple[str, ...]] = {slot: tuple(values) for slot, values in _DATA["fill"].items()}
# (instruction, input, output) templates.
_TASKS: tuple[tuple[str, str, str], ...] = tuple((t["instruction"], t["input"], t["output"]) for t in _DATA["tasks"])
_FOLLOW_UPS: tuple[tuple[str, str], ...] = tuple((f["user"], f["assistant"]) for f in _DATA["follow_ups"])


def _fill_task(task: tuple[str, str, str], rng: random.Random) -> tuple[str, str, str]:
    """The task's texts with every <<slot>> filled consistently across the three."""
    values = {k: rng.choice(v) for k, v in _FILL.items()}
    values["fruit2"] = rng.choice([f for f in _FILL["fruit"] if f != values["fruit"]])
    values["citylower"] = values["city"].lower()
    r1, r2 = rng.randint(1, 9), rng.randint(1, 9)
    s, p = r1 + r2, r1 * r2
    values.update(
        sum=str(s),
        prod=str(p),
        sum2=str(s * s),
        prod4=str(4 * p),
        disc=str((r1 - r2) ** 2),
        r1=str(max(r1, r2)),
        r2=str(min(r1, r2)),
    )
    km = rng.choice((5, 10, 21, 42, 100, 250))
    values.update(km=str(km), mi=f"{km * 0.621371:.1f}", pop=f"{rng.randint(20, 4000) * 1000}")

    def fill(text: str) -> str:
        return re.sub(r"<<(\w+)>>", lambda m: values[m.group(1)], text)

    return fill(task[0]), fill(task[1]), fill(task[2])


def instruction_records(n: int = 60, seed: int = 0) -> dict[str, list[dict]]:
    """``n`` well-formed records in each of the formats ``alpaca``, ``sharegpt`` and ``messages``."""
    rng = random.Random(seed)
    out: dict[str, list[dict]] = {"alpaca": [], "sharegpt": [], "messages": []}
    for fmt, records in out.items():
        for i in range(n):
            instruction, inp, output = _fill_task(_TASKS[(i + rng.randrange(3)) % len(_TASKS)], rng)
            system = rng.choice(SYSTEM_PROMPTS) if rng.random() < 0.6 else None
            user = instruction + (f"\n\n{inp}" if inp else "")
            follow = rng.choice(_FOLLOW_UPS) if rng.random() < 0.25 else None
            if fmt == "alpaca":
                records.append({"instruction": instruction, "input": inp, "output": output})
            elif fmt == "sharegpt":
                turns = ([{"from": "system", "value": system}] if system else []) + [
                    {"from": "human", "value": user},
                    {"from": "gpt", "value": output},
                ]
                if follow:
                    turns += [{"from": "human", "value": follow[0]}, {"from": "gpt", "value": follow[1]}]
                records.append({"id": f"sharegpt-{i:04d}", "conversations": turns})
            else:
                msgs = ([{"role": "system", "content": system}] if system else []) + [
                    {"role": "user", "content": user},
                    {"role": "assistant", "content": output},
                ]
                if follow:
                    msgs += [{"role": "user", "content": follow[0]}, {"role": "assistant", "content": follow[1]}]
                records.append({"id": f"messages-{i:04d}", "messages": msgs})
    return out


#: Broken records per instruction file: a missing field, a wrong type, a broken JSON line.
INSTRUCTION_MALFORMED: dict[str, list[bytes]] = {
    "alpaca": [
        b'{"instruction": "Name three rivers in Africa.", "input": ""}',
        b'{"instruction": 42, "input": "", "output": "The answer is 42."}',
        b'{"instruction": "Translate \\"good morning\\" into Swahili.", "input": "", "output": "Habari za asubuhi',
    ],
    "sharegpt": [
        b'{"id": "sharegpt-bad-1", "conversations": "human: hello gpt: hi"}',
        b'{"id": "sharegpt-bad-2", "conversations": [{"from": "human"}, {"from": "gpt", "value": "Hello!"}]}',
        b'{"id": "sharegpt-bad-3", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hel',
    ],
    "messages": [
        b'{"id": "messages-bad-1", "messages": []}',
        b'{"id": "messages-bad-2", "messages": [{"role": "user", "content": 17}, {"role": "assistant", "content": "Seventeen."}]}',
        b'{"id": "messages-bad-3", "messages": [{"role": "user", "content": "Hi"}',
    ],
}


def write_instruction_sample(directory: Path, n: int = 60, seed: int = 0) -> list[Path]:
    """Write ``alpaca.jsonl``, ``sharegpt.jsonl`` and ``messages.jsonl`` (``n`` good records
    each plus the ``INSTRUCTION_MALFORMED`` lines spread through the file); returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt, records in instruction_records(n, seed).items():
        lines = [json.dumps(r, ensure_ascii=False).encode("utf-8") for r in records]
        for j, bad in enumerate(INSTRUCTION_MALFORMED[fmt]):
            lines.insert(min(len(lines), 2 + 11 * j), bad)
        path = directory / f"{fmt}.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        paths.append(path)
    return paths
