import pytest

from narrative_tracker.paragraphs.clean import (
    BlockKind,
    classify_block,
    paragraphs_of,
    split_blocks,
)


@pytest.mark.parametrize(
    ("block", "kind"),
    [
        ("0 0", BlockKind.BOILERPLATE),
        ("Leave a Reply", BlockKind.BOILERPLATE),
        ("Your email address will not be published. Required fields are marked *", BlockKind.BOILERPLATE),
        ("Similar Posts", BlockKind.BOILERPLATE),
        ("Article Categories:", BlockKind.BOILERPLATE),
        ("If you notice an error in the text, select it and press Ctrl + Enter to send the information to the editor.", BlockKind.BOILERPLATE),
        ("Photo: REUTERS / Pavel Mikheyev", BlockKind.CAPTION),
        ("In the photo: a burning car near the building of the mayor’s office (akimat) in Almaty.", BlockKind.CAPTION),
        ("Kazakhs clash with police during a protest in Aktobe, Kazakhstan.  January 5, 2022.", BlockKind.CAPTION),
        ("Triumphal Arch in Nur-Sultan.", BlockKind.CAPTION),
        ("Police and military equipment on the street in Almaty.", BlockKind.CAPTION),
        ("The protests continued overnight.", BlockKind.BODY),
        ("Troops were deployed within hours.", BlockKind.BODY),
        ("* “Islamic State” (IS, ISIS) by the decision of the Supreme Court of the Russian Federation was recognized as a terrorist organization, its activities are banned in Russia.", BlockKind.FOOTNOTE),
        ("Jan 10, 2022", BlockKind.DATELINE),
        ("By Vladimir Platov", BlockKind.BYLINE),
        ("Source: New Eastern Outlook", BlockKind.SOURCE),
        ("Who is behind the protest?", BlockKind.HEADING),
        ("“Whoever does not surrender will be destroyed,” summed up Tokayev.", BlockKind.BODY),
        ("Calm now in the capital of Kazakhstan, Nur-Sultan. There are checkpoints at the entrances to the city.", BlockKind.BODY),
    ],
)
def test_classify_block(block, kind):
    assert classify_block(block) == kind


def test_split_blocks_blank_lines_and_line_stacks():
    text = "Para one is here.\n\nBy Jane Doe\nSource: Example News\n\nPara two."
    assert split_blocks(text) == ["Para one is here.", "By Jane Doe", "Source: Example News", "Para two."]


def test_split_blocks_single_newlines_only():
    assert split_blocks("First paragraph.\nSecond paragraph.\n") == ["First paragraph.", "Second paragraph."]


def test_hard_wrapped_paragraph_stays_whole():
    wrapped = (
        "The recent events in Kazakhstan allow us to draw an unambiguous\n"
        "conclusion that there is not an internal spontaneous uprising, but\n"
        "a carefully planned and coordinated attack."
    )
    assert len(split_blocks(wrapped + "\n\nNext one.")) == 2


def test_paragraphs_keep_position_and_drop_repeats():
    first = "The protests began in the west of the country, officials said."
    second = "Troops were sent to Almaty within two days."
    body = f"{first}\n\n0 0\n\n{second}\n\n{first}"
    kept, dropped = paragraphs_of(body)
    assert [p.text for p in kept] == [first, second]
    assert [p.position for p in kept] == [0, 1]
    assert [p.block_index for p in kept] == [0, 2]
    assert dropped == {"boilerplate": 1, "duplicate": 1}
    assert kept[0].text_hash == paragraphs_of(first.replace(" ", "   "))[0][0].text_hash


def test_single_block_body_is_kept_whole():
    kept, dropped = paragraphs_of("Photo: Kosovan migrants are storming the EU borders from Serbia")
    assert [p.kind for p in kept] == ["body"] and dropped == {}
    assert paragraphs_of("Ukraine relies on Nazis in the fight against Russia.")[0][0].kind == "body"
    assert paragraphs_of("Leave a Reply")[0] == []
