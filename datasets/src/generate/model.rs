//! The scenario turned into lookup tables, and the "core" of every work: the few attributes
//! (year, modality, countries, attractiveness) that other works need to cite it.
//!
//! A work's core is drawn from its own stream, seeded by (seed, work index) alone, so any thread
//! can recompute the core of any work in a few hundred nanoseconds. That is what lets the
//! citation graph stream: a citing work samples earlier works without any global index.

use super::rng::{Cumulative, Permutation, Rng, mix, norm_cdf, norm_inv};
use super::scenario::Scenario;
use super::{BLOCK_WORKS, run_blocks};
use crate::error::Result;

/// Largest number of countries on one work.
pub const MAX_COUNTRIES: usize = 8;

/// Stream numbers: independent draws of one work.
pub(crate) const STREAM_CORE: u64 = 0;
pub(crate) const STREAM_BODY: u64 = 1;
pub(crate) const STREAM_CITED: u64 = 2;
pub(crate) const STREAM_REFS: u64 = 3;

/// What other works need to know about a work.
#[derive(Debug, Clone, Copy)]
pub struct Core {
    pub index: u64,
    /// Year offset from the scenario's first year.
    pub year_idx: usize,
    pub modality: usize,
    /// Distinct country indices; the lead country first. Empty when no country is known.
    pub countries: [u8; MAX_COUNTRIES],
    pub n_countries: usize,
    /// Citation attractiveness factors other than the log-normal draw.
    pub g: f64,
}

impl Core {
    /// The work's distinct countries (lead first).
    pub fn countries(&self) -> &[u8] {
        &self.countries[..self.n_countries]
    }

    /// Two or more distinct countries.
    pub fn is_international(&self) -> bool {
        self.n_countries > 1
    }
}

/// Precomputed tables for one (scenario, seed, corpus size).
#[derive(Debug)]
pub struct Model {
    pub scenario: Scenario,
    pub seed: u64,
    pub works: u64,
    pub first_year: i32,
    pub years: usize,
    /// First work index of each year; `year_start[years] == works`.
    pub year_start: Vec<u64>,
    modality_by_year: Vec<Cumulative>,
    lead_by_modality_year: Vec<Cumulative>,
    intl_by_country_year: Vec<f64>,
    partner_by_country_year: Vec<Cumulative>,
    g_max: f64,
    /// A lower bound of every work's `g / g_max`: a candidate drawn below it is accepted without
    /// computing its core (the same decision, since `g >= g_min`).
    accept_floor: f64,
    /// Per modality: bounds of `g / g_max` over its works, so that most candidates are accepted
    /// or rejected after their first draw or two (see [`Model::accepts`]).
    accept_bounds: Vec<(f64, f64)>,
    perms: Vec<Permutation>,
    /// Sum of the attractiveness of the works of each year (exact, from a pre-pass).
    pub attract_sum: Vec<f64>,
    /// Expected citations per unit attractiveness: `rate[cited_year * years + citing_year]`.
    rate: Vec<f64>,
    ref_year: Vec<Cumulative>,
    /// Mean corpus references of a work, by year (0 where nothing earlier exists).
    pub refs_mean: Vec<f64>,
    /// The scenario's `updated_date` in microseconds since the epoch.
    pub updated_micros: i64,
}

impl Model {
    /// Builds every table; runs the attractiveness pre-pass on `threads` threads.
    pub fn new(scenario: &Scenario, seed: u64, works: u64, threads: usize) -> Result<Self> {
        let s = scenario.clone();
        let first_year = s.corpus.first_year;
        let years = (s.corpus.last_year - first_year + 1) as usize;
        let year_of = |y: usize| first_year + y as i32;

        // Works per year: largest-remainder allocation of `works` over the summed growth curves.
        let weights: Vec<f64> = (0..years)
            .map(|y| s.modalities.iter().map(|m| m.growth.at(year_of(y))).sum())
            .collect();
        let total: f64 = weights.iter().sum();
        let exact: Vec<f64> = weights.iter().map(|w| w / total * works as f64).collect();
        let mut counts: Vec<u64> = exact.iter().map(|e| e.floor() as u64).collect();
        let mut left = works - counts.iter().sum::<u64>();
        let mut order: Vec<usize> = (0..years).collect();
        order.sort_by(|&a, &b| {
            let (fa, fb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
            fb.total_cmp(&fa).then(a.cmp(&b))
        });
        for &y in order.iter().cycle() {
            if left == 0 {
                break;
            }
            counts[y] += 1;
            left -= 1;
        }
        let mut year_start = vec![0u64; years + 1];
        for y in 0..years {
            year_start[y + 1] = year_start[y] + counts[y];
        }

        let modality_by_year = (0..years)
            .map(|y| Cumulative::new(s.modalities.iter().map(|m| m.growth.at(year_of(y)))))
            .collect();
        let nc = s.countries.len();
        let mut lead_by_modality_year = Vec::with_capacity(s.modalities.len() * years);
        for m in &s.modalities {
            for y in 0..years {
                lead_by_modality_year.push(Cumulative::new(
                    s.countries
                        .iter()
                        .map(|c| m.countries.get(&c.code).unwrap_or(&c.weight).at(year_of(y))),
                ));
            }
        }
        let mut intl_by_country_year = Vec::with_capacity(nc * years);
        let mut partner_by_country_year = Vec::with_capacity(nc * years);
        for lead in &s.countries {
            for y in 0..years {
                intl_by_country_year.push(lead.international.at(year_of(y)).clamp(0.0, 1.0));
                partner_by_country_year.push(Cumulative::new(s.countries.iter().map(|c| {
                    if c.code == lead.code {
                        0.0
                    } else {
                        c.weight.at(year_of(y)) * affinity(&s, &lead.region, &c.region)
                    }
                })));
            }
        }
        let max_modality = s.modalities.iter().map(|m| m.impact).fold(0.0, f64::max);
        let max_country = s.countries.iter().map(|c| c.impact).fold(0.0, f64::max);
        let g_max = max_modality * s.citations.international_multiplier.max(1.0) * max_country;
        let min_modality = s
            .modalities
            .iter()
            .map(|m| m.impact)
            .fold(f64::MAX, f64::min);
        let min_country = s.countries.iter().map(|c| c.impact).fold(1.0, f64::min);
        // Slightly below the exact bound: a mean of impacts may round an ulp under the smallest.
        let g_min = min_modality
            * min_country
            * s.citations.international_multiplier.min(1.0)
            * (1.0 - 1e-9);
        let accept_floor = if g_max > 0.0 {
            (g_min / g_max).max(0.0)
        } else {
            0.0
        };
        // Bounds of g / g_max per modality, a little wide on both sides: a mean of impacts may
        // round an ulp beyond the extreme impact.
        let accept_bounds = s
            .modalities
            .iter()
            .map(|m| {
                if !(g_max > 0.0 && m.impact >= 0.0 && min_country >= 0.0) {
                    // No bounds: every candidate takes the exact path.
                    return (0.0, f64::INFINITY);
                }
                let intl = s.citations.international_multiplier;
                let lo = (m.impact * min_country.min(1.0) * intl.min(1.0) / g_max) * (1.0 - 1e-9);
                let hi = (m.impact * max_country.max(1.0) * intl.max(1.0) / g_max) * (1.0 + 1e-9);
                (lo.max(0.0), hi)
            })
            .collect();
        let perms = (0..years)
            .map(|y| Permutation::new(counts[y], mix(&[seed, 0x7065_726d, y as u64])))
            .collect();

        let updated_micros = chrono::NaiveDate::parse_from_str(&s.corpus.updated_date, "%Y-%m-%d")
            .map(|d| {
                d.and_hms_opt(0, 0, 0)
                    .expect("midnight")
                    .and_utc()
                    .timestamp_micros()
            })
            .unwrap_or(0);
        let mut model = Model {
            scenario: s,
            seed,
            works,
            first_year,
            years,
            year_start,
            modality_by_year,
            lead_by_modality_year,
            intl_by_country_year,
            partner_by_country_year,
            g_max,
            accept_floor,
            accept_bounds,
            perms,
            attract_sum: vec![0.0; years],
            rate: vec![0.0; years * years],
            ref_year: Vec::new(),
            refs_mean: vec![0.0; years],
            updated_micros,
        };
        model.citation_tables(threads)?;
        Ok(model)
    }

    /// The pre-pass: exact attractiveness sums per year (summed per block, then in block order,
    /// so the floating-point result does not depend on the thread count), then the rates.
    fn citation_tables(&mut self, threads: usize) -> Result<()> {
        let blocks = self.works.div_ceil(BLOCK_WORKS);
        let years = self.years;
        let partial = run_blocks(blocks, threads, |b| {
            let mut sums = vec![0.0; years];
            let end = ((b + 1) * BLOCK_WORKS).min(self.works);
            for i in b * BLOCK_WORKS..end {
                let c = self.core(i);
                sums[c.year_idx] += c.g * self.lognormal_factor(&c);
            }
            Ok(sums)
        })?;
        for p in partial {
            for (a, v) in self.attract_sum.iter_mut().zip(p) {
                *a += v;
            }
        }
        let ci = &self.scenario.citations;
        let kernel = |age: usize| {
            let a = age as f64;
            a.powf(ci.age_shape) * (-a / ci.age_scale).exp()
        };
        for citing in 0..years {
            let weights: Vec<f64> = (0..years)
                .map(|y| {
                    if y < citing {
                        self.attract_sum[y] * kernel(citing - y)
                    } else {
                        0.0
                    }
                })
                .collect();
            let table = Cumulative::new(weights.iter().copied());
            let d = table.total();
            let n_citing = (self.year_start[citing + 1] - self.year_start[citing]) as f64;
            if d > 0.0 {
                let rho = ci.references_per_work.at(self.first_year + citing as i32);
                self.refs_mean[citing] = rho;
                for y in 0..citing {
                    self.rate[y * years + citing] = n_citing * rho * kernel(citing - y) / d;
                }
            }
            self.ref_year.push(table);
        }
        Ok(())
    }

    /// The year of work `index`.
    pub fn year_idx_of(&self, index: u64) -> usize {
        self.year_start.partition_point(|&s| s <= index) - 1
    }

    /// Works in a year.
    pub fn works_in(&self, year_idx: usize) -> u64 {
        self.year_start[year_idx + 1] - self.year_start[year_idx]
    }

    /// The core of work `index`: drawn from its own stream only.
    pub fn core(&self, index: u64) -> Core {
        self.core_in(index, self.year_idx_of(index))
    }

    /// [`Model::core`] of a work whose year is known.
    fn core_in(&self, index: u64, year_idx: usize) -> Core {
        let s = &self.scenario;
        let mut rng = Rng::new(&[self.seed, index, STREAM_CORE]);
        let modality = self.modality_by_year[year_idx].sample(&mut rng);
        let mut countries = [0u8; MAX_COUNTRIES];
        let mut n = 0;
        if !rng.chance(s.team.unknown_countries_share) {
            let lead =
                self.lead_by_modality_year[modality * self.years + year_idx].sample(&mut rng);
            countries[0] = lead as u8;
            n = 1;
            let at = lead * self.years + year_idx;
            if rng.chance(self.intl_by_country_year[at]) {
                let cap = (s.team.max_countries as usize).clamp(2, MAX_COUNTRIES);
                let k = 1 + rng.geometric(s.team.extra_partner_probability, cap as u64 - 2);
                for _ in 0..k {
                    for _try in 0..8 {
                        let p = self.partner_by_country_year[at].sample(&mut rng) as u8;
                        if !countries[..n].contains(&p) {
                            countries[n] = p;
                            n += 1;
                            break;
                        }
                    }
                }
            }
        }
        let mut g = s.modalities[modality].impact;
        if n > 0 {
            let mean: f64 = countries[..n]
                .iter()
                .map(|&c| s.countries[c as usize].impact)
                .sum::<f64>()
                / n as f64;
            g *= mean;
        }
        if n > 1 {
            g *= s.citations.international_multiplier;
        }
        Core {
            index,
            year_idx,
            modality,
            countries,
            n_countries: n,
            g,
        }
    }

    /// `u < core_in(index, year_idx).g / g_max`, drawing no more of the work's core stream than
    /// the decision needs: after the modality when `u` is outside the modality's bounds of
    /// `g / g_max`, after the lead country for a domestic paper. The same decision as computing
    /// the whole core (the draws are the same, in the same order; `g` is computed the same way).
    fn accepts(&self, index: u64, year_idx: usize, u: f64) -> bool {
        let s = &self.scenario;
        let mut rng = Rng::new(&[self.seed, index, STREAM_CORE]);
        let modality = self.modality_by_year[year_idx].sample(&mut rng);
        let (lo, hi) = self.accept_bounds[modality];
        if u < lo {
            return true;
        }
        if u >= hi {
            return false;
        }
        let impact = s.modalities[modality].impact;
        if rng.chance(s.team.unknown_countries_share) {
            return u < impact / self.g_max;
        }
        let lead = self.lead_by_modality_year[modality * self.years + year_idx].sample(&mut rng);
        let at = lead * self.years + year_idx;
        if !rng.chance(self.intl_by_country_year[at]) {
            // As in `core_in` with one country: the mean of one impact is that impact.
            return u < impact * s.countries[lead].impact / self.g_max;
        }
        u < self.core_in(index, year_idx).g / self.g_max
    }

    /// The log-normal part of a work's attractiveness, fixed by its rank in its year under a
    /// keyed permutation: the ranks' values are the strata of a log-normal (mean e^(sigma^2/2)),
    /// so that sampling a rank from the size-biased normal picks works proportionally to it.
    pub fn lognormal_factor(&self, c: &Core) -> f64 {
        let n = self.works_in(c.year_idx);
        let pos = c.index - self.year_start[c.year_idx];
        let rank = self.perms[c.year_idx].forward(pos);
        let sigma = self.scenario.citations.sigma;
        let nf = n as f64;
        if n < 2000 {
            let edge = |r: u64| {
                if r == 0 {
                    0.0
                } else if r >= n {
                    1.0
                } else {
                    norm_cdf(norm_inv(r as f64 / nf) - sigma)
                }
            };
            (nf * (sigma * sigma / 2.0).exp() * (edge(rank + 1) - edge(rank))).max(0.0)
        } else {
            (sigma * norm_inv((rank as f64 + 0.5) / nf)).exp()
        }
    }

    /// Expected citations a work with attractiveness `a` published in `year_idx` receives from
    /// the works of `citing_idx`.
    pub fn expected_citations(&self, a: f64, year_idx: usize, citing_idx: usize) -> f64 {
        a * self.rate[year_idx * self.years + citing_idx]
    }

    /// One earlier work for a work of `citing_idx` to cite, drawn with probability proportional
    /// to attractiveness within a year drawn by the age kernel. `None` when nothing is earlier.
    pub fn sample_cited(&self, citing_idx: usize, rng: &mut Rng) -> Option<u64> {
        let table = &self.ref_year[citing_idx];
        if table.total() <= 0.0 {
            return None;
        }
        let y = table.sample(rng);
        let n = self.works_in(y);
        if n == 0 {
            return None;
        }
        let sigma = self.scenario.citations.sigma;
        let mut pick = self.year_start[y];
        for _ in 0..64 {
            let u = norm_cdf(sigma + rng.normal());
            let rank = ((u * n as f64) as u64).min(n - 1);
            pick = self.year_start[y] + self.perms[y].backward(rank);
            // Accept with probability g / g_max (one uniform draw, as `rng.chance`).
            let u = rng.f64();
            if u < self.accept_floor || self.accepts(pick, y, u) {
                break;
            }
        }
        Some(pick)
    }

    /// The scenario's calendar year for a year offset.
    pub fn year(&self, year_idx: usize) -> i32 {
        self.first_year + year_idx as i32
    }
}

fn affinity(s: &Scenario, a: &str, b: &str) -> f64 {
    s.affinities
        .iter()
        .find(|x| {
            (x.regions[0] == a && x.regions[1] == b) || (x.regions[0] == b && x.regions[1] == a)
        })
        .map_or(1.0, |x| x.weight)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_acceptance_decides_as_the_whole_core() {
        let model = Model::new(&Scenario::cgt(), 5, 30_000, 2).unwrap();
        let mut rng = Rng::new(&[9]);
        let mut early = 0;
        for i in 0..30_000 {
            let y = model.year_idx_of(i);
            let p = model.core_in(i, y).g / model.g_max;
            let (lo, hi) = model.accept_bounds[model.core_in(i, y).modality];
            assert!(lo <= p && p < hi, "{lo} {p} {hi}");
            for u in [rng.f64(), rng.f64(), p, p.next_down(), p.next_up(), lo, hi] {
                assert_eq!(model.accepts(i, y, u), u < p, "work {i}, u {u}, p {p}");
                early += usize::from(u < lo || u >= hi);
            }
        }
        assert!(early > 10_000, "{early}");
    }
}
