//! The scenario: every number and word list the generator uses, read from TOML.
//!
//! The default, [`Scenario::cgt`], is `datasets/scenarios/cgt.toml`, calibrated to the public
//! headline findings of the cell and gene therapy study. Every key is documented in
//! `docs/scenario.md`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{DatasetError, Result};

/// The built-in cell and gene therapy scenario.
pub const CGT_TOML: &str = include_str!("../../scenarios/cgt.toml");

/// A value that changes over the years: `[[year, value], ...]`, linearly interpolated between
/// keyframes and held constant before the first and after the last.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct Curve(pub Vec<[f64; 2]>);

impl Curve {
    /// The value in `year`.
    pub fn at(&self, year: i32) -> f64 {
        let y = f64::from(year);
        let k = &self.0;
        let Some(first) = k.first() else { return 0.0 };
        if y <= first[0] {
            return first[1];
        }
        for w in k.windows(2) {
            let ([y0, v0], [y1, v1]) = (w[0], w[1]);
            if y <= y1 {
                return if y1 > y0 {
                    v0 + (v1 - v0) * (y - y0) / (y1 - y0)
                } else {
                    v1
                };
            }
        }
        k[k.len() - 1][1]
    }

    fn check(&self, what: &str) -> std::result::Result<(), String> {
        if self.0.is_empty() {
            return Err(format!("{what}: needs at least one [year, value] keyframe"));
        }
        if self.0.windows(2).any(|w| w[1][0] < w[0][0]) {
            return Err(format!("{what}: keyframe years must not decrease"));
        }
        Ok(())
    }
}

/// The whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub corpus: Corpus,
    pub citations: Citations,
    pub team: Team,
    pub open_access: OpenAccess,
    pub work_types: WorkTypes,
    pub publication_types: PublicationTypes,
    pub mesh: GeneralMesh,
    #[serde(rename = "country")]
    pub countries: Vec<Country>,
    #[serde(rename = "affinity", default)]
    pub affinities: Vec<Affinity>,
    #[serde(rename = "topic")]
    pub topics: Vec<TopicDef>,
    #[serde(rename = "source")]
    pub sources: Vec<SourceDef>,
    #[serde(rename = "modality")]
    pub modalities: Vec<Modality>,
}

/// `[corpus]`: the publication window and fixed stamps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corpus {
    /// A short name for the scenario, written into manifests.
    pub name: String,
    pub first_year: i32,
    pub last_year: i32,
    /// `YYYY-MM-DD`: every work's `updated_date` and the snapshot partition.
    pub updated_date: String,
}

/// `[citations]`: the citation model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citations {
    /// Spread (sigma of the underlying normal) of the log-normal attractiveness.
    pub sigma: f64,
    /// Mean references per work to earlier works of the corpus, by citing year.
    pub references_per_work: Curve,
    /// Mean further references to works outside the corpus (only in `referenced_works_count`).
    pub external_references: Curve,
    /// Age kernel k(a) = a^age_shape * exp(-a / age_scale), a >= 1 years.
    pub age_shape: f64,
    pub age_scale: f64,
    /// Attractiveness multiplier of internationally co-authored works.
    pub international_multiplier: f64,
}

/// `[team]`: authors, affiliations, countries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub authors: Curve,
    pub max_authors: u32,
    pub unknown_countries_share: f64,
    pub extra_partner_probability: f64,
    pub max_countries: u32,
    pub multi_affiliation_share: f64,
    pub second_affiliation_abroad_share: f64,
    pub no_affiliation_share: f64,
    pub orcid_share: Curve,
    pub institutions_per_country: u32,
    pub authors_per_country: u32,
}

/// `[open_access]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAccess {
    pub share: Curve,
    /// Relative weights of the open statuses (`gold`, `green`, ...).
    pub statuses: BTreeMap<String, f64>,
}

/// `[work_types]`: OpenAlex types other than article and review, with their shares.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkTypes {
    pub other: BTreeMap<String, f64>,
}

/// A named MeSH entry (descriptor, publication type or qualifier).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    pub ui: String,
    pub name: String,
    /// Probability (where a share applies) or relative weight (where a weight applies).
    #[serde(default = "one")]
    pub share: f64,
    /// First year the term exists in MeSH (older papers do not get it).
    #[serde(default)]
    pub since: i32,
    /// Descriptor: indexed as a major topic.
    #[serde(default)]
    pub major: bool,
    /// Descriptor: one of the modality's defining terms (dropped for papers "indexed without").
    #[serde(default)]
    pub core: bool,
}

fn one() -> f64 {
    1.0
}

/// `[publication_types]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicationTypes {
    pub journal_article: Term,
    pub review: Term,
    /// Clinical types: one is drawn (by `share` as weight) for each clinical paper.
    pub clinical: Vec<Term>,
    /// Further types, each added independently with probability `share`.
    pub extra: Vec<Term>,
}

/// `[mesh]`: descriptors shared by all modalities.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneralMesh {
    pub humans: Term,
    pub animals: Term,
    /// Added to animal papers with probability `share`.
    pub animal_species: Vec<Term>,
    /// Added to clinical papers, each with probability `share`.
    pub clinical_extra: Vec<Term>,
    /// Qualifiers attached to major descriptors.
    pub qualifiers: Vec<Term>,
}

/// `[[country]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Country {
    pub code: String,
    pub name: String,
    pub region: String,
    /// Relative weight as the lead country of a paper, by year (modalities may override it).
    pub weight: Curve,
    /// Probability that a paper led from here has foreign co-authors, by year.
    pub international: Curve,
    /// Citation attractiveness multiplier of the country's papers.
    pub impact: f64,
    pub cities: Vec<String>,
    pub surnames: Vec<String>,
}

/// `[[affinity]]`: how much more likely partners from `regions[1]` join papers led from
/// `regions[0]` (and vice versa) than the partner's weight alone says. Default 1.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Affinity {
    pub regions: [String; 2],
    pub weight: f64,
}

/// `[[topic]]`: an OpenAlex-style topic with its subfield, field and domain.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicDef {
    pub id: i64,
    pub name: String,
    pub subfield: (i32, String),
    pub field: (i32, String),
    pub domain: (i32, String),
}

/// `[[source]]`: a journal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDef {
    pub id: i64,
    pub name: String,
    pub issn_l: Option<String>,
}

/// Logistic growth: `level * (floor + (1 - floor) / (1 + exp(-rate * (year - midpoint))))`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Growth {
    pub level: f64,
    pub midpoint: f64,
    pub rate: f64,
    pub floor: f64,
}

impl Growth {
    /// Relative papers in `year`.
    pub fn at(&self, year: i32) -> f64 {
        let s = 1.0 / (1.0 + (-self.rate * (f64::from(year) - self.midpoint)).exp());
        self.level * (self.floor + (1.0 - self.floor) * s)
    }
}

/// `[[modality]]`: one class of papers (a CGT modality, or background).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modality {
    pub key: String,
    pub label: String,
    pub growth: Growth,
    pub impact: f64,
    pub clinical_share: Curve,
    pub review_share: f64,
    pub humans_share: f64,
    pub animals_share: f64,
    pub mesh_missing_share: f64,
    pub mention_noise_share: f64,
    pub phrases: Vec<String>,
    pub contexts: Vec<String>,
    pub topics: Vec<(i64, f64)>,
    pub sources: Vec<(i64, f64)>,
    #[serde(default)]
    pub countries: BTreeMap<String, Curve>,
    pub mesh: Vec<Term>,
}

impl Scenario {
    /// The built-in cell and gene therapy scenario (`datasets/scenarios/cgt.toml`).
    pub fn cgt() -> Self {
        Self::from_toml(CGT_TOML, Path::new("<built-in cgt.toml>"))
            .expect("the built-in scenario is valid")
    }

    /// Reads a scenario file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| DatasetError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Self::from_toml(&text, path)
    }

    /// Parses and checks scenario text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self> {
        let bad = |reason: String| DatasetError::BadInput {
            path: origin.to_path_buf(),
            reason,
        };
        let s: Scenario =
            toml::from_str(text).map_err(|e| bad(format!("not a valid scenario: {e}")))?;
        s.check().map_err(bad)?;
        Ok(s)
    }

    /// Index of a country code.
    pub fn country_index(&self, code: &str) -> Option<usize> {
        self.countries.iter().position(|c| c.code == code)
    }

    /// Index of a modality key.
    pub fn modality_index(&self, key: &str) -> Option<usize> {
        self.modalities.iter().position(|m| m.key == key)
    }

    fn check(&self) -> std::result::Result<(), String> {
        let c = &self.corpus;
        if c.first_year > c.last_year || c.first_year < 1800 || c.last_year > 2200 {
            return Err("[corpus]: need 1800 <= first_year <= last_year <= 2200".into());
        }
        if chrono::NaiveDate::parse_from_str(&c.updated_date, "%Y-%m-%d").is_err() {
            return Err("[corpus] updated_date: expected YYYY-MM-DD".into());
        }
        let ci = &self.citations;
        ci.references_per_work
            .check("citations.references_per_work")?;
        ci.external_references
            .check("citations.external_references")?;
        if ci.sigma < 0.0 || ci.age_scale <= 0.0 || ci.international_multiplier <= 0.0 {
            return Err(
                "[citations]: sigma >= 0, age_scale > 0, international_multiplier > 0".into(),
            );
        }
        self.team.authors.check("team.authors")?;
        self.team.orcid_share.check("team.orcid_share")?;
        self.open_access.share.check("open_access.share")?;
        if self.team.max_authors == 0 || self.team.max_countries == 0 {
            return Err("[team]: max_authors and max_countries must be at least 1".into());
        }
        if self.team.institutions_per_country == 0 || self.team.authors_per_country == 0 {
            return Err("[team]: institutions_per_country and authors_per_country >= 1".into());
        }
        if self.countries.is_empty() || self.countries.len() > 250 {
            return Err("need 1 to 250 [[country]] entries".into());
        }
        for k in &self.countries {
            k.weight.check(&format!("country {} weight", k.code))?;
            k.international
                .check(&format!("country {} international", k.code))?;
            if k.cities.is_empty() || k.surnames.is_empty() {
                return Err(format!(
                    "country {}: cities and surnames must not be empty",
                    k.code
                ));
            }
        }
        if self.modalities.is_empty() || self.modalities.len() > 64 {
            return Err("need 1 to 64 [[modality]] entries".into());
        }
        if self.topics.is_empty() || self.sources.is_empty() {
            return Err("need at least one [[topic]] and one [[source]]".into());
        }
        if self.publication_types.clinical.is_empty() {
            return Err("[publication_types] clinical must not be empty".into());
        }
        for m in &self.modalities {
            let what = format!("modality {}", m.key);
            m.clinical_share.check(&what)?;
            if m.phrases.is_empty() || m.contexts.is_empty() {
                return Err(format!("{what}: phrases and contexts must not be empty"));
            }
            if m.topics.is_empty() || m.sources.is_empty() {
                return Err(format!("{what}: topics and sources must not be empty"));
            }
            for (t, _) in &m.topics {
                if !self.topics.iter().any(|x| x.id == *t) {
                    return Err(format!("{what}: unknown topic {t}"));
                }
            }
            for (s, _) in &m.sources {
                if !self.sources.iter().any(|x| x.id == *s) {
                    return Err(format!("{what}: unknown source {s}"));
                }
            }
            for (code, curve) in &m.countries {
                if self.country_index(code).is_none() {
                    return Err(format!("{what}: unknown country {code}"));
                }
                curve.check(&format!("{what} country {code}"))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_scenario_parses() {
        let s = Scenario::cgt();
        assert!(s.modality_index("msc").is_some());
        assert!(s.country_index("JP").is_some());
    }

    #[test]
    fn curves_interpolate_and_hold() {
        let c = Curve(vec![[2000.0, 1.0], [2010.0, 3.0]]);
        assert_eq!(c.at(1990), 1.0);
        assert_eq!(c.at(2005), 2.0);
        assert_eq!(c.at(2030), 3.0);
    }

    #[test]
    fn errors_name_the_problem() {
        let text = CGT_TOML.replace("first_year = 1989", "first_year = 2100");
        let e = Scenario::from_toml(&text, Path::new("x.toml")).unwrap_err();
        assert!(e.to_string().contains("first_year"), "{e}");
    }
}
