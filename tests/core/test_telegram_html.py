from bot.core.telegram_html import escape, split_message, to_plain


def test_escape_neutralises_html_from_users() -> None:
    assert escape("<b>hi</b> & co") == "&lt;b&gt;hi&lt;/b&gt; &amp; co"


def test_to_plain_strips_tags_and_unescapes() -> None:
    assert to_plain("<b>Cadre</b> &amp; règles") == "Cadre & règles"


def test_short_text_is_one_part() -> None:
    assert split_message("salam") == ["salam"]


def test_long_text_is_cut_at_paragraphs_under_the_limit() -> None:
    paragraph = "mot " * 300
    text = "\n\n".join([paragraph.strip()] * 10)
    parts = split_message(text, limit=4096)
    assert len(parts) > 1
    assert all(len(part) <= 4096 for part in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_text_without_spaces_is_still_cut() -> None:
    parts = split_message("x" * 10000, limit=4096)
    assert [len(p) for p in parts] == [4096, 4096, 1808]
