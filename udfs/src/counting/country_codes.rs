//! Country codes as the counting functions compare them: normalisation, and a reusable per-row
//! scratch space for the countries of one paper.

/// Appends the normalised form of a raw country code to `buf`: trimmed, ASCII upper-case, HK and MO
/// as CN unless `keep_hk_mo`. Returns `false` (and appends nothing) when the code is blank, which
/// counts as an unknown country.
pub(crate) fn push_normalized(buf: &mut String, raw: &str, keep_hk_mo: bool) -> bool {
    let code = raw.trim();
    if code.is_empty() {
        return false;
    }
    if !keep_hk_mo && (code.eq_ignore_ascii_case("HK") || code.eq_ignore_ascii_case("MO")) {
        buf.push_str("CN");
    } else {
        buf.extend(code.chars().map(|c| c.to_ascii_uppercase()));
    }
    true
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    start: usize,
    end: usize,
    weight: f64,
}

/// Per-row scratch space for the countries of one paper, reused across rows so that a batch
/// allocates only while its largest paper grows the buffers.
#[derive(Debug, Default)]
pub(crate) struct CountryScratch {
    buf: String,
    entries: Vec<Entry>,
}

impl CountryScratch {
    /// Forgets the previous row.
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.entries.clear();
    }

    /// Records `weight` for the country `raw`; returns `false` when the code is blank (unknown).
    pub(crate) fn push(&mut self, raw: &str, keep_hk_mo: bool, weight: f64) -> bool {
        let start = self.buf.len();
        if !push_normalized(&mut self.buf, raw, keep_hk_mo) {
            return false;
        }
        self.entries.push(Entry {
            start,
            end: self.buf.len(),
            weight,
        });
        true
    }

    /// Sorts by country and sums the weights of equal countries, leaving one entry per country.
    pub(crate) fn merge(&mut self) {
        let buf = &self.buf;
        self.entries
            .sort_unstable_by(|a, b| buf[a.start..a.end].cmp(&buf[b.start..b.end]));
        let mut kept = 0;
        for i in 0..self.entries.len() {
            let e = self.entries[i];
            if kept > 0 {
                let last = &mut self.entries[kept - 1];
                if buf[last.start..last.end] == buf[e.start..e.end] {
                    last.weight += e.weight;
                    continue;
                }
            }
            self.entries[kept] = e;
            kept += 1;
        }
        self.entries.truncate(kept);
    }

    /// Number of entries (distinct countries once [`Self::merge`]d).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Entry `i`: its country and weight.
    pub(crate) fn get(&self, i: usize) -> (&str, f64) {
        let e = self.entries[i];
        (&self.buf[e.start..e.end], e.weight)
    }

    /// Sets the weight of every entry.
    pub(crate) fn set_all_weights(&mut self, weight: f64) {
        for e in &mut self.entries {
            e.weight = weight;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_blank_and_hk_mo() {
        let mut s = CountryScratch::default();
        assert!(s.push(" us", false, 1.0));
        assert!(s.push("HK", false, 1.0));
        assert!(s.push("mo", true, 1.0));
        assert!(!s.push("  ", false, 1.0));
        assert!(s.push("cn", false, 0.5));
        s.merge();
        assert_eq!(s.len(), 3);
        assert_eq!(s.get(0), ("CN", 1.5));
        assert_eq!(s.get(1), ("MO", 1.0));
        assert_eq!(s.get(2), ("US", 1.0));
    }
}
