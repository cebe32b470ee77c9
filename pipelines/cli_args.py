"""The arguments of ``narratives``: one parser per command; the shared options are declared once (``DB``,
``MODEL``, ``CODEBOOK``) and given to the commands that take them as argparse parents. Defaults are ``None``:
``pipelines.cli.main`` fills them from the settings module (option > environment variable > default)."""

from __future__ import annotations

import argparse
import datetime as dt

DEFAULT_DB_PATH = "NARRATIVES_DB or data/narratives.duckdb"
COLUMN_OPTIONS = ("text", "title", "date", "outlet", "url", "author", "language", "id", "tags")


def _options(*adders) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    for add in adders:
        add(parent)
    return parent


DB = _options(lambda p: p.add_argument(
    "--db", default=None, metavar="PATH",
    help=f"DuckDB file ({DEFAULT_DB_PATH}; the published copy for reading), 'ducklake:<catalog>.ducklake' or "
         "'ducklake:postgres:dbname=... host=...'"))
MODEL = _options(
    lambda p: p.add_argument("--model", default=None, metavar="NAME|PATH",
                             help="embedding model: all-MiniLM-L6-v2 (default, English), use-multilingual-v3 (16 languages, "
                                  "English codebook matches Russian text) or a local sentence-transformers folder; "
                                  "reading commands need the model the database was embedded with"),
    lambda p: p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default=None,
                             help="embedding precision: auto = bf16 where the CPU has AMX / AVX-512 BF16 units, else fp32"))
HEADS = _options(lambda p: p.add_argument(
    "--heads", default=None, metavar="PATH|none",
    help="trained narrative heads (`narratives train`): a heads-<model>.json file or a folder holding one; 'none': the "
         "codebook similarity detector only (default: NARRATIVES_HEADS, else the shipped heads for the model if any)"))
STANCE = _options(lambda p: p.add_argument(
    "--stance-model", default=None, metavar="DIR|none",
    help="pair model that decides each candidate (paragraph, narrative) pair and its stance (`narratives train-stance`); "
         "'none': the detector decides, with the frozen-feature stance model (default: NARRATIVES_STANCE_MODEL, else the shipped one)"))
CODEBOOK = _options(lambda p: p.add_argument(
    "--codebook", default=None, metavar="PATH",
    help="codebook YAML of known narratives (default: NARRATIVES_CODEBOOK or the bundled codebook/narratives.yaml)"))


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error: ``narratives: <what is wrong> (see `narratives <command> --help`)``, exit 2.
    Sub-commands inherit it (argparse builds them with the parent's class)."""

    def error(self, message: str):
        from narrative_tracker.textsafe import for_terminal

        self.exit(2, for_terminal(f"narratives: {message} (see `{self.prog} --help`)") + "\n")


def day(text: str) -> dt.date:
    """An ``argparse`` type: a calendar day written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: write YYYY-MM-DD, e.g. 2022-01-05") from None


def positive(text: str) -> int:
    """An ``argparse`` type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="narratives",
        description="Track propaganda narratives in news articles: ingest, clean, split and embed into DuckDB via Dagster.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run", parents=[DB, MODEL, CODEBOOK, HEADS, STANCE],
        help="ingest input files and materialise every asset for every day present in them",
        description=(
            "Ingest the input files (format detected per file: text/markdown, HTML, CSV/TSV, JSON Lines/JSON, "
            "RSS/Atom), then rebuild paragraphs and embeddings for the whole range of publication days they "
            "cover, in one Dagster run. Unchanged files are skipped; nothing is ever inserted twice."
        ),
    )
    run.add_argument("--input", "-i", action="append", metavar="PATH",
                     help="file or directory to ingest; repeat for several. Without --input nothing is ingested: every day "
                          "the database holds is re-processed (after a codebook change). The sample: --input data/sample")
    run.add_argument("--all-days", action="store_true",
                     help="process every day in the database, not only the days present in the input "
                          "(after editing the codebook or the cleaning rules)")
    for name in COLUMN_OPTIONS:
        run.add_argument(f"--{name}-column", metavar="NAME",
                         help=f"CSV/JSON column holding the article {name} (default: found by common names and aliases)")
    run.add_argument("--list-separator", default="+", metavar="SEP",
                     help="separator of multi-valued CSV cells such as outlets or tags (default: '+')")
    run.add_argument("--format", choices=["text", "html", "csv", "jsonl", "feed"],
                     help="read every file as this format instead of detecting it per file")
    run.add_argument("--workers", type=positive, default=1, metavar="N",
                     help="write N ranges of days at once, each in its own process (DuckLake on PostgreSQL only; "
                          "discovery, alerts and publishing still run once, after them)")
    run.add_argument("--force", action="store_true",
                     help="re-parse files already ingested with the same options (still adds no duplicate rows)")
    run.add_argument("--verbose", "-v", action="store_true", help="show Dagster's own log lines")

    evaluate = sub.add_parser(
        "evaluate", parents=[DB, MODEL, CODEBOOK, HEADS, STANCE],
        help="measure codebook detection against hand-labelled paragraphs",
        description=(
            "Score a labelled paragraph set (CSV: id, split, source, text, narratives ;-separated) with the codebook "
            "and print precision / recall / F1 per narrative for the tune and test parts; --json for machines. "
            "--tune re-runs the documented grid search on the tune part and prints the settings it would choose."
        ),
    )
    evaluate.add_argument("--labelled", default="", metavar="CSV",
                          help="labelled paragraphs (default: tests/labelled/paragraphs.csv)")
    evaluate.add_argument("--tune", action="store_true", help="also run the grid search and print the chosen settings")
    evaluate.add_argument("--discovery-db", default="", metavar="PATH",
                          help="also measure agreement (NMI, purity, outlier share) of the narratives in this database with "
                               "its articles' tags, e.g. EUvsDisinfo keywords: each article's most specific narrative "
                               "(discovered, else codebook), discovered only, codebook only")
    evaluate.add_argument("--discovery-since", default=None, metavar="YYYY-MM-DD",
                          help="with --discovery-db: only articles published on this day or later")
    evaluate.add_argument("--documents", default="", metavar="TSV",
                          help="document-level labels in SemEval-2025 Task 10 format (file TAB narratives ;-separated); "
                               "scores the codebook assignments in --db aggregated per input file")
    evaluate.add_argument("--semeval", action="append", default=[], metavar="DIR",
                          help="k-fold cross-validate learning from labelled documents on a SemEval-2025 Task 10 folder "
                               "(coarse and fine samples-F1 for zero-shot, prototype, logistic and logistic_tuned heads); "
                               "given twice or more (e.g. the English and the Russian split, with --model use-multilingual-v3): "
                               "heads trained on all of them together, k-fold CV per folder (the joint recipe, docs/models.md)")
    evaluate.add_argument("--semeval-train", default="", metavar="DIR",
                          help="with --semeval: also train the heads on every document of this SemEval folder (e.g. the "
                               "English split) and score them on --semeval's (e.g. Russian): cross-lingual transfer")
    evaluate.add_argument("--folds", type=positive, default=5, metavar="K", help="folds for --semeval and --stance-pairs (default 5)")
    evaluate.add_argument("--stance-pairs", default="", metavar="DIR",
                          help="score the stance model on FNC-1-format claim-text pairs (bodies.csv, stances.csv): per-class "
                               "P/R/F1, macro-F1 over the four FNC classes, FNC-1 weighted score; cross-validated by claim "
                               "when the shipped model was trained on that folder")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of tables")

    train_stance = sub.add_parser(
        "train-stance", parents=[CODEBOOK],
        help="train the pair model that decides each (claim, paragraph) pair: asserts / reports / refutes / unrelated",
        description="Fine-tune the pair model (the bundled MiniLM with a LoRA adapter and a classification head, a "
                    "cross-encoder) on FNC-1-format claim-article pairs (--pairs; a fifth of its claims is kept aside to choose "
                    "the checkpoint), the tune part of the labelled paragraphs, the codebook's examples, SemEval-format "
                    "documents (--semeval) and filled review CSVs (--review). Progress on stderr; a checkpoint every 50 "
                    "steps in --workdir, so a stopped run continues with --resume. Writes the adapter, head and "
                    "pair_model.json (default: the shipped folder narrative_tracker/narratives/pair_artifact). "
                    "--features trains the older frozen-feature stance model instead.",
    )
    train_stance.add_argument("--pairs", default="", metavar="DIR", help="FNC-1-format folder (bodies.csv, stances.csv)")
    train_stance.add_argument("--semeval", action="append", default=[], metavar="DIR",
                              help="SemEval-2025 Task 10 folder (documents/, labels.tsv): documents assert their "
                                   "sub-narratives; repeat for several")
    train_stance.add_argument("--corpus", default="", metavar="CSV",
                              help="EUvsDisinfo-format posts.csv: claims dated before 2019 as weak-labelled pairs (hard negatives)")
    train_stance.add_argument("--labelled", default="", metavar="CSV", help="labelled paragraphs (default: tests/labelled/paragraphs.csv; tune part only)")
    train_stance.add_argument("--no-labelled", action="store_true", help="do not use the labelled paragraphs")
    train_stance.add_argument("--out", default="", metavar="DIR", help="folder for the artifact (default: the shipped folder)")
    train_stance.add_argument("--workdir", default="", metavar="DIR", help="checkpoints (default: <out>.work)")
    train_stance.add_argument("--review", action="append", default=[], metavar="CSV",
                              help="a review CSV filled by an analyst (`narratives review`); repeat for several")
    train_stance.add_argument("--version", default="", metavar="NAME", help="version string stored in the artifact (default: a timestamp)")
    train_stance.add_argument("--epochs", type=float, default=None, metavar="N", help="passes over the material (default 3)")
    train_stance.add_argument("--max-steps", type=int, default=None, metavar="N", help="stop after N optimizer steps")
    train_stance.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    train_stance.add_argument("--resume", action="store_true", help="continue from the checkpoint in --workdir")
    train_stance.add_argument("--features", action="store_true",
                              help="train the frozen-feature stance model (stance_artifact/) instead of the pair model")

    encoder = sub.add_parser(
        "train-encoder", parents=[CODEBOOK],
        help="fine-tune the domain encoder (minilm-narratives): the bundled MiniLM with a LoRA adapter",
        description="Contrastive fine-tuning (multiple-negatives ranking loss) of the bundled MiniLM with a LoRA adapter on "
                    "pairs of texts that carry the same narrative: EUvsDisinfo claims dated before 2019-01-01 sharing their "
                    "first tag (--corpus; the last six months before the cutoff are kept aside to choose the checkpoint; "
                    "claims from 2019 on are never read), SemEval-format documents sharing a sub-narrative (--semeval), "
                    "and the codebook's examples and the labelled tune paragraphs of one narrative. Writes the adapter "
                    "and encoder.json (default: narrative_tracker/embeddings/encoder_artifact), used by --model minilm-narratives.",
    )
    encoder.add_argument("--corpus", default="", metavar="CSV", help="EUvsDisinfo-format posts.csv (date, title, keywords)")
    encoder.add_argument("--semeval", action="append", default=[], metavar="DIR", help="SemEval-2025 Task 10 folder; repeat for several")
    encoder.add_argument("--no-labelled", action="store_true", help="do not use the labelled tune paragraphs")
    encoder.add_argument("--out", default="", metavar="DIR", help="folder for the artifact (default: the shipped folder)")
    encoder.add_argument("--workdir", default="", metavar="DIR", help="checkpoints (default: <out>.work)")
    encoder.add_argument("--version", default="", metavar="NAME", help="version string stored in the artifact (default: a timestamp)")
    encoder.add_argument("--epochs", type=float, default=None, metavar="N", help="passes over the pairs (default 2)")
    encoder.add_argument("--max-steps", type=int, default=None, metavar="N", help="stop after N optimizer steps")
    encoder.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    encoder.add_argument("--resume", action="store_true", help="continue from the checkpoint in --workdir")

    train = sub.add_parser(
        "train", parents=[DB, MODEL, CODEBOOK],
        help="train the per-narrative detection heads from labelled material",
        description="Train one classifier head per codebook narrative on frozen paragraph embeddings of the model from: the "
                    "codebook examples, the *tune* part of the labelled paragraphs (never the test part), SemEval-format "
                    "documents (--semeval), filled review CSVs (--review) and the analyst decisions in --db (--decisions). "
                    "A narrative needs 5 labelled positives and 10 negatives for a head; the others keep the similarity "
                    "detector. Writes heads-<model>.npz + .json (default: the shipped folder), used by `narratives run` "
                    "and `narratives evaluate` (NARRATIVES_HEADS / --heads).")
    train.add_argument("--labelled", default="", metavar="CSV", help="labelled paragraphs (default: tests/labelled/paragraphs.csv; tune part only)")
    train.add_argument("--no-labelled", action="store_true", help="do not use the labelled paragraphs")
    train.add_argument("--semeval", action="append", default=[], metavar="DIR",
                       help="labelled documents in SemEval-2025 Task 10 format (documents/, labels.tsv); repeat for several")
    train.add_argument("--review", action="append", default=[], metavar="CSV",
                       help="a review CSV filled by an analyst (`narratives review`); repeat for several")
    train.add_argument("--decisions", action="store_true",
                       help="also learn from the analyst decisions in --db (promoted / rejected discovered narratives)")
    train.add_argument("--out", default="", metavar="DIR", help="folder for the artifact (default: narrative_tracker/narratives/heads_artifact)")
    train.add_argument("--version", default="", metavar="NAME", help="version string stored in the artifact (default: a timestamp)")

    review = sub.add_parser("review", parents=[DB], help="export the least-certain assignments as a CSV for an analyst to label",
                            description="Write the codebook assignments whose detection or stance confidence is nearest 0.5 "
                                        "to a CSV; fill correct_narrative (yes/no) and correct_stance, then feed it back "
                                        "with `narratives train --review FILE` (detection heads) and/or "
                                        "`narratives train-stance --review FILE` (stance).")
    review.add_argument("--out", default="data/review.csv", metavar="FILE", help="CSV to write (default data/review.csv)")
    review.add_argument("--limit", type=positive, default=50, metavar="N", help="rows (default 50)")

    codebook = sub.add_parser("codebook", help="codebook tools: import a taxonomy as a codebook",
                              description="Codebook tools.")
    codebook_sub = codebook.add_subparsers(dest="codebook_command", required=True, metavar="ACTION")
    imp = codebook_sub.add_parser(
        "import-semeval",
        help="write a codebook from a SemEval-2025 Task 10 folder (taxonomy + explanations)",
        description="Write a codebook YAML with one narrative per coarse SemEval narrative; examples are its "
                    "subnarrative statements and the human explanations of labelled documents.",
    )
    imp.add_argument("folder", metavar="DIR", help="folder with subtask2_narratives.txt, subtask2_subnarratives.txt, labels.tsv")
    imp.add_argument("--out", required=True, metavar="FILE", help="codebook YAML to write")

    alerts = sub.add_parser("alerts", parents=[DB], help="list spike and emerging-narrative alerts (read-only)",
                            description="List the alerts the last run computed, newest first.")
    alerts.add_argument("--since", type=day, metavar="YYYY-MM-DD", help="only alerts on or after this day")
    alerts.add_argument("--limit", type=positive, default=30, metavar="N", help="at most N alerts (default 30)")

    narrative = sub.add_parser("narrative", help="analyst decisions on narratives: list, rename, merge, reject, promote",
                               description="Decisions are stored in narrative_decisions and re-applied after every run.")
    nsub = narrative.add_subparsers(dest="narrative_command", required=True, metavar="ACTION")
    nlist = nsub.add_parser("list", parents=[DB], help="list narratives with status and size")
    decisions = []
    for name, helptext in (("rename", "give a narrative a new label"), ("merge", "merge a discovered narrative into another"),
                           ("reject", "reject a discovered narrative (its paragraphs stay unassigned)"),
                           ("promote", "copy a discovered narrative into the codebook as a named narrative")):
        p_ = nsub.add_parser(name, parents=[DB, CODEBOOK] if name == "promote" else [DB], help=helptext, description=helptext[0].upper() + helptext[1:] + ".")
        p_.add_argument("narrative_id", metavar="ID", help="the narrative (e.g. d_1a2b3c4d5e)")
        if name == "rename":
            p_.add_argument("label", metavar="LABEL", help="the new label")
        if name == "merge":
            p_.add_argument("target", metavar="TARGET_ID", help="the narrative it merges into")
        if name == "promote":
            p_.add_argument("--id", required=True, dest="new_id", metavar="CODEBOOK_ID", help="lower_snake_case id for the codebook")
            p_.add_argument("--label", default="", metavar="LABEL", help="human label (default: its claim label)")
        p_.add_argument("--note", metavar="TEXT", help="why (stored with the decision)")
        decisions.append(p_)

    report = sub.add_parser("report", parents=[DB], help="write the daily HTML report (self-contained, charts inlined)",
                            description="Write a self-contained HTML page for the week ending --day: alerts, top narratives "
                                        "with change and evidence paragraphs (outlet, date, link), charts.")
    report.add_argument("--day", type=day, metavar="YYYY-MM-DD", help="last day of the report week (default: the latest publication day)")
    report.add_argument("--out", default="data/report.html", metavar="FILE", help="HTML file to write (default: data/report.html)")
    report.add_argument("--language", metavar="CODE", help="only paragraphs in this language (ISO 639-1, e.g. ru); default all")

    search = sub.add_parser("search", parents=[DB, MODEL], help="keyword (BM25) and semantic search over paragraphs",
                            description="Search paragraphs by keywords (BM25 full-text index) and by meaning (embedding "
                                        "similarity); filters by outlet and dates.")
    search.add_argument("query", metavar="TEXT", help="what to look for")
    search.add_argument("--mode", choices=["both", "keyword", "semantic"], default="both", help="which search (default both)")
    search.add_argument("--outlet", metavar="PATTERN", help="outlet filter, SQL ILIKE pattern, e.g. '%%sputnik%%'")
    search.add_argument("--from", dest="date_from", type=day, metavar="YYYY-MM-DD", help="first day")
    search.add_argument("--to", dest="date_to", type=day, metavar="YYYY-MM-DD", help="last day")
    search.add_argument("--limit", type=positive, default=10, metavar="N", help="results per search (default 10)")

    sql = sub.add_parser("sql", parents=[DB], help="run SQL on the database read-only, files outside it out of reach",
                         description="Run one SQL statement on the published database and print the result; without a "
                                     "statement, read statements from the terminal. Read-only, and with DuckDB's external "
                                     "access disabled: COPY TO, read_text/read_csv of other files, ATTACH, EXPORT and "
                                     "extension installs are refused.")
    sql.add_argument("statement", nargs="?", metavar="SQL", help="the statement (omit to type statements, ';' ends each)")

    summary = sub.add_parser("summary", parents=[DB], help="print what a database holds (read-only)",
                             description="Print articles, paragraphs, embeddings and quarantine counts of a database, read-only.")

    setup = sub.add_parser("setup", parents=[DB, MODEL], help="create or migrate the tables of a warehouse (DuckLake: before any concurrent run)",
                           description="Create or migrate every table, the embedding tables sized for the model included. "
                                       "`run` does it first; a DuckDB file does it whenever it is opened for writing.")
    for command in (review, alerts, nlist, report, search, sql, summary, *decisions):
        command.set_defaults(reads_db=True)  # main(): a missing database is a one-line error before the command runs
    return parser
