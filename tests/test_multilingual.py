"""Language-aware pipeline: paragraph languages, per-language cleaning and stop words, per-model codebook settings,
language in views and the report; end to end, a Russian paragraph matched by an English codebook example."""

import datetime as dt
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import REPO, SAMPLE
from narrative_tracker.paragraphs.clean import BlockKind, classify_block, paragraphs_of
from narrative_tracker.narratives.codebook import CodebookError, load_codebook
from narrative_tracker.narratives.claims import distinctive_terms, split_sentences, stop_words
from narrative_tracker.ingest.files import ingest_paths
from narrative_tracker.ingest.language import paragraph_language
from narrative_tracker.paragraphs.split import build_paragraphs

SAMPLE_RU = REPO / "data" / "sample-ru"
ALL = (dt.date(2000, 1, 1), dt.date(2030, 1, 1))


def test_paragraph_language_trusts_itself_when_sure_and_its_article_when_not():
    english = "The West organised the riots in Kazakhstan, the minister said on Monday."
    russian = "Запад организовал беспорядки в Казахстане, заявил министр."  # py3langid alone: Bulgarian, p=0.52
    assert paragraph_language(english, "ru") == "en"  # a confident English quote in a Russian article
    assert paragraph_language(russian, "ru") == "ru"  # unsure, same script as the article: the article's
    assert paragraph_language("Путин", "ru") == "ru"  # too short to tell: the article's
    assert paragraph_language("Путин", None) is None


def test_stop_words_per_language():
    assert {"и", "в", "не", "что"} <= stop_words("ru")
    assert "the" in stop_words("ru")  # English boilerplate quoted in Russian text
    assert "the" in stop_words("en") and "и" not in stop_words("en")
    assert stop_words("xx") == stop_words("en")
    assert stop_words("en+ru") == stop_words("ru") and stop_words("ru+uk") == stop_words("ru") | stop_words("uk")
    assert split_sentences("Войска уйдут. Порядок восстановлен.", "ru") == ["Войска уйдут.", "Порядок восстановлен."]


def test_discovered_terms_skip_russian_stop_words():
    texts = ["Запад и НАТО стоят за беспорядками в стране, и это не случайно"] * 3 + ["Цены на газ в регионах растут, и это не радует"] * 3
    labels = np.array([0, 0, 0, 1, 1, 1])
    english_only = distinctive_terms(texts, labels, language="en")
    russian = distinctive_terms(texts, labels, language="ru")
    assert {"за", "на"} & {word for terms in english_only.values() for term in terms for word in term.split()}
    for terms in russian.values():
        assert terms and not any(word in stop_words("ru") for term in terms for word in term.split())


def test_russian_page_furniture_is_dropped_and_short_russian_sentences_kept():
    furniture = {
        "Читайте также: Цены на сжиженный газ в регионах": BlockKind.BOILERPLATE,
        "Подписывайтесь на наш канал в Telegram": BlockKind.BOILERPLATE,
        "Материалы по теме:": BlockKind.BOILERPLATE,
        "Если вы заметили ошибку в тексте, выделите её и нажмите Ctrl+Enter.": BlockKind.BOILERPLATE,
        "Фото: архив редакции": BlockKind.CAPTION,
        "Источник: Тестовая лента новостей": BlockKind.SOURCE,
        "Автор: Иван Примеров": BlockKind.BYLINE,
        "* Организация запрещена в России.": BlockKind.FOOTNOTE,
    }
    for block, kind in furniture.items():
        assert classify_block(block, "ru") is kind, block
    # a short sentence with no English verb is a caption only in English text
    assert classify_block("Войска уйдут из республики.", "ru") is BlockKind.BODY
    assert classify_block("Police and military equipment on the street in Almaty.", "en") is BlockKind.CAPTION
    # the Russian rules are not applied to text in other languages
    assert classify_block("Читайте также: Цены на сжиженный газ в регионах", "en") is not BlockKind.BOILERPLATE


def test_paragraphs_get_their_language_and_russian_cleaning(con):
    ingest_paths(con, [SAMPLE_RU, SAMPLE])
    build_paragraphs(con, *ALL)
    by_language = dict(con.execute(
        "SELECT a.language, list(DISTINCT p.language) FROM paragraphs p JOIN articles a USING (article_id) GROUP BY 1").fetchall())
    assert by_language == {"ru": ["ru"], "en": ["en"]}
    texts = [t for (t,) in con.execute(
        "SELECT p.text FROM paragraphs p JOIN articles a USING (article_id) WHERE a.language = 'ru'").fetchall()]
    assert len(texts) == 11  # 3 + 3 + 3 narrative paragraphs + 2 weather ones; every piece of furniture dropped
    assert not any(t.startswith(("Читайте", "Фото", "Источник", "Автор", "Подписывайтесь", "Материалы", "Если вы")) for t in texts)
    assert con.execute("SELECT DISTINCT outlet FROM articles WHERE language = 'ru' AND article_id IN "
                       "(SELECT article_id FROM paragraphs WHERE text LIKE 'По мнению ряда экспертов%')").fetchone() == ("Тестовая лента новостей",)


def test_codebook_settings_per_model(tmp_path):
    book = load_codebook()
    use = load_codebook(model="use-multilingual-v3")
    assert book.threshold("foreign_hand") != use.threshold("foreign_hand")
    assert load_codebook(model="all-MiniLM-L6-v2").fingerprint == book.fingerprint  # its settings are the base ones
    assert use.fingerprint != book.fingerprint
    raw = yaml.safe_load((REPO / "codebook" / "narratives.yaml").read_text(encoding="utf-8"))
    for bad, message in (
        ({"m": {"thresholds": {"no_such_narrative": 0.5}}}, "no_such_narrative"),
        ({"m": {"detection": {"top_q": 3}}}, "top_q"),
        ({"m": {"calibration": {"foreign_hand": 3}}}, "list"),
        ({"m": {"threshold": 0.3}}, "detection / thresholds / calibration"),
    ):
        path = tmp_path / "book.yaml"
        path.write_text(yaml.safe_dump(raw | {"models": bad}), encoding="utf-8")
        with pytest.raises(CodebookError, match=message):
            load_codebook(path, model="m")


@pytest.mark.slow
def test_russian_sample_matched_by_the_english_codebook_end_to_end(tmp_path):
    """``narratives run --model use-multilingual-v3`` on the English and Russian samples: the English codebook
    examples find each narrative in the Russian article written for it, and nothing in the weather one; the
    views and the report break the narratives down by language."""
    db = tmp_path / "ml.duckdb"
    cli = [sys.executable, "-m", "pipelines.cli"]
    run = subprocess.run([*cli, "run", "--model", "use-multilingual-v3", "--input", str(SAMPLE), "--input", str(SAMPLE_RU),
                          "--db", str(db)], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    from narrative_tracker import db as dbm

    with dbm.connection(db, read_only=True) as con:
        assert con.execute("SELECT DISTINCT model FROM paragraph_embeddings").fetchall() == [("use-multilingual-v3",)]
        found = dict(con.execute(
            "SELECT a.title, list(DISTINCT pn.narrative_id ORDER BY pn.narrative_id) FROM paragraph_narratives pn "
            "JOIN paragraphs p USING (paragraph_id) JOIN articles a USING (article_id) "
            "WHERE pn.method = 'codebook' AND p.language = 'ru' GROUP BY 1").fetchall())
        assert "foreign_hand" in found["Кто дирижировал погромами в Алма-Ате"]
        assert "isis_infiltration" in found["Боевики уходят в горы"]
        assert "csto_justification" in found["Миротворцы ОДКБ выполнили свою задачу"]
        assert "Морозы в Сибири" not in found
        languages = dict(con.execute(
            "SELECT language, sum(paragraphs) FROM narrative_languages WHERE origin = 'codebook' GROUP BY 1").fetchall())
        assert languages["ru"] >= 3 and languages["en"] >= 3
        assert con.execute("SELECT count(*) FROM narrative_daily_languages WHERE language = 'ru'").fetchone()[0] >= 3
    out = tmp_path / "report.html"
    report = subprocess.run([*cli, "report", "--db", str(db), "--out", str(out), "--language", "ru", "--day", "2022-01-12"],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr[-2000:]
    html = out.read_text(encoding="utf-8")
    assert "paragraphs in <b>ru</b> only" in html and '<span class="tag">ru ' in html  # narratives by language
    assert '<span class="tag">en ' not in html and 'title="paragraph language">en</span>' not in html
