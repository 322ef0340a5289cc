#!/usr/bin/env python3
"""The bibflow study suite written for DuckDB 2.x in plain SQL (window functions, UNNEST, lists,
RE2 regular expressions), without bibflow's UDFs.

`build(root)` returns (views, queries): the five shared views as (name, SQL) in dependency order,
to be materialised as TEMP tables, and the report uses of the 12 saved queries as (id, SQL) with the
parameter values of their `[[report]]` entries (ids are bibflow's export file stems). The input
tables are DuckDB views named like bibflow's tables (see `table_views`).

Run as a script to write the generated suite to benches/study_suite/duckdb_suite.sql:
    python3 benches/study_suite/duckdb_suite.py

What replaces each UDF (read next to the Rust sources named):
- modalities()      udfs/src/classify/rules.rs + modalities.rs: one RE2 regex per (label, kind)
                    generated from udfs/rules/modalities.tsv (whole words, in order, within one
                    sentence), MeSH names compared by their word key, the same gene therapy
                    precedence (ex vivo marker > in vivo vector > unspecified).
- clinical_stage()  udfs/src/classify/clinical_stage.rs (4-argument form) + stage_text.rs: Humans
                    heading, clinical / case-report / meta-analysis / review publication types,
                    and counts of trial, human-subject and laboratory wording (RE2 with ASCII \b
                    word boundaries, as the synthetic corpora are ASCII).
- ham_position()    udfs/src/classify/ham_position.rs over udfs/data/mesh_trees.tsv loaded as a table.
- country_shares()  udfs/src/counting/country_shares.rs: 1/n per author, split over that author's
                    affiliations (institution countries, else affiliation countries), HK/MO -> CN,
                    NULL/blank codes dropped.
- collab_type()     two or more distinct known countries = international.
- ncs(), top_threshold(), top_share(), is_citable(): udfs/src/impact/*.rs (Waltman & Schreiber
                    top 10% with ties shared; e = 0 gives NCS 1).
- country_region(), country_name(): udfs/data/countries.csv loaded as a table.
"""
import csv
import io
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

TABLES = ["works", "authorships", "work_mesh", "work_publication_types"]

# udfs/src/classify/clinical_stage.rs CLINICAL_TYPES / HUMANS (word keys).
CLINICAL_TYPES = [
    "clinical trial", "clinical trial phase i", "clinical trial phase ii",
    "clinical trial phase iii", "clinical trial phase iv", "clinical trial phase 1",
    "clinical trial phase 2", "clinical trial phase 3", "clinical trial phase 4",
    "randomized controlled trial", "controlled clinical trial", "pragmatic clinical trial",
    "clinical study", "observational study",
]
HUMANS = ["humans", "d006801"]
# udfs/src/impact/is_citable.rs CITABLE_TYPES.
CITABLE_TYPES = [
    "article", "journal-article", "review", "systematic-review", "conference-paper",
    "proceedings-article", "proceedings-paper", "book", "monograph", "edited-book", "book-chapter",
]
# udfs/src/classify/ham_position.rs
HUMANS_TREE = "B01.050.150.900.649.313.988.400.112.400.400"
MOLECULAR_CELLULAR_TREES = ["A11", "B02", "B03", "B04", "G02.111.570", "G02.149"]

# Word characters. bibflow takes Unicode letters and digits (char::is_alphanumeric); the RE2 classes
# \pL\pN make DuckDB's regexes fall off RE2's DFA (the first text rule did not finish over 160k
# works in 3 minutes), so the DuckDB suite takes ASCII letters and digits and the Latin-1 /
# Latin Extended-A/B letters (U+00C0-U+024F), which covers the synthetic corpora (all ASCII).
WORD_CHARS = r"a-z0-9\x{00C0}-\x{024F}"
WORD = "[" + WORD_CHARS + "]"
NOT_WORD = "[^" + WORD_CHARS + "]"
# Between two words of a term: anything that is not a word character nor ends a sentence
# (udfs/src/classify/words.rs ends_phrase).
GAP = "[^" + WORD_CHARS + r".;:!?()\[\]{}]+"


def q(s):
    """A SQL string literal."""
    return "'" + str(s).replace("'", "''") + "'"


def sql_list(items):
    return "[" + ", ".join(q(i) for i in items) + "]"


def name_key(raw):
    """common.rs name_key: words (runs of letters/digits) lower-cased, joined by one space."""
    raw = raw.replace("æ", "ae").replace("Æ", "ae")
    return " ".join(w.lower() for w in re.findall(r"[^\W_]+", raw))


def key_sql(expr):
    """name_key() in DuckDB SQL."""
    return (f"trim(regexp_replace(replace(lower({expr}), 'æ', 'ae'), '{NOT_WORD}+', ' ', 'g'))")


def term_regex(term):
    """rules.rs parse_term + try_terms as one RE2 pattern over lower-cased text."""
    words = []
    for piece in re.split(r"[^\w|*]|_", term):
        if not piece:
            continue
        alts = []
        for alt in piece.split("|"):
            prefix = alt.endswith("*")
            body = name_key(alt.rstrip("*")).replace(" ", "")
            alts.append(re.escape(body) + (WORD + "*" if prefix else ""))
        words.append("(?:" + "|".join(alts) + ")")
    return "(?:^|" + NOT_WORD + ")" + GAP.join(words) + "(?:" + NOT_WORD + "|$)"


def load_rules(path):
    """udfs/rules/modalities.tsv -> labels in file order, {(label, kind): [terms]}."""
    labels, rules = [], {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.strip().startswith("#"):
                continue
            label, kind, term = [x.strip() for x in line.rstrip("\n").split("\t") if x.strip()]
            if label not in labels:
                labels.append(label)
            rules.setdefault((label, kind), []).append(term)
    return labels, rules


def flag(label, role):
    return re.sub(r"\W+", "_", f"{role}_{label}").lower()


ROLES = {"mesh": "direct", "text": "direct", "mesh_in_context": "in_context",
         "text_in_context": "in_context", "context_mesh": "context", "context_text": "context",
         "gt_mesh": "gt", "gt_text": "gt", "ex_vivo_mesh": "ex_vivo", "ex_vivo_text": "ex_vivo",
         "in_vivo_mesh": "in_vivo", "in_vivo_text": "in_vivo"}


# udfs/src/classify/stage_text.rs word lists.
STAGE_ANIMALS = [
    "mice", "mouse", "murine", "rat", "rats", "hamster", "hamsters", "rabbit", "rabbits", "dog",
    "dogs", "canine", "cat", "cats", "feline", "pig", "pigs", "porcine", "swine", "sheep", "ovine",
    "cattle", "bovine", "calves", "cow", "cows", "monkey", "monkeys", "primate", "primates",
    "baboon", "baboons", "chick", "chicks", "chicken", "chickens", "avian", "frog", "frogs",
    "xenopus", "zebrafish", "drosophila", "yeast", "escherichia", "strain", "strains", "animal",
    "animals", "horse", "horses", "equine", "bird", "birds", "fish", "insect", "insects", "plant",
    "plants",
]
STAGE_PEOPLE = ["cases", "subjects", "women", "men", "children", "infants", "adults", "mothers",
                "newborns", "neonates", "individuals", "persons", "people"]
# udfs/src/classify/clinical_stage.rs NO_SUBJECT_TYPES.
NO_SUBJECT_TYPES = ["review", "systematic review", "practice guideline", "guideline", "editorial",
                    "comment", "news", "letter", "historical article", "biography", "lecture",
                    "congress"]


def stage_cue_sql(txt, title):
    """stage_text.rs scan(): (trial > 0, human count, lab count, review title) as SQL over the
    lower-cased text `txt` (title . abstract) and lower-cased `title`."""
    sep = GAP
    anim = r"(?:" + "|".join(STAGE_ANIMALS) + r"|bacteri[a-z0-9]*)"

    def cnt(pattern, col=txt):
        return f"len(regexp_extract_all({col}, {q(pattern)}))"

    def followed_by_animal(head):
        return head + r"(?:" + sep + r"[a-z0-9]+){0,6}" + sep + anim + r"\b"
    rand = r"\brandomi[sz]ed\b"
    randomly = r"\brandomly" + sep + r"(?:assigned|allocated|divided)\b"
    any_of = [
        r"\b(?:double|single|triple)" + sep + r"(?:blind|blinded|masked)\b",
        r"\b(?:placebo|eudract)\b",
        r"\bphase" + sep + r"(?:i|ii|iii|iv|1|2|3|4|ib|iia|iib)(?:" + sep + r"[a-z0-9]+){0,4}"
        + sep + r"(?:trial|trials|study)\b",
        r"\b(?:clinical|controlled|multicenter|multicentre|pilot|prospective|crossover)" + sep
        + r"(?:clinical" + sep + r")?trials?\b",
        r"\b(?:nct[0-9]{8}|isrctn[0-9]+|actrn[0-9]+)\b|\bchictr",
    ]
    rand_animal = followed_by_animal(r"\brandomi[sz]ed")
    randomly_animal = followed_by_animal(r"\brandomly")
    trial = " OR ".join(
        [f"{cnt(rand)} > {cnt(rand_animal)}", f"{cnt(randomly)} > {cnt(randomly_animal)}"]
        + [f"{cnt(p)} > 0" for p in any_of])
    patients = r"\bpatients?\b"
    human = " + ".join([
        f"2 * {cnt(patients)}",
        cnt(r"\bcase" + sep + r"(?:reports?|of)\b"),
        cnt(r"\b(?:cohorts?|volunteers?|participants?)\b"),
        cnt(r"\b(?:human|healthy)" + sep + r"subjects\b"),
        cnt(r"\b(?:retrospective|prospective)[a-z0-9]*"),
        cnt(r"\b[0-9]+" + sep + r"(?:" + "|".join(STAGE_PEOPLE) + r")\b"),
        cnt(r"\b[0-9]+" + sep + r"(?:year|month|week|day)" + sep + r"old\b"),
    ])
    lab = " + ".join([
        cnt(r"\b(?:" + "|".join(STAGE_ANIMALS) + r"|bacteri[a-z0-9]*|cultured|cells|enzymes?"
            r"|purified|compounds?|crystal[a-z0-9]*|synthesi[a-z0-9]*)\b"),
        cnt(r"\bin" + sep + r"vitro\b"),
        cnt(r"\bcell" + sep + r"lines?\b"),
    ])
    review = " OR ".join(f"regexp_matches({title}, {q(p)})" for p in [
        r"^[^a-z0-9]*review\b", r"\breview" + sep + r"of\b", r"\ba[^a-z0-9]+review\b",
        r"\bupdate" + sep + r"on\b", r"\bcurrent" + sep + r"concepts\b",
        r"\b(?:guidelines?|overview|literature)\b", r"\bmanagement" + sep + r"of\b",
        r"\bwe" + sep + r"review\b", r"\b(?:is|are)[^a-z0-9]+reviewed\b",
        r"\bthis" + sep + r"review\b"])
    return f"({trial})", f"({human})", f"({lab})", f"coalesce({review}, false)"


def work_modality_sql(rules_path):
    labels, rules = load_rules(rules_path)
    mesh_flags, text_flags = {}, {}   # flag -> [keys] / [regexes]
    roles_of = {}
    gt_label = ex_label = in_label = None
    for (label, kind), terms in rules.items():
        role = ROLES[kind]
        roles_of.setdefault(label, set()).add(role)
        if role == "gt":
            gt_label = label
        elif role == "ex_vivo":
            ex_label = label
        elif role == "in_vivo":
            in_label = label
        f = flag(label, role)
        if "mesh" in kind.split("_"):
            mesh_flags.setdefault(f, []).extend(name_key(t) for t in terms)
        else:
            text_flags.setdefault(f, []).extend(term_regex(t) for t in terms)
    all_flags = sorted(set(mesh_flags) | set(text_flags))

    def has(label, role):
        f = flag(label, role)
        parts = []
        if f in mesh_flags:
            parts.append(f"coalesce(m_{f}, false)")
        if f in text_flags:
            parts.append(f"t_{f}")
        return "(" + " OR ".join(parts) + ")" if parts else "false"

    name_flags = ",\n           ".join(
        f"k IN ({', '.join(q(x) for x in mesh_flags[f])}) AS {f}" for f in sorted(mesh_flags))
    work_flags = ",\n           ".join(f"bool_or(n.{f}) AS m_{f}" for f in sorted(mesh_flags))
    text_exprs = ",\n           ".join(
        f"regexp_matches(txt, {q('|'.join(text_flags[f]))}) AS t_{f}" for f in sorted(text_flags))
    gt = has(gt_label, "gt") if gt_label else "false"
    ex = has(ex_label, "ex_vivo") if ex_label else "false"
    inv = has(in_label, "in_vivo") if in_label else "false"
    gene = (f"CASE WHEN NOT {gt} THEN NULL WHEN {ex} THEN {q(ex_label)} "
            f"WHEN {inv} THEN {q(in_label)} ELSE {q(gt_label)} END")
    items = []
    for label in labels:
        conds = []
        if "direct" in roles_of[label]:
            conds.append(has(label, "direct"))
        if "in_context" in roles_of[label]:
            conds.append(f"({has(label, 'in_context')} AND {has(label, 'context')})")
        if label in (gt_label, ex_label, in_label):
            conds.append(f"coalesce(gene = {q(label)}, false)")
        items.append(f"CASE WHEN {' OR '.join(conds)} THEN {q(label)} END")
    mods = ("list_filter([" + ",\n                             ".join(items)
            + "], lambda x: x IS NOT NULL)")
    clinical = ', '.join(q(c) for c in CLINICAL_TYPES)
    no_subject = ', '.join(q(c) for c in NO_SUBJECT_TYPES)
    s_trial, s_human, s_lab, s_review = stage_cue_sql("txt", "ltitle")
    return f"""WITH names AS (
    -- MeSH names compared by their word key (common.rs name_key), once per distinct name
    SELECT descriptor_name, k IN ({', '.join(q(h) for h in HUMANS)}) AS humans,
           {name_flags}
    FROM (SELECT descriptor_name, {key_sql('descriptor_name')} AS k
          FROM (SELECT DISTINCT descriptor_name FROM work_mesh WHERE descriptor_name IS NOT NULL))),
m AS (
    SELECT wm.work_id, bool_or(coalesce(n.humans, false)) AS humans,
           {work_flags}
    FROM work_mesh wm LEFT JOIN names n ON wm.descriptor_name = n.descriptor_name
    GROUP BY wm.work_id),
ptypes AS (
    SELECT publication_type, k IN ({clinical}) AS clinical, k = 'case reports' AS case_report,
           k = 'meta analysis' AS meta, k IN ({no_subject}) AS no_subjects
    FROM (SELECT publication_type, {key_sql('publication_type')} AS k
          FROM (SELECT DISTINCT publication_type FROM work_publication_types))),
p AS (
    SELECT wp.work_id, bool_or(coalesce(pt.clinical, false)) AS clinical,
           bool_or(coalesce(pt.case_report, false)) AS case_report,
           bool_or(coalesce(pt.meta, false)) AS meta,
           bool_or(coalesce(pt.no_subjects, false)) AS no_subjects
    FROM work_publication_types wp LEFT JOIN ptypes pt ON wp.publication_type = pt.publication_type
    GROUP BY wp.work_id),
t AS (
    -- text rules: whole words, in order, within one sentence, in the title or the abstract
    SELECT work_id, publication_year, type, title IS NULL AND abstract IS NULL AS no_text,
           {text_exprs},
           {s_trial} AS s_trial, {s_human} AS s_human, {s_lab} AS s_lab,
           {s_review} AS s_review
    FROM (SELECT work_id, publication_year, type, title, abstract,
                 replace(lower(coalesce(title, '') || ' . ' || coalesce(abstract, '')), 'æ', 'ae') AS txt,
                 replace(lower(coalesce(title, '')), 'æ', 'ae') AS ltitle
          FROM works)),
j AS (
    SELECT t.*, m.* EXCLUDE (work_id), m.work_id IS NOT NULL AS has_mesh,
           p.work_id IS NOT NULL AS has_ptypes, p.clinical, p.case_report, p.meta, p.no_subjects
    FROM t
    LEFT JOIN m ON t.work_id = m.work_id
    LEFT JOIN p ON t.work_id = p.work_id),
g AS (
    -- gene therapy precedence: ex vivo marker, else in vivo vector, else unspecified
    SELECT *, {gene} AS gene FROM j),
c AS (
    SELECT work_id, publication_year AS year, type,
           CASE WHEN NOT has_mesh AND NOT has_ptypes AND no_text THEN NULL
                WHEN coalesce(case_report, false) AND NOT coalesce(clinical, false)
                    THEN 'clinical (human)'
                WHEN coalesce(meta, false) THEN 'clinical (human)'
                WHEN NOT coalesce(clinical, false) AND (coalesce(no_subjects, false) OR s_review)
                    THEN 'basic'
                WHEN has_mesh THEN
                    CASE WHEN NOT coalesce(humans, false) THEN 'basic'
                         WHEN coalesce(clinical, false) OR (s_trial AND s_human > 0)
                             THEN 'clinical trial'
                         WHEN s_human > s_lab THEN 'clinical (human)'
                         ELSE 'basic' END
                WHEN coalesce(clinical, false) OR (s_trial AND s_human > 0 AND s_human >= s_lab)
                    THEN 'clinical trial'
                WHEN s_human > 0 AND s_human > s_lab THEN 'clinical (human)'
                ELSE 'basic' END AS stage,
           CASE WHEN NOT has_mesh AND no_text THEN NULL ELSE
                {mods} END AS mods
    FROM g)
SELECT work_id, year, type, unnest(mods) AS modality, stage
FROM c
WHERE len(mods) > 0"""


WORK_HAM = f"""WITH d AS (
    SELECT descriptor_ui,
           bool_or(tree = 'M01' OR tree LIKE 'M01.%'
                   OR tree = {q(HUMANS_TREE)} OR tree LIKE {q(HUMANS_TREE + '.%')}) AS h,
           bool_or(NOT (tree = 'M01' OR tree LIKE 'M01.%' OR tree = {q(HUMANS_TREE)}
                        OR tree LIKE {q(HUMANS_TREE + '.%')})
                   AND (tree = 'B01' OR tree LIKE 'B01.%')) AS a,
           bool_or({' OR '.join(f"tree = {q(r)} OR tree LIKE {q(r + '.%')}" for r in MOLECULAR_CELLULAR_TREES)}) AS mc
    FROM (SELECT descriptor_ui, trim(unnest(string_split(tree_numbers, '|'))) AS tree
          FROM mesh_trees WHERE tree_numbers <> '')
    GROUP BY descriptor_ui),
w AS (
    SELECT wm.work_id,
           sum(CASE WHEN d.h THEN 1 ELSE 0 END) AS h,
           sum(CASE WHEN d.a THEN 1 ELSE 0 END) AS a,
           sum(CASE WHEN d.mc THEN 1 ELSE 0 END) AS mc
    FROM work_mesh wm LEFT JOIN d ON upper(replace(wm.descriptor_ui, ' ', '')) = d.descriptor_ui
    GROUP BY wm.work_id)
SELECT work_id,
       CASE WHEN h + a + mc > 0 THEN h / (h + a + mc) END AS human,
       CASE WHEN h + a + mc > 0 THEN a / (h + a + mc) END AS animal,
       CASE WHEN h + a + mc > 0 THEN mc / (h + a + mc) END AS molecular_cellular
FROM w"""

WORK_COUNTRY = """WITH a AS (
    SELECT work_id,
           CASE WHEN len(institution_countries) > 0 THEN institution_countries
                ELSE affiliation_countries END AS ac,
           count(*) OVER (PARTITION BY work_id) AS n_authors
    FROM authorships),
u AS (
    SELECT work_id, unnest(ac) AS code, 1.0::DOUBLE / n_authors / len(ac) AS w
    FROM a WHERE len(ac) > 0),
s AS (
    SELECT work_id,
           CASE WHEN upper(trim(code)) IN ('HK', 'MO') THEN 'CN' ELSE upper(trim(code)) END AS country,
           sum(w) AS author_weight
    FROM u WHERE trim(code) <> ''
    GROUP BY ALL)
SELECT work_id, country, author_weight,
       1.0::DOUBLE / count(*) OVER (PARTITION BY work_id) AS country_weight,
       1.0::DOUBLE AS full_weight
FROM s"""

WORK_COLLAB = """SELECT work_id, count(*) AS countries,
       CASE WHEN count(*) >= 2 THEN 'international' ELSE 'single-country' END AS collaboration
FROM work_country
GROUP BY work_id"""

WORK_IMPACT = f"""WITH r AS (
    SELECT subfield_id, publication_year, type,
           avg(cited_by_count) AS e, count(*) AS n,
           list(CAST(cited_by_count AS DOUBLE) ORDER BY cited_by_count) AS l
    FROM works
    WHERE replace(replace(lower(trim(type)), ' ', '-'), '_', '-') IN ({', '.join(q(c) for c in CITABLE_TYPES)})
      AND subfield_id IS NOT NULL AND cited_by_count IS NOT NULL
    GROUP BY subfield_id, publication_year, type),
t AS (
    -- top 10%: t = the value at ascending position n - floor(n / 10) (1-based); ties share
    SELECT subfield_id, publication_year, type, e, n, l[n - n // 10] AS t, l FROM r),
thr AS (
    SELECT subfield_id, publication_year, type, e, t,
           (n / 10.0 - len(list_filter(l, lambda x: x > t))) / len(list_filter(l, lambda x: x = t)) AS frac
    FROM t)
SELECT w.work_id, w.cited_by_count AS citations,
       CASE WHEN r.e = 0 THEN 1.0::DOUBLE ELSE w.cited_by_count / r.e END AS ncs,
       CASE WHEN w.cited_by_count > r.t THEN 1.0
            WHEN w.cited_by_count = r.t THEN r.frac ELSE 0.0 END AS top10
FROM works w
JOIN thr r ON w.subfield_id = r.subfield_id
      AND w.publication_year = r.publication_year
      AND w.type = r.type
WHERE w.cited_by_count IS NOT NULL"""

MODALITIES = ["all", "HSCT", "MSC", "ex vivo GT", "in vivo GT", "GT unspecified"]


def wm_filter(p):
    cond = f"year BETWEEN {p['first_year']} AND {p['last_year']}"
    if p["modality"] != "all":
        cond = f"modality = {q(p['modality'])} AND " + cond
    return cond


def modality_col(p):
    return "'all'" if p["modality"] == "all" else "modality"


def corpus_summary(p):
    return f"""WITH c AS (SELECT DISTINCT work_id FROM work_country),
m AS (SELECT DISTINCT work_id FROM work_mesh),
t AS (SELECT DISTINCT work_id FROM work_modality)
SELECT w.source, w.publication_year AS year, count(*) AS works,
       count(w.doi) AS with_doi, count(w.pmid) AS with_pmid,
       avg(CASE WHEN w.openalex_id IS NOT NULL AND w.pmid IS NOT NULL THEN 1.0 ELSE 0.0 END) AS linked_share,
       avg(CASE WHEN c.work_id IS NOT NULL THEN 1.0 ELSE 0.0 END) AS country_share,
       avg(CASE WHEN m.work_id IS NOT NULL THEN 1.0 ELSE 0.0 END) AS mesh_share,
       avg(CASE WHEN t.work_id IS NOT NULL THEN 1.0 ELSE 0.0 END) AS cgt_share
FROM works w
LEFT JOIN c ON w.work_id = c.work_id
LEFT JOIN m ON w.work_id = m.work_id
LEFT JOIN t ON w.work_id = t.work_id
WHERE w.publication_year BETWEEN {p['first_year']} AND {p['last_year']}
GROUP BY w.source, w.publication_year
ORDER BY w.source, year"""


def modality_growth(p):
    return f"""WITH y AS (
    SELECT year, count(DISTINCT work_id) AS n
    FROM work_modality
    WHERE year BETWEEN {p['first_year']} AND {p['last_year']}
    GROUP BY year)
SELECT m.modality, m.year, count(*) AS papers, CAST(count(*) AS DOUBLE) / y.n AS share
FROM work_modality m
JOIN y ON m.year = y.year
GROUP BY m.modality, m.year, y.n
ORDER BY m.modality, m.year"""


def period_start(p, col="year"):
    return f"{p['first_year']} + {p['period_years']} * (({col} - {p['first_year']}) // {p['period_years']})"


def modality_cagr(p):
    return f"""WITH c AS (
    SELECT modality, year, count(*) AS papers
    FROM work_modality
    WHERE year BETWEEN {p['first_year']} AND {p['last_year']}
    GROUP BY modality, year),
pp AS (
    SELECT modality, year, papers, {period_start(p)} AS start FROM c),
qq AS (
    SELECT modality, start, least(start + {p['period_years']} - 1, {p['last_year']}) AS stop,
           sum(papers) AS papers,
           coalesce(sum(CASE WHEN year = start THEN papers END), 0) AS papers_first_year,
           coalesce(sum(CASE WHEN year = least(start + {p['period_years']} - 1, {p['last_year']}) THEN papers END), 0)
               AS papers_last_year
    FROM pp GROUP BY modality, start)
SELECT modality, concat(start, '-', stop) AS period, papers, papers_first_year, papers_last_year,
       CASE WHEN papers_first_year > 0 AND stop > start
            THEN power(CAST(papers_last_year AS DOUBLE) / papers_first_year, 1.0 / (stop - start)) - 1
       END AS cagr
FROM qq
ORDER BY modality, start"""


def clinical_translation(p):
    period = ("CAST(pp.start AS VARCHAR)" if p["period_years"] == 1 else
              f"concat(pp.start, '-', least(pp.start + {p['period_years']} - 1, {p['last_year']}))")
    return f"""WITH pp AS (
    SELECT m.work_id, m.modality, m.stage, {period_start(p, 'm.year')} AS start
    FROM work_modality m
    WHERE m.year BETWEEN {p['first_year']} AND {p['last_year']})
SELECT pp.modality, pp.start AS period_start, {period} AS period,
       count(*) AS papers,
       sum(CASE WHEN pp.stage = 'clinical trial' THEN 1 ELSE 0 END) AS clinical_papers,
       avg(CASE WHEN pp.stage = 'clinical trial' THEN 1.0 ELSE 0.0 END) AS clinical_share,
       avg(h.human) AS human, avg(h.animal) AS animal, avg(h.molecular_cellular) AS molecular_cellular
FROM pp
LEFT JOIN work_ham h ON pp.work_id = h.work_id
GROUP BY pp.modality, pp.start
ORDER BY pp.modality, pp.start"""


def frac_col(p, alias="c"):
    return f"{alias}.country_weight" if p["fractional"] == "country" else f"{alias}.author_weight"


def country_output(p):
    return f"""WITH wm AS (
    SELECT DISTINCT work_id, {modality_col(p)} AS modality, {period_start(p)} AS start
    FROM work_modality
    WHERE {wm_filter(p)}),
c AS (
    SELECT wm.modality, wm.start, c.country,
           sum(c.full_weight) AS papers_full,
           sum({frac_col(p)}) AS papers_fractional
    FROM wm JOIN work_country c ON wm.work_id = c.work_id
    GROUP BY wm.modality, wm.start, c.country)
SELECT modality, concat(start, '-', least(start + {p['period_years']} - 1, {p['last_year']})) AS period,
       c.country, n.name AS country_name, papers_full, papers_fractional,
       papers_fractional / sum(papers_fractional) OVER (PARTITION BY modality, start) AS share
FROM c LEFT JOIN countries n ON upper(trim(c.country)) = n.code
ORDER BY modality, start, papers_fractional DESC, c.country"""


def country_impact(p):
    w = {"full": "c.full_weight", "country": "c.country_weight"}.get(p["counting"], "c.author_weight")
    return f"""WITH wm AS (
    SELECT DISTINCT work_id, {modality_col(p)} AS modality
    FROM work_modality
    WHERE {wm_filter(p)}),
x AS (
    SELECT wm.modality, c.country, {w} AS w, i.citations, i.ncs, i.top10
    FROM wm
    JOIN work_country c ON wm.work_id = c.work_id
    JOIN work_impact i ON wm.work_id = i.work_id)
SELECT modality, country, sum(w) AS papers,
       sum(w * citations) / sum(w) AS mcs,
       sum(w * ncs) / sum(w) AS mncs,
       sum(w * top10) / sum(w) AS pp_top10
FROM x
GROUP BY modality, country
HAVING sum(w) >= {p['min_papers']}
ORDER BY papers DESC, country"""


def country_trends(p):
    countries = [c for c in p["countries"].replace(" ", "").upper().split(",")]
    return f"""WITH wm AS (
    SELECT DISTINCT work_id, {modality_col(p)} AS modality, year
    FROM work_modality
    WHERE {wm_filter(p)}),
c AS (
    SELECT wm.modality, wm.year, c.country, sum({frac_col(p)}) AS papers
    FROM wm JOIN work_country c ON wm.work_id = c.work_id
    GROUP BY wm.modality, wm.year, c.country),
s AS (
    SELECT modality, year, country, papers,
           papers / sum(papers) OVER (PARTITION BY modality, year) AS share
    FROM c)
SELECT modality, year, country, papers, share
FROM s
WHERE list_contains({sql_list(countries)}, country)
ORDER BY modality, country, year"""


def country_overtake(p):
    w = frac_col(p)
    return f"""WITH wm AS (
    SELECT DISTINCT work_id, year
    FROM work_modality
    WHERE {wm_filter(p)}),
y AS (
    SELECT wm.year,
           coalesce(sum(CASE WHEN c.country = {q(p['challenger'].upper())} THEN {w} END), 0.0) AS a,
           coalesce(sum(CASE WHEN c.country = {q(p['leader'].upper())} THEN {w} END), 0.0) AS b
    FROM wm LEFT JOIN work_country c ON wm.work_id = c.work_id
    GROUP BY wm.year),
f AS (
    SELECT year, a, b, a > b AS ahead, max(year) OVER () AS last FROM y)
SELECT {q(p['modality'])} AS modality, {q(p['challenger'].upper())} AS challenger,
       {q(p['leader'].upper())} AS leader,
       min(CASE WHEN ahead THEN year END) AS first_year_ahead,
       CASE WHEN bool_or(ahead AND year = last)
            THEN coalesce(max(CASE WHEN NOT ahead THEN year END) + 1, min(year)) END AS ahead_since,
       max(CASE WHEN year = last THEN a END) AS challenger_last_year,
       max(CASE WHEN year = last THEN b END) AS leader_last_year
FROM f"""


def unit_sql(p):
    """(unit expression, join): country_region() is a join with the countries table."""
    if p["level"] == "region":
        return ("coalesce(n.region, 'Unknown region')",
                "\n    LEFT JOIN countries n ON upper(trim(c.country)) = n.code")
    return "c.country", ""


def international_collaboration(p):
    unit, join = unit_sql(p)
    return f"""WITH wm AS (
    SELECT DISTINCT work_id FROM work_modality
    WHERE {wm_filter(p)}),
u AS (
    SELECT DISTINCT c.work_id, {unit} AS unit
    FROM wm JOIN work_country c ON wm.work_id = c.work_id{join})
SELECT u.unit, count(*) AS papers,
       sum(CASE WHEN k.collaboration = 'international' THEN 1 ELSE 0 END) AS international_papers,
       avg(CASE WHEN k.collaboration = 'international' THEN 1.0 ELSE 0.0 END) AS international_share
FROM u JOIN work_collab k ON u.work_id = k.work_id
GROUP BY u.unit
HAVING count(*) >= {p['min_papers']}
ORDER BY papers DESC, u.unit"""


def collaboration_impact(p):
    return f"""WITH wm AS (
    SELECT DISTINCT work_id FROM work_modality
    WHERE {wm_filter(p)}),
pp AS (
    SELECT wm.work_id, k.collaboration, i.citations, i.ncs, i.top10
    FROM wm
    JOIN work_collab k ON wm.work_id = k.work_id
    JOIN work_impact i ON wm.work_id = i.work_id),
overall AS (
    SELECT 'all' AS unit, collaboration, count(*) AS papers, avg(citations) AS mcs,
           avg(ncs) AS mncs, avg(top10) AS pp_top10
    FROM pp GROUP BY collaboration),
per_country AS (
    SELECT c.country AS unit, pp.collaboration, count(*) AS papers, avg(pp.citations) AS mcs,
           avg(pp.ncs) AS mncs, avg(pp.top10) AS pp_top10
    FROM pp JOIN work_country c ON pp.work_id = c.work_id
    GROUP BY c.country, pp.collaboration),
big AS (
    SELECT unit FROM per_country GROUP BY unit
    HAVING count(*) = 2 AND min(papers) >= {p['min_papers']}),
r AS (
    SELECT * FROM overall
    UNION ALL
    SELECT pc.* FROM per_country pc JOIN big ON pc.unit = big.unit),
t AS (
    SELECT r.*, CASE WHEN unit = 'all' THEN 0 ELSE 1 END AS is_country,
           sum(papers) OVER (PARTITION BY unit) AS unit_papers
    FROM r)
SELECT unit, collaboration, papers, mcs, mncs, pp_top10
FROM t
ORDER BY is_country, unit_papers DESC, unit, collaboration"""


def collaboration_network(p):
    unit, join = unit_sql(p)
    weight = "1.0::DOUBLE / (k.k - 1)" if p["counting"] == "fractional" else "1.0::DOUBLE"
    return f"""WITH wm AS (
    SELECT DISTINCT work_id FROM work_modality
    WHERE {wm_filter(p)}),
u AS (
    SELECT DISTINCT c.work_id, {unit} AS unit
    FROM wm JOIN work_country c ON wm.work_id = c.work_id{join}),
k AS (SELECT work_id, count(*) AS k FROM u GROUP BY work_id),
n AS (SELECT unit, count(*) AS papers FROM u GROUP BY unit),
total AS (SELECT count(*) AS n FROM k),
l AS (
    SELECT x.unit AS a, y.unit AS b, sum({weight}) AS links
    FROM u x
    JOIN u y ON x.work_id = y.work_id AND x.unit < y.unit
    JOIN k ON x.work_id = k.work_id
    GROUP BY x.unit, y.unit)
SELECT l.a, l.b, l.links, na.papers AS papers_a, nb.papers AS papers_b,
       l.links / (CAST(na.papers AS DOUBLE) * nb.papers) AS association_strength,
       total.n * l.links / (CAST(na.papers AS DOUBLE) * nb.papers) AS relative_strength
FROM l
JOIN n na ON l.a = na.unit
JOIN n nb ON l.b = nb.unit
CROSS JOIN total
WHERE l.links >= {p['min_links']}
ORDER BY l.links DESC, l.a, l.b"""


def country_profile(p):
    cc = q(p["country"].upper())
    return f"""WITH mm AS (
    SELECT DISTINCT work_id, modality FROM work_modality
    WHERE year BETWEEN {p['first_year']} AND {p['last_year']}
    UNION ALL
    SELECT DISTINCT work_id, 'all' AS modality FROM work_modality
    WHERE year BETWEEN {p['first_year']} AND {p['last_year']}),
x AS (
    SELECT mm.modality, mm.work_id, c.country, {frac_col(p)} AS w, i.ncs, i.top10
    FROM mm
    JOIN work_country c ON mm.work_id = c.work_id
    LEFT JOIN work_impact i ON mm.work_id = i.work_id),
totals AS (
    SELECT modality, sum(w) AS p, sum(w * ncs) AS tncs, sum(w * top10) AS ptop
    FROM x GROUP BY modality),
mine AS (
    SELECT x.modality, sum(x.w) AS p, sum(x.w * x.ncs) AS tncs, sum(x.w * x.top10) AS ptop,
           sum(CASE WHEN x.ncs IS NOT NULL THEN x.w END) AS p_impact,
           avg(CASE WHEN k.collaboration = 'international' THEN 1.0 ELSE 0.0 END) AS intl
    FROM x JOIN work_collab k ON x.work_id = k.work_id
    WHERE x.country = {cc}
    GROUP BY x.modality),
partners AS (
    SELECT a.modality, b.country AS partner, count(*) AS papers
    FROM x a JOIN x b ON a.modality = b.modality AND a.work_id = b.work_id
    WHERE a.country = {cc} AND b.country <> {cc}
    GROUP BY a.modality, b.country),
ranked AS (
    SELECT modality, partner, papers,
           row_number() OVER (PARTITION BY modality ORDER BY papers DESC, partner) AS r
    FROM partners),
best AS (
    SELECT modality, string_agg(concat(partner, ' (', papers, ')'), ', ' ORDER BY r) AS top_partners
    FROM ranked WHERE r <= 3 GROUP BY modality)
SELECT mine.modality, {cc} AS country, mine.p AS papers,
       mine.p / totals.p AS volume_share,
       mine.tncs / totals.tncs AS impact_share,
       mine.ptop / totals.ptop AS top10_share,
       mine.tncs / mine.p_impact AS mncs,
       mine.intl AS international_share,
       best.top_partners
FROM mine
JOIN totals ON mine.modality = totals.modality
LEFT JOIN best ON mine.modality = best.modality
ORDER BY CASE WHEN mine.modality = 'all' THEN 0 ELSE 1 END, mine.modality"""


YEARS = {"first_year": 1989, "last_year": 2023}

# The [[report]] uses of queries/*.sql, in the suite's order (order, id): defaults + params.
REPORT_USES = [
    (1, "corpus_summary", corpus_summary, dict(YEARS)),
    (10, "modality_growth", modality_growth, dict(YEARS)),
    (11, "modality_cagr", modality_cagr, dict(YEARS, period_years=5)),
    (20, "clinical_translation", clinical_translation, dict(YEARS, period_years=5)),
    (30, "country_output", country_output,
     dict(YEARS, modality="all", fractional="author", period_years=35)),
    (31, "country_output-modality_msc", country_output,
     dict(YEARS, modality="MSC", fractional="author", period_years=35)),
    (32, "country_impact", country_impact,
     dict(YEARS, counting="author", modality="all", min_papers=50.0)),
    (33, "country_impact-min_papers_100-modality_msc", country_impact,
     dict(YEARS, counting="author", modality="MSC", min_papers=100.0)),
    (34, "country_trends", country_trends,
     dict(YEARS, modality="MSC", countries="US,CN,JP,DE,GB,KR", fractional="author")),
    (35, "country_trends-modality_hsct", country_trends,
     dict(YEARS, modality="HSCT", countries="US,CN,JP,DE,GB,KR", fractional="author")),
    (36, "country_overtake", country_overtake,
     dict(YEARS, challenger="CN", leader="US", modality="MSC", fractional="author")),
    (37, "country_overtake-modality_all", country_overtake,
     dict(YEARS, challenger="CN", leader="US", modality="all", fractional="author")),
    (40, "collaboration_impact", collaboration_impact, dict(YEARS, modality="all", min_papers=50)),
    (50, "international_collaboration", international_collaboration,
     dict(YEARS, level="country", modality="all", min_papers=100)),
    (51, "international_collaboration-level_region-min_papers_0", international_collaboration,
     dict(YEARS, level="region", modality="all", min_papers=0)),
    (52, "collaboration_network", collaboration_network,
     dict(YEARS, level="country", counting="full", modality="all", min_links=20.0)),
    (53, "collaboration_network-level_region-min_links_1", collaboration_network,
     dict(YEARS, level="region", counting="full", modality="all", min_links=1.0)),
    (60, "country_profile", country_profile, dict(YEARS, country="JP", fractional="author")),
    (61, "country_profile-country_cn", country_profile,
     dict(YEARS, country="CN", fractional="author")),
]


def build(root=ROOT):
    views = [
        ("work_modality", work_modality_sql(os.path.join(root, "udfs", "rules", "modalities.tsv"))),
        ("work_ham", WORK_HAM),
        ("work_country", WORK_COUNTRY),
        ("work_collab", WORK_COLLAB),
        ("work_impact", WORK_IMPACT),
    ]
    queries = [(rid, fn(p)) for _, rid, fn, p in REPORT_USES]
    return views, queries


def table_views(dataset):
    """Input tables as DuckDB views over the dataset's Parquet folders."""
    return [(t, f"SELECT * FROM read_parquet({q(os.path.join(dataset, t, '*.parquet'))})")
            for t in TABLES]


def reference_tables(root=ROOT):
    """(name, columns, rows) of the reference data the UDFs embed: countries and MeSH trees."""
    countries = []
    with open(os.path.join(root, "udfs", "data", "countries.csv"), encoding="utf-8") as f:
        lines = [l for l in f if l.strip() and not l.startswith("#")]
    for row in csv.DictReader(io.StringIO("".join(lines))):
        countries.append((row["code"].strip().upper(), row["name"], row["region"]))
    trees = []
    with open(os.path.join(root, "udfs", "data", "mesh_trees.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            if line.strip():
                ui, name, tn = line.rstrip("\n").split("\t")
                trees.append((ui, name, tn))
    return [("countries", ["code", "name", "region"], countries),
            ("mesh_trees", ["descriptor_ui", "name", "tree_numbers"], trees)]


def setup_sql(dataset, root=ROOT):
    """Statements that create the input views and the reference tables."""
    out = [f"CREATE OR REPLACE VIEW {t} AS {s}" for t, s in table_views(dataset)]
    for name, cols, rows in reference_tables(root):
        out.append(f"CREATE OR REPLACE TEMP TABLE {name} ({', '.join(c + ' VARCHAR' for c in cols)})")
        values = ",\n  ".join("(" + ", ".join(q(v) for v in r) + ")" for r in rows)
        out.append(f"INSERT INTO {name} VALUES\n  {values}")
    return out


def script(dataset="DATASET", root=ROOT):
    """The whole suite as one SQL script (for reading, or `duckdb < duckdb_suite.sql`)."""
    views, queries = build(root)
    parts = ["-- GENERATED by benches/study_suite/duckdb_suite.py from queries/ and udfs/data/;",
             "-- do not edit. The bibflow study suite in plain DuckDB SQL (no UDFs).",
             f"-- Replace {dataset} by the dataset folder.", ""]
    parts += [s + ";\n" for s in setup_sql(dataset, root)]
    parts += ["-- The shared views, materialised once (as bibflow report does).", ""]
    parts += [f"CREATE OR REPLACE TEMP TABLE {n} AS\n{s};\n" for n, s in views]
    parts += ["-- The report uses of the saved queries.", ""]
    parts += [f"-- {rid}\n{s};\n" for rid, s in queries]
    return "\n".join(parts)


if __name__ == "__main__":
    path = os.path.join(HERE, "duckdb_suite.sql")
    with open(path, "w", encoding="utf-8") as f:
        f.write(script())
    print(path)
