"""Syndication vs independent repetition: edited copies are found as copies, genuine paraphrases are not.

Copies are generated from the hand-labelled paragraphs (tests/labelled/paragraphs.csv) with the edits outlets make
when they re-publish: a quote trimmed, sentences reordered, boilerplate (a dateline, a "subscribe" line) added,
the last sentence dropped — one to three edits each. Paraphrases are real ones: the codebook's example statements
of one narrative (written in varied words) and the labelled paragraphs carrying the same narrative.
"""

import csv
import itertools
import random
import re

import yaml

from conftest import REPO

from narrative_tracker.network.syndication import SyndicationSettings, find_copies, overlap, shingles

BOILERPLATE_BEFORE = ["MOSCOW, January 7 (Sputnik) - ", "ALMATY, Jan 6 — RIA Novosti. ", "BREAKING: ",
                      "Editor's note: this text first appeared on a partner site. "]
BOILERPLATE_AFTER = [" Subscribe to our Telegram channel to stay informed.", " Read more at our partner's website.",
                     " The opinions expressed are the author's own.", " Follow us on VK and Odnoklassniki for more news."]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?…])\s+", text) if s]


def trim_quote(text: str, rng: random.Random) -> str:
    """Cut the longest quotation short (or, without one, the last clause)."""
    quotes = re.findall(r"[\"“«]([^\"”»]{12,})[\"”»]", text)
    if quotes:
        quote = max(quotes, key=len)
        words = quote.split()
        return text.replace(quote, " ".join(words[: max(2, len(words) // 2)]) + " …", 1)
    words = text.split()
    return " ".join(words[: max(8, int(len(words) * rng.uniform(0.65, 0.85)))])


def reorder(text: str, rng: random.Random) -> str:
    parts = _sentences(text)
    if len(parts) < 2:
        return text
    while True:
        shuffled = parts[:]
        rng.shuffle(shuffled)
        if shuffled != parts:
            return " ".join(shuffled)


def boilerplate(text: str, rng: random.Random) -> str:
    return (rng.choice(BOILERPLATE_BEFORE) if rng.random() < 0.5 else "") + text + rng.choice(BOILERPLATE_AFTER)


def drop_last_sentence(text: str, rng: random.Random) -> str:
    parts = _sentences(text)
    return " ".join(parts[:-1]) if len(parts) >= 3 else text


EDITS = [trim_quote, reorder, boilerplate, drop_last_sentence]


def edited_copy(text: str, rng: random.Random) -> str:
    for edit in rng.sample(EDITS, rng.randint(1, 3)):
        text = edit(text, rng)
    return text


def labelled_paragraphs() -> list[dict]:
    with open(REPO / "tests" / "labelled" / "paragraphs.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# Close paraphrases written for this test: the same event and claim, the same names and numbers, reworded —
# what two outlets write independently from one press conference.
CLOSE_PARAPHRASES = [
    ("The Collective Security Treaty Organisation sent 2,500 peacekeepers to Kazakhstan at the request of President Tokayev, "
     "who said foreign-trained terrorists had attacked Almaty.",
     "At President Tokayev's request, 2,500 peacekeepers of the Collective Security Treaty Organisation arrived in Kazakhstan "
     "after he blamed terrorists trained abroad for the assault on Almaty."),
    ("Kazakh security forces regained control of the Almaty airport on Friday after militants had seized it on Wednesday evening.",
     "Militants who took the Almaty airport on Wednesday evening were driven out on Friday, when Kazakh security forces took it back."),
    ("Russian Foreign Ministry spokeswoman Maria Zakharova said the events in Kazakhstan bore the hallmarks of a colour revolution.",
     "The unrest in Kazakhstan looks like a colour revolution, according to Maria Zakharova, spokeswoman of the Russian Foreign Ministry."),
    ("President Tokayev said 20,000 bandits had attacked Almaty and ordered troops to shoot to kill without warning.",
     "Troops were ordered to open fire without warning, Tokayev said, claiming that some 20,000 bandits had stormed Almaty."),
    ("The fuel price rise on January 1 triggered protests in Zhanaozen that spread to Almaty within three days.",
     "Protests began in Zhanaozen after fuel prices rose on January 1, and within three days they had reached Almaty."),
    ("NATO and the United States are using the crisis in Kazakhstan to put pressure on Russia ahead of the security talks in Geneva.",
     "Ahead of the Geneva security talks, Washington and the alliance are exploiting the Kazakh crisis to squeeze Moscow."),
    ("The Kazakh government resigned on Wednesday, and Tokayev took over as head of the Security Council from Nursultan Nazarbayev.",
     "Nursultan Nazarbayev was replaced by Tokayev as head of the Security Council on Wednesday, the day the Kazakh government resigned."),
    ("According to the interior ministry, 164 people were killed and more than 5,800 detained during the unrest in Kazakhstan.",
     "More than 5,800 people were detained and 164 killed in the Kazakh unrest, the interior ministry reported."),
]


def paraphrase_pairs() -> list[tuple[str, str]]:
    """Independent wordings of one claim: the close paraphrases above; codebook examples of the same narrative;
    labelled paragraphs (written for the set, not from the sample articles) that assert the same narrative."""
    pairs = list(CLOSE_PARAPHRASES)
    book = yaml.safe_load((REPO / "codebook" / "narratives.yaml").read_text(encoding="utf-8"))
    pairs += [p for n in book["narratives"] for p in itertools.combinations(n["examples"], 2)]
    by_narrative: dict[str, list[str]] = {}
    for row in labelled_paragraphs():
        if row["split"] != "sample" and row["narratives"] and row["stance"] == "asserts":
            by_narrative.setdefault(row["narratives"], []).append(row["text"])
    pairs += [p for texts in by_narrative.values() for p in itertools.combinations(texts, 2)]
    return pairs


def test_edited_copies_are_copies_and_paraphrases_are_not_f1_at_least_0_9():
    rng = random.Random(28)
    originals = [r["text"] for r in labelled_paragraphs() if len(r["text"].split()) >= 20]
    copies = [(text, edited_copy(text, rng)) for text in originals]
    paraphrases = paraphrase_pairs()
    assert len(copies) >= 60 and len(paraphrases) >= 150
    texts = sorted({t for pair in copies + paraphrases for t in pair})
    index = {t: i for i, t in enumerate(texts)}
    positive = {tuple(sorted((index[a], index[b]))) for a, b in copies if a != b}
    negative = {tuple(sorted((index[a], index[b]))) for a, b in paraphrases} - positive
    found = find_copies(texts)
    tp = len(found & positive)
    fp = len(found - positive)  # a paraphrase pair, or any other pair that is no copy
    fn = len(positive - found)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    f1 = 2 * precision * recall / (precision + recall)
    assert f1 >= 0.9, (precision, recall, f1)
    assert len(found & negative) <= 0.02 * len(negative)


def test_overlap_ignores_case_punctuation_and_counts_the_shorter_text():
    a = shingles("The West organised the riots, said the minister.")
    b = shingles("the west organised the riots said the minister on Tuesday in a long interview")
    assert overlap(a, b) == 1.0
    assert overlap(a, shingles("Foreign powers planned the unrest, the minister claimed.")) == 0.0
    assert overlap(set(), a) == 0.0


def test_short_paragraphs_are_left_to_the_exact_copy_key():
    settings = SyndicationSettings()
    short = "The West did it again."
    assert find_copies([short, short + " Really."], settings) == set()


def test_copies_across_outlets_are_grouped_with_the_earliest_as_source_and_counted_once(con, hash_embedder, tmp_path):
    """Real DuckDB: three outlets carry one paragraph (as is, edited, and an independent paraphrase); the edited copy
    joins the exact-copy group, the earliest outlet is the source, the paraphrase stays independent, and
    narrative_first_seen counts the copying outlets once. A later run adds a copy without re-indexing old texts."""
    from narrative_tracker.ingest.files import ingest_paths
    from narrative_tracker.network.syndication import update_copies
    from narrative_tracker.paragraphs.split import build_paragraphs

    original = ("Western intelligence services planned the unrest in Almaty for months, the deputy minister said, "
                "and the instructors who trained the rioters came from abroad.")
    edited = ("MOSCOW, January 7 (Sputnik) - The deputy minister said western intelligence services planned the unrest "
              "in Almaty for months, and the instructors who trained the rioters came from abroad. Subscribe to our channel.")
    paraphrase = ("Foreign spy agencies spent months preparing the Almaty disorder, according to a senior official, "
                  "who added that the people coaching the mob had been sent from other countries.")
    for name, day, outlet, text in [("a", "Jan 5, 2022", "First Outlet", original), ("b", "Jan 6, 2022", "Copy Outlet", edited),
                                    ("c", "Jan 6, 2022", "Own Words Daily", paraphrase), ("d", "Jan 7, 2022", "Verbatim News", original)]:
        (tmp_path / f"{name}.txt").write_text(f"{day}\n\nHeadline {name}\n\n{text}\n\nSource: {outlet}\n")
    ingest_paths(con, [tmp_path])
    build_paragraphs(con, *_days())
    first = update_copies(con)
    assert first.indexed == 3 and first.rebuilt and first.groups == 1
    copies = con.execute("SELECT outlet, source_outlet, copied, exact FROM paragraph_copies ORDER BY day, outlet").pl()
    assert copies.to_dicts() == [
        {"outlet": "First Outlet", "source_outlet": "First Outlet", "copied": False, "exact": True},
        {"outlet": "Copy Outlet", "source_outlet": "First Outlet", "copied": True, "exact": False},
        {"outlet": "Verbatim News", "source_outlet": "First Outlet", "copied": True, "exact": True},
    ]
    row = con.execute("SELECT outlets, edited_copies, first_outlet FROM paragraph_syndication").fetchone()
    assert row == (3, 1, "First Outlet")
    # a narrative carried by all four: four outlets, two independent voices (the source and the paraphrase)
    con.execute("INSERT INTO narratives (narrative_id, label, origin, paragraphs, created_at, updated_at) "
                "VALUES ('n', 'N', 'codebook', 4, now(), now())")
    con.execute("INSERT INTO paragraph_narratives (paragraph_id, narrative_id, partition_date, score, method, model, assigned_at) "
                "SELECT paragraph_id, 'n', partition_date, 1.0, 'codebook', 'm', now() FROM paragraphs")
    assert con.execute("SELECT outlets, independent_outlets FROM narrative_first_seen").fetchone() == (4, 2)
    amplification = dict(con.execute("SELECT outlet, copied_paragraphs FROM narrative_amplification").fetchall())
    assert amplification == {"First Outlet": 0, "Copy Outlet": 1, "Own Words Daily": 0, "Verbatim News": 1}

    (tmp_path / "e.txt").write_text(f"Jan 8, 2022\n\nHeadline e\n\n{original} Read more on our site.\n\nSource: Late Copier\n")
    ingest_paths(con, [tmp_path])
    build_paragraphs(con, *_days())
    second = update_copies(con)
    assert (second.indexed, second.rebuilt, second.groups) == (1, False, 1)
    assert con.execute("SELECT outlets FROM paragraph_syndication").fetchone()[0] == 4
    assert update_copies(con).indexed == 0  # nothing new: nothing indexed again


def _days():
    import datetime as dt

    return dt.date(2000, 1, 1), dt.date(2030, 1, 1)
