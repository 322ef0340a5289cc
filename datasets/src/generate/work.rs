//! One synthetic work, in full: what both the Parquet and the OpenAlex JSON writers need.

use chrono::NaiveDate;

use super::model::{Core, Model, STREAM_BODY, STREAM_CITED, STREAM_REFS};
use super::rng::{Cumulative, Rng};
use super::scenario::{Modality, Scenario, Term};

/// First synthetic work id (W-number): far above real OpenAlex ids in the fixtures.
pub const WORK_ID_BASE: i64 = 9_000_000_000;
/// First synthetic PMID.
pub const PMID_BASE: i64 = 90_000_000;
const AUTHOR_ID_BASE: i64 = 9_500_000_000;
const INSTITUTION_ID_BASE: i64 = 9_900_000_000;
const DEPARTMENTS: &[&str] = &[
    "Hematology",
    "Medicine",
    "Pediatrics",
    "Immunology",
    "Molecular Biology",
    "Oncology",
    "Regenerative Medicine",
];
const INSTITUTION_KINDS: &[&str] = &[
    "University",
    "University Hospital",
    "Cancer Center",
    "Institute of Medical Science",
    "Children's Hospital",
];
const INITIALS: &[u8] = b"ABCDEFGHIJKLMNOPRSTVWY";

/// One affiliation of an author.
#[derive(Debug, Clone)]
pub struct Affiliation<'a> {
    /// I-number; `None` when the string was not matched to an institution.
    pub institution_id: Option<i64>,
    pub institution_name: String,
    pub country: Option<&'a str>,
    pub country_index: Option<u8>,
    /// The department named first in `raw`.
    pub department: &'static str,
    /// The institution's city; `None` when the country is unknown.
    pub city: Option<&'a str>,
    pub raw: String,
}

/// One author position.
#[derive(Debug, Clone)]
pub struct Author<'a> {
    pub author_id: i64,
    /// `"{initial}. {surname}"`.
    pub name: String,
    pub initial: char,
    pub surname: &'a str,
    pub orcid: Option<String>,
    pub is_corresponding: bool,
    pub affiliations: Vec<Affiliation<'a>>,
}

impl Author<'_> {
    /// The author's distinct countries, in affiliation order.
    pub fn countries(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for a in &self.affiliations {
            if let Some(c) = a.country
                && !out.contains(&c)
            {
                out.push(c);
            }
        }
        out
    }
}

/// One MeSH descriptor with its qualifiers.
#[derive(Debug, Clone)]
pub struct MeshEntry<'a> {
    pub term: &'a Term,
    pub major: bool,
    pub qualifiers: Vec<&'a Term>,
}

/// A whole synthetic work.
#[derive(Debug, Clone)]
pub struct SynthWork<'a> {
    pub scenario: &'a Scenario,
    /// `updated_date` in microseconds since the epoch (the scenario's fixed stamp).
    pub updated_micros: i64,
    pub core: Core,
    pub work_id: i64,
    pub pmid: i64,
    pub doi: String,
    pub year: i32,
    pub date: NaiveDate,
    pub modality: &'a Modality,
    pub title: String,
    pub abstract_text: String,
    pub work_type: &'a str,
    pub clinical: bool,
    pub source: usize,
    pub is_oa: bool,
    pub oa_status: &'a str,
    pub pmcid: Option<i64>,
    pub authors: Vec<Author<'a>>,
    pub topics: Vec<(usize, f64)>,
    pub mesh: Vec<MeshEntry<'a>>,
    pub publication_types: Vec<(&'a str, Option<&'a str>)>,
    pub citations_by_year: Vec<(i32, i64)>,
    pub cited_by_count: i64,
    pub references: Vec<i64>,
    pub referenced_works_count: i64,
    pub is_retracted: bool,
}

impl SynthWork<'_> {
    /// Distinct country codes over all authors.
    pub fn countries(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.authors.iter().flat_map(|a| a.countries()).collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn pick<'s, T>(rng: &mut Rng, items: &'s [T]) -> &'s T {
    &items[rng.below(items.len() as u64) as usize]
}

/// Builds work `index` in full.
pub fn synthesize(model: &Model, index: u64) -> SynthWork<'_> {
    let s = &model.scenario;
    let core = model.core(index);
    let year = model.year(core.year_idx);
    let m = &s.modalities[core.modality];
    let mut rng = Rng::new(&[model.seed, index, STREAM_BODY]);

    let day = rng.below(365) as u32;
    let date = NaiveDate::from_yo_opt(year, day + 1)
        .unwrap_or_else(|| NaiveDate::from_yo_opt(year, 1).expect("January 1st exists"));

    // Type: review, other types, else article; only articles can be clinical.
    let mut work_type: &str = "article";
    if rng.chance(m.review_share) {
        work_type = "review";
    } else {
        for (t, share) in &s.work_types.other {
            if rng.chance(*share) {
                work_type = t;
                break;
            }
        }
    }
    let clinical = work_type == "article" && rng.chance(m.clinical_share.at(year).clamp(0.0, 1.0));

    let mut publication_types: Vec<(&str, Option<&str>)> = Vec::new();
    let pt = &s.publication_types;
    match work_type {
        "article" => {
            publication_types.push((&pt.journal_article.name, Some(&pt.journal_article.ui)))
        }
        "review" => {
            publication_types.push((&pt.journal_article.name, Some(&pt.journal_article.ui)));
            publication_types.push((&pt.review.name, Some(&pt.review.ui)));
        }
        "letter" => publication_types.push(("Letter", Some("D016422"))),
        "editorial" => publication_types.push(("Editorial", Some("D016421"))),
        _ => {}
    }
    if clinical {
        let open: Vec<&Term> = pt.clinical.iter().filter(|t| t.since <= year).collect();
        let table = Cumulative::new(open.iter().map(|t| t.share));
        let t = open[table.sample(&mut rng)];
        publication_types.push((&t.name, Some(&t.ui)));
    }

    // MeSH.
    let missing = rng.chance(m.mesh_missing_share);
    let mut mesh: Vec<MeshEntry<'_>> = Vec::new();
    for t in &m.mesh {
        if t.since > year || (missing && t.core) || !rng.chance(t.share) {
            continue;
        }
        let mut qualifiers = Vec::new();
        if t.major {
            for _ in 0..rng.below(3) {
                let q = pick(&mut rng, &s.mesh.qualifiers);
                if !qualifiers.iter().any(|x: &&Term| x.ui == q.ui) {
                    qualifiers.push(q);
                }
            }
        }
        mesh.push(MeshEntry {
            term: t,
            major: t.major,
            qualifiers,
        });
    }
    let humans = clinical || rng.chance(m.humans_share);
    let animals = !clinical && rng.chance(m.animals_share);
    if humans {
        mesh.push(plain(&s.mesh.humans));
    }
    if animals {
        mesh.push(plain(&s.mesh.animals));
        for t in &s.mesh.animal_species {
            if rng.chance(t.share) {
                mesh.push(plain(t));
            }
        }
    }
    if clinical {
        for t in &s.mesh.clinical_extra {
            if rng.chance(t.share) {
                mesh.push(plain(t));
            }
        }
    }

    // Text.
    let phrase = pick(&mut rng, &m.phrases).as_str();
    let context = pick(&mut rng, &m.contexts).as_str();
    // Strings are concatenated into exact-size buffers: `format!` was a fifth of the
    // generator's instructions.
    let capital = cap(phrase);
    let title = match (work_type, clinical) {
        ("review", _) => cat(&[&capital, ": current evidence and perspectives in ", context]),
        (_, true) => {
            let outcome = pick(
                &mut rng,
                &[
                    "Safety and efficacy",
                    "Long-term outcomes",
                    "Feasibility",
                    "Response and toxicity",
                ],
            );
            let design = pick(
                &mut rng,
                &[
                    "a phase I trial",
                    "a phase II study",
                    "a multicenter trial",
                    "a prospective cohort study",
                ],
            );
            cat(&[
                outcome,
                " of ",
                phrase,
                " in patients with ",
                context,
                ": ",
                design,
            ])
        }
        _ => {
            let lead = pick(
                &mut rng,
                &[
                    "Mechanisms of",
                    "Role of",
                    "A novel approach to",
                    "Optimizing",
                    "Characterization of",
                    "Advances in",
                ],
            );
            cat(&[lead, " ", phrase, " in ", context])
        }
    };
    let mut digits = Digits::default();
    let patients;
    let subjects = if clinical {
        patients = cat(&[digits.of(8 + rng.below(300)), " patients"]);
        patients.as_str()
    } else if animals {
        "a mouse model"
    } else {
        "primary human cells"
    };
    let mut abstract_text = cat(&[
        "Background: ",
        &capital,
        " has been studied in ",
        context,
        ". Methods: we examined ",
        phrase,
        " in ",
        subjects,
        ". Results: outcomes improved in ",
        digits.of(20 + rng.below(70)),
        "% of cases. Conclusions: ",
        phrase,
        " warrants further study.",
    ]);
    if rng.chance(m.mention_noise_share) && s.modalities.len() > 1 {
        let other = loop {
            let o = pick(&mut rng, &s.modalities);
            if o.key != m.key {
                break o;
            }
        };
        for part in [
            " Unlike ",
            pick(&mut rng, &other.phrases).as_str(),
            ", this work does not address that approach.",
        ] {
            abstract_text.push_str(part);
        }
    }

    // Topics: the primary from the modality's list, sometimes one or two more.
    let table = Cumulative::new(m.topics.iter().map(|t| t.1));
    let primary = topic_index(model, m.topics[table.sample(&mut rng)].0);
    let mut topics = vec![(primary, 0.95 + 0.05 * rng.f64())];
    for _ in 0..rng.below(3) {
        let t = rng.below(s.topics.len() as u64) as usize;
        if !topics.iter().any(|x| x.0 == t) {
            topics.push((t, 0.5 + 0.4 * rng.f64()));
        }
    }

    let table = Cumulative::new(m.sources.iter().map(|t| t.1));
    let source_id = m.sources[table.sample(&mut rng)].0;
    let source = s
        .sources
        .iter()
        .position(|x| x.id == source_id)
        .unwrap_or(0);

    let is_oa = rng.chance(s.open_access.share.at(year));
    let oa_status: &str = if is_oa {
        let keys: Vec<&String> = s.open_access.statuses.keys().collect();
        let table = Cumulative::new(s.open_access.statuses.values().copied());
        keys.get(table.sample(&mut rng))
            .map_or("gold", |k| k.as_str())
    } else {
        "closed"
    };
    let pmcid = (is_oa && rng.chance(0.6)).then_some(9_000_000 + index as i64);
    let is_retracted = rng.chance(0.0005);

    let authors = authors(model, &core, year, &mut rng);
    if is_retracted {
        // NLM marks retracted articles with this publication type.
        publication_types.push(("Retracted Publication", Some("D016441")));
    }
    // Extra publication types (drawn last, so the draws above do not depend on them).
    if work_type == "article" || work_type == "review" {
        for t in &pt.extra {
            if t.since <= year && rng.chance(t.share) {
                publication_types.push((&t.name, Some(&t.ui)));
            }
        }
    }

    // Citations received, per year: Poisson with the rate the citing side realises on average.
    let a = core.g * model.lognormal_factor(&core);
    let mut crng = Rng::new(&[model.seed, index, STREAM_CITED]);
    let mut citations_by_year = Vec::new();
    for citing in core.year_idx + 1..model.years {
        let k = crng.poisson(model.expected_citations(a, core.year_idx, citing));
        if k > 0 {
            citations_by_year.push((model.year(citing), k as i64));
        }
    }
    let cited_by_count = citations_by_year.iter().map(|c| c.1).sum();

    // References made: earlier corpus works, sampled by attractiveness; distinct.
    let mut rrng = Rng::new(&[model.seed, index, STREAM_REFS]);
    let r = rrng.poisson(model.refs_mean[core.year_idx]).min(300);
    let mut references: Vec<i64> = Vec::with_capacity(r as usize);
    for _ in 0..r {
        for _try in 0..8 {
            let Some(j) = model.sample_cited(core.year_idx, &mut rrng) else {
                break;
            };
            let id = WORK_ID_BASE + j as i64;
            if !references.contains(&id) {
                references.push(id);
                break;
            }
        }
    }
    references.sort_unstable();
    let external = rrng.poisson(s.citations.external_references.at(year)) as i64;

    SynthWork {
        scenario: s,
        updated_micros: model.updated_micros,
        core,
        work_id: WORK_ID_BASE + index as i64,
        pmid: PMID_BASE + index as i64,
        doi: cat(&["10.5555/bibflow-synthetic.", Digits::default().of(index)]),
        year,
        date,
        modality: m,
        title,
        abstract_text,
        work_type,
        clinical,
        source,
        is_oa,
        oa_status,
        pmcid,
        authors,
        topics,
        mesh,
        publication_types,
        citations_by_year,
        cited_by_count,
        referenced_works_count: references.len() as i64 + external,
        references,
        is_retracted,
    }
}

fn plain(t: &Term) -> MeshEntry<'_> {
    MeshEntry {
        term: t,
        major: t.major,
        qualifiers: Vec::new(),
    }
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) if !s.starts_with(|x: char| x.is_ascii_uppercase()) => {
            f.to_uppercase().collect::<String>() + c.as_str()
        }
        _ => s.to_string(),
    }
}

fn topic_index(model: &Model, id: i64) -> usize {
    model
        .scenario
        .topics
        .iter()
        .position(|t| t.id == id)
        .unwrap_or(0)
}

/// The authors: the lead country first, each partner country covered by at least one author.
fn authors<'m>(model: &'m Model, core: &Core, year: i32, rng: &mut Rng) -> Vec<Author<'m>> {
    let s = &model.scenario;
    let t = &s.team;
    let countries = core.countries();
    let k = countries.len();
    let mean = t.authors.at(year).max(1.0);
    let n = ((1 + rng.poisson(mean - 1.0)) as usize)
        .min(t.max_authors as usize)
        .max(k.max(1));
    // Home country per position; `required` marks positions that carry a country of the paper.
    let mut home: Vec<Option<u8>> = vec![None; n];
    let mut required = vec![false; n];
    if k > 0 {
        home[0] = Some(countries[0]);
        required[0] = true;
        let mut free: Vec<usize> = (1..n).collect();
        for &c in &countries[1..] {
            let at = free.remove(rng.below(free.len() as u64) as usize);
            home[at] = Some(c);
            required[at] = true;
        }
        for (i, h) in home.iter_mut().enumerate() {
            if !required[i] {
                *h = Some(if rng.chance(0.75) {
                    countries[0]
                } else {
                    countries[rng.below(k as u64) as usize]
                });
            }
        }
    }
    let orcid_share = t.orcid_share.at(year);
    let mut out = Vec::with_capacity(n);
    for pos in 0..n {
        let mut affiliations = Vec::new();
        let no_affiliation = !required[pos] && rng.chance(t.no_affiliation_share);
        let country = home[pos];
        if !no_affiliation {
            affiliations.push(affiliation(model, country, rng));
            if rng.chance(t.multi_affiliation_share) {
                let second = if k > 1 && rng.chance(t.second_affiliation_abroad_share) {
                    let others: Vec<u8> = countries
                        .iter()
                        .copied()
                        .filter(|&c| Some(c) != country)
                        .collect();
                    Some(others[rng.below(others.len() as u64) as usize])
                } else {
                    country
                };
                let a = affiliation(model, second, rng);
                if a.institution_id != affiliations[0].institution_id || a.institution_id.is_none()
                {
                    affiliations.push(a);
                }
            }
        }
        let pool = u64::from(t.authors_per_country);
        let skew = rng.f64();
        let local = (skew * skew * pool as f64) as i64;
        let ci = country.map_or(s.countries.len() as i64, i64::from);
        let author_id = AUTHOR_ID_BASE + ci * 10_000_000 + local;
        let h = super::rng::mix(&[author_id as u64]);
        let surnames = &s.countries[country.unwrap_or(0) as usize].surnames;
        let initial = INITIALS[(h % INITIALS.len() as u64) as usize] as char;
        let surname = surnames[((h >> 16) % surnames.len() as u64) as usize].as_str();
        let mut name = String::with_capacity(3 + surname.len());
        name.push(initial);
        name.push_str(". ");
        name.push_str(surname);
        let orcid = ((h >> 40) as f64 / (1u64 << 24) as f64 <= orcid_share).then(|| orcid_of(h));
        out.push(Author {
            author_id,
            name,
            initial,
            surname,
            orcid,
            is_corresponding: pos + 1 == n,
            affiliations,
        });
    }
    out
}

fn affiliation<'m>(model: &'m Model, country: Option<u8>, rng: &mut Rng) -> Affiliation<'m> {
    let s = &model.scenario;
    let dept = *pick(rng, DEPARTMENTS);
    let Some(c) = country else {
        return Affiliation {
            institution_id: None,
            institution_name: String::new(),
            country: None,
            country_index: None,
            department: dept,
            city: None,
            raw: cat(&["Department of ", dept]),
        };
    };
    let def = &s.countries[c as usize];
    let u = rng.f64();
    let local = (u * u * f64::from(s.team.institutions_per_country)) as usize;
    let city = &def.cities[local % def.cities.len()];
    let kind = INSTITUTION_KINDS[(local / def.cities.len()) % INSTITUTION_KINDS.len()];
    let series = local / (def.cities.len() * INSTITUTION_KINDS.len());
    let name = if series == 0 {
        cat(&[city, " ", kind])
    } else {
        cat(&[
            city,
            " ",
            kind,
            " ",
            Digits::default().of(series as u64 + 1),
        ])
    };
    Affiliation {
        institution_id: Some(INSTITUTION_ID_BASE + i64::from(c) * 100_000 + local as i64),
        raw: cat(&[
            "Department of ",
            dept,
            ", ",
            &name,
            ", ",
            city,
            ", ",
            &def.name,
        ]),
        institution_name: name,
        country: Some(def.code.as_str()),
        country_index: Some(c),
        department: dept,
        city: Some(city.as_str()),
    }
}

/// A well-formed ORCID iD (ISO 7064 11-2 check digit) from a hash.
fn orcid_of(h: u64) -> String {
    let mut base = [b'0'; 15];
    let mut v = h % 100_000_000_000;
    for b in base[4..].iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let mut total = 0;
    for &b in &base {
        total = (total + u32::from(b - b'0')) * 2;
    }
    let check = (12 - total % 11) % 11;
    let check = if check == 10 {
        'X'
    } else {
        char::from_digit(check, 10).expect("a digit")
    };
    let mut out = String::with_capacity(19);
    for (i, &b) in base.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(b));
    }
    out.push(check);
    out
}

/// The concatenation of `parts`, allocated once.
fn cat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

/// Decimal digits of a number, without `format!`.
#[derive(Default)]
struct Digits([u8; 20]);

impl Digits {
    fn of(&mut self, mut n: u64) -> &str {
        let mut i = self.0.len();
        loop {
            i -= 1;
            self.0[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        std::str::from_utf8(&self.0[i..]).expect("ASCII digits")
    }
}
