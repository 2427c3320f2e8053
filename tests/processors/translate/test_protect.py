"""Format preservation and sentence splitting for translation (processors.translate.protect / segment).

The stand-in "translation" upper-cases each unit: anything that reaches a unit comes
back upper-cased, anything protected comes back byte-identical, so comparing with a
hand-written expected string checks both at once.
"""

from __future__ import annotations

import pickle

import pytest

from babelmill.processors.translate.protect import (
    protect_and_split,
    protected_spans,
    strip_protected,
    strip_sentinels,
)
from babelmill.processors.translate.segment import split_long, split_sentences


def upper(text: str, lang: str = "en") -> str:
    plan = protect_and_split(text, lang)
    restored = plan.restore([u.upper() for u in plan.units])
    assert restored.problems == []
    return restored.text


# --- blocks and line structure -----------------------------------------------------------


def test_fenced_code_blocks_are_kept_whole() -> None:
    text = "Run this:\n\n```python\nprint('hi')  # say hi\n```\n\nOr this:\n~~~\nls -la\n~~~\nDone.\n"
    expected = "RUN THIS:\n\n```python\nprint('hi')  # say hi\n```\n\nOR THIS:\n~~~\nls -la\n~~~\nDONE.\n"
    assert upper(text) == expected
    plan = protect_and_split(text, "en")
    assert plan.units == ["Run this:", "Or this:", "Done."]  # code never reaches the model


def test_fence_needs_same_marker_and_unclosed_fence_runs_to_end() -> None:
    text = "````\n```\nstill code\n````\nAfter.\n- item\n  ```\n  indented code\n  ```\n```\nnever closed\nreally"
    expected = "````\n```\nstill code\n````\nAFTER.\n- ITEM\n  ```\n  indented code\n  ```\n```\nnever closed\nreally"
    assert upper(text) == expected


def test_inline_code() -> None:
    assert upper("Call `f(x)` then ``a ` b`` twice.") == "CALL `f(x)` THEN ``a ` b`` TWICE."
    plan = protect_and_split("Call `f(x)` then ``a ` b`` twice.", "en")
    assert plan.units == ["Call ⟦0⟧ then ⟦1⟧ twice."]
    assert plan.spans == [("`f(x)`", "``a ` b``")]


def test_protected_span_at_unit_edge_stays_outside_the_unit() -> None:
    plan = protect_and_split("`git status` shows changes `git diff`", "en")
    assert plan.units == ["shows changes"]
    assert plan.restore(["ZEIGT ÄNDERUNGEN"]).text == "`git status` ZEIGT ÄNDERUNGEN `git diff`"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("See https://example.com/a?b=1&c=2.", "SEE https://example.com/a?b=1&c=2."),
        ("Go to www.example.org, then rest.", "GO TO www.example.org, THEN REST."),
        (
            "Wiki (https://en.wikipedia.org/wiki/Foo_(bar)) is good.",
            "WIKI (https://en.wikipedia.org/wiki/Foo_(bar)) IS GOOD.",
        ),
        ('Read [the docs](https://x.io/docs "Docs") now.', 'READ [THE DOCS](https://x.io/docs "Docs") NOW.'),
        ("An image ![a cat](img/cat.png) here.", "AN IMAGE ![A CAT](img/cat.png) HERE."),
        ("Autolink <https://x.io/a> here.", "AUTOLINK <https://x.io/a> HERE."),
        ("Download ftp://files.x.org/pub/file.tar.gz today!", "DOWNLOAD ftp://files.x.org/pub/file.tar.gz TODAY!"),
    ],
)
def test_urls_and_links(text: str, expected: str) -> None:
    assert upper(text) == expected


def test_emails() -> None:
    assert (
        upper("Write to first.last+tag@mail.example.co.uk or me@x.io.")
        == "WRITE TO first.last+tag@mail.example.co.uk OR me@x.io."
    )


@pytest.mark.parametrize(
    "placeholder",
    ["{name}", "{0}", "{}", "{user.name}", "{items[0]}", "{value:>10.2f}", "{{var}}", "{{ user.name | upper }}", "{% if x %}",
     "%s", "%d", "%5.2f", "%-10s", "%(name)s", "%(count)d", "%1$s", "$VAR", "$HOME_DIR", "${name}"],
)  # fmt: skip
def test_every_placeholder_style_is_restored_verbatim(placeholder: str) -> None:
    text = f"Hello {placeholder} and welcome."
    plan = protect_and_split(text, "en")
    assert plan.units == ["Hello ⟦0⟧ and welcome."]
    assert plan.spans == [(placeholder,)]
    assert upper(text) == f"HELLO {placeholder} AND WELCOME."


@pytest.mark.parametrize(
    "text", ["It grew 50% of the time.", "Prices $5 and $10 rose.", "Between $5-$10 each.", "A set {a, b} of letters."]
)
def test_text_that_only_looks_like_a_placeholder_is_translated(text: str) -> None:
    assert protected_spans(text) == []
    assert upper(text) == text.upper()


def test_html_tags_and_comments() -> None:
    text = "Click <a href=\"https://x.io\" class='btn'>here</a> or <br/> <!-- note --> stop."
    assert upper(text) == "CLICK <a href=\"https://x.io\" class='btn'>HERE</a> OR <br/> <!-- note --> STOP."
    assert (
        upper("<p>Paragraph text.</p>\n<div>\n<pre>\nkeep me\n</pre>\n")
        == "<p>PARAGRAPH TEXT.</p>\n<div>\n<pre>\nkeep me\n</pre>\n"
    )


def test_latex_math() -> None:
    text = "Let $x^2 + y$ be a sum and $$\\int f$$ an integral, \\(a_b\\) inline, \\[c = d\\] display."
    expected = "LET $x^2 + y$ BE A SUM AND $$\\int f$$ AN INTEGRAL, \\(a_b\\) INLINE, \\[c = d\\] DISPLAY."
    assert upper(text) == expected
    block = "Energy:\n$$\nE = mc^2\n$$\nand\n\\[\na + b\n\\]\n\\begin{align}\nx &= 1\n\\end{align}\nend."
    assert upper(block) == "ENERGY:\n$$\nE = mc^2\n$$\nAND\n\\[\na + b\n\\]\n\\begin{align}\nx &= 1\n\\end{align}\nEND."


def test_markdown_structure_lists_headings_quotes() -> None:
    text = (
        "# Title here ##\n"
        "\n"
        "Intro line.  \n"
        "- first item\n"
        "* second item\n"
        "+ third item\n"
        "  - nested item\n"
        "    1. deep numbered\n"
        "1. one\n"
        "2) two\n"
        "- [ ] todo task\n"
        "- [x] done task\n"
        "> quoted text\n"
        "> > nested quote\n"
        "> - quoted list\n"
        "\n"
        "\n"
        "---\n"
        "Setext heading\n"
        "==============\n"
        "\tTabbed line\t\n"
    )
    expected = (
        "# TITLE HERE ##\n"
        "\n"
        "INTRO LINE.  \n"
        "- FIRST ITEM\n"
        "* SECOND ITEM\n"
        "+ THIRD ITEM\n"
        "  - NESTED ITEM\n"
        "    1. DEEP NUMBERED\n"
        "1. ONE\n"
        "2) TWO\n"
        "- [ ] TODO TASK\n"
        "- [x] DONE TASK\n"
        "> QUOTED TEXT\n"
        "> > NESTED QUOTE\n"
        "> - QUOTED LIST\n"
        "\n"
        "\n"
        "---\n"
        "SETEXT HEADING\n"
        "==============\n"
        "\tTABBED LINE\t\n"
    )
    assert upper(text) == expected
    plan = protect_and_split(text, "en")
    assert "first item" in plan.units and "- first item" not in plan.units  # markers never reach the model


def test_tables_cell_by_cell() -> None:
    text = "| Name | Value |\n|:-----|------:|\n| apple | `a|b` red |\n| pear  | 3 |\n\nplain a | b\n|---|---|\n| c | d |\n"
    expected = "| NAME | VALUE |\n|:-----|------:|\n| APPLE | `a|b` RED |\n| PEAR  | 3 |\n\nPLAIN A | B\n|---|---|\n| C | D |\n"
    assert upper(text) == expected
    plan = protect_and_split(text, "en")
    assert plan.units[:5] == ["Name", "Value", "apple", "red", "pear"]


def test_blank_lines_indentation_and_crlf() -> None:
    text = "  Leading spaces.\r\n\r\n\r\n\tTab line.   \r\nlast"
    assert upper(text) == "  LEADING SPACES.\r\n\r\n\r\n\tTAB LINE.   \r\nLAST"
    assert upper("") == ""
    assert protect_and_split("   \n\n", "en").units == []


def test_restore_of_own_units_is_identity_on_a_mixed_document() -> None:
    text = (
        "## Setup\n\nInstall `pkg` via https://pypi.org/project/pkg/. Then set $API_KEY.\n\n"
        "```bash\nexport API_KEY={key}\n```\n\n| Step | Command |\n|---|---|\n| 1 | `make` |\n\n"
        "- Use {0} or %(name)s, e-mail ops@x.io!\n  - Math: $a+b$ works.\n> Done <b>now</b>.\n"
    )
    plan = protect_and_split(text, "en")
    assert plan.text == text
    assert pickle.loads(pickle.dumps(plan)).restore(plan.units).text == text


# --- sentinels: reordering, loss, duplication --------------------------------------------------


def test_sentinels_follow_their_id_not_their_position() -> None:
    plan = protect_and_split("Use {a} before %s now.", "en")
    assert plan.units == ["Use ⟦0⟧ before ⟦1⟧ now."]
    # a model that reorders words; one that adds spaces inside the sentinel
    assert plan.restore(["Jetzt ⟦1⟧ nach ⟦0⟧ verwenden."]).text == "Jetzt %s nach {a} verwenden."
    assert plan.restore(["Verwende ⟦ 0 ⟧ vor ⟦1 ⟧ jetzt."]) == ("Verwende {a} vor %s jetzt.", [])


def test_lost_duplicated_and_unknown_sentinels_are_reported_not_fixed() -> None:
    plan = protect_and_split("Use {a} before %s now.", "en")
    lost = plan.restore(["Verwende vor ⟦1⟧ jetzt."])
    assert lost.text == "Verwende vor %s jetzt."  # not silently repaired
    assert len(lost.problems) == 1 and "lost ⟦0⟧" in lost.problems[0] and "{a}" in lost.problems[0]
    dup = plan.restore(["⟦0⟧ ⟦0⟧ vor ⟦1⟧."])
    assert dup.text == "{a} {a} vor %s."
    assert ["duplicated" in p for p in dup.problems] == [True]
    unknown = plan.restore(["⟦0⟧ vor ⟦1⟧ ⟦7⟧."])
    assert unknown.text == "{a} vor %s ⟦7⟧." and "unknown sentinel ⟦7⟧" in unknown.problems[0]
    with pytest.raises(ValueError):
        plan.restore([])


def test_sentinel_characters_in_the_input_are_protected() -> None:
    text = "The ⟦0⟧ token and \ue000 char stay."
    plan = protect_and_split(text, "en")
    assert plan.units == ["The ⟦0⟧0⟦1⟧ token and ⟦2⟧ char stay."]
    assert plan.spans == [("⟦", "⟧", "\ue000")]
    assert plan.restore([u.upper() for u in plan.units]) == ("THE ⟦0⟧ TOKEN AND \ue000 CHAR STAY.", [])


def test_custom_sentinel_style() -> None:
    plan = protect_and_split("Hi {name}, bye.", "en", sentinel=("[[", "]]"))
    assert plan.units == ["Hi [[0]], bye."]
    assert plan.restore(["Salut [[0]], au revoir."]).text == "Salut {name}, au revoir."


def test_strip_helpers() -> None:
    assert strip_protected("Run `ls` at https://x.io now") == "Run  at  now"
    assert strip_sentinels("Run ⟦0⟧ at ⟦ 1 ⟧ now") == "Run  at  now"


# --- sentence splitting --------------------------------------------------------------------


def test_sentences_english_keeps_abbreviations() -> None:
    assert split_sentences("Dr. Smith arrived at 5 p.m. today. Was he late? No!", "en") == [
        "Dr. Smith arrived at 5 p.m. today.",
        "Was he late?",
        "No!",
    ]
    plan = protect_and_split("First one.  Second one?\tThird.", "en")
    assert plan.units == ["First one.", "Second one?", "Third."]
    assert plan.restore(["A.", "B?", "C."]).text == "A.  B?\tC."  # the gaps are kept as they were


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("hi", "यह पहला वाक्य है। यह दूसरा वाक्य है।", ["यह पहला वाक्य है।", "यह दूसरा वाक्य है।"]),
        ("zh", "这是第一句。这是第二句！第三句？", ["这是第一句。", "这是第二句！", "第三句？"]),
        ("ar", "هل أنت بخير؟ نعم أنا بخير.", ["هل أنت بخير؟", "نعم أنا بخير."]),
        ("bn", "এটা প্রথম বাক্য। এটা দ্বিতীয় বাক্য।", ["এটা প্রথম বাক্য।", "এটা দ্বিতীয় বাক্য।"]),  # not in pysbd: regex path
    ],
)
def test_sentences_non_latin_scripts(lang: str, text: str, expected: list[str]) -> None:
    assert split_sentences(text, lang) == expected
    plan = protect_and_split(text, lang)
    assert plan.units == expected
    assert plan.restore(plan.units).text == text


def test_chinese_units_with_protected_code() -> None:
    plan = protect_and_split("运行 `ls` 命令。然后访问 https://x.cn。", "zh")
    assert plan.units == ["运行 ⟦0⟧ 命令。", "然后访问 ⟦0⟧。"]
    assert plan.restore(["Run ⟦0⟧.", "Then visit ⟦0⟧."]).text == "Run `ls`.Then visit https://x.cn."


def test_sentence_gap_for_targets_written_without_spaces() -> None:
    plan = protect_and_split("First one. Second one!  Third `x` one.\nNext line.", "en")
    assert len(plan.units) == 4
    zh = ["第一。", "第二！", "第三 ⟦0⟧。", "下一行。"]
    assert plan.restore(zh, sentence_gap="").text == "第一。第二！第三 `x`。\n下一行。"
    assert plan.restore(zh).text == "第一。 第二！  第三 `x`。\n下一行。"


def test_long_sentences_are_cut_below_the_limit() -> None:
    text = "word " * 60 + "end, " + "more " * 30
    spans = split_long(text.strip(), 100)
    assert all(e - s <= 100 for s, e in spans)
    plan = protect_and_split(text, "en", max_unit_chars=100)
    assert len(plan.units) >= 4 and all(len(u) <= 100 for u in plan.units)
    assert plan.text == text
