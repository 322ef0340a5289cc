//! [`ExactSum`]: the exact sum of any number of `f64` values, whatever order they come in.
//!
//! Every finite `f64` is an integer multiple of 2^-1074 below 2^1024, so a fixed-point integer of
//! about 2100 bits with its lowest bit worth 2^-1074 holds any of them, and any sum of them,
//! exactly (a "superaccumulator", as in Kulisch's long accumulator and Collange et al.'s ExBLAS).
//! Integer addition is associative, so the accumulated value, and the one `f64` it is rounded to at
//! the end (to nearest, ties to even: the correctly rounded sum), are the same for any order of
//! the values and any split into partial sums merged later. That is what makes bibflow's results
//! reproducible to the bit across thread counts and runs; compensated sums (Kahan, Neumaier) are
//! more accurate than a plain sum but still depend on the order.
//!
//! The integer is kept in base-2^32 digits, each in an `i64` limb, and only over the digits in use:
//! fractional weights such as 1/3 or 1/7 summed over a corpus touch three or four limbs. A limb
//! takes 2^31 additions before it could overflow; carries are propagated every 2^30 additions.
//! NaN and infinities are counted apart and give what IEEE addition gives in any order: NaN if
//! any value is NaN or both infinities occur, else the infinity.

/// Weight of limb `i` of the full-range integer: 2^(32 i - 1074).
const DIGIT_BITS: u32 = 32;
const DIGIT_MASK: i64 = (1 << DIGIT_BITS) - 1;
/// Additions a limb takes between carry propagations (each adds less than 2^32 in magnitude).
const ADDS_BETWEEN_CARRIES: u32 = 1 << 30;
/// Exponent of the lowest bit: every finite `f64` is a multiple of 2^-1074.
const MIN_EXP: i64 = -1074;

/// The exact sum of the `f64` values added to it (and minus those removed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExactSum {
    /// Limb `i` is digit `base + i` of the full-range integer; all but the last are in
    /// `[0, 2^32)` after [`Self::carry`], the last holds the sign.
    limbs: Vec<i64>,
    base: u32,
    /// Additions since the last carry propagation.
    pending: u32,
    /// Non-NULL values added minus those removed (NaN and infinities included).
    count: u64,
    nan: u64,
    pos_inf: u64,
    neg_inf: u64,
}

/// An `f64` as `m * 2^(k + MIN_EXP)` with `|m| < 2^53` and `k >= 0`; `None` for NaN and infinities.
fn decompose(x: f64) -> Option<(i64, u32)> {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as u32;
    if exp == 0x7ff {
        return None;
    }
    let frac = (bits & ((1 << 52) - 1)) as i64;
    let (m, k) = if exp == 0 {
        (frac, 0)
    } else {
        (frac | (1 << 52), exp - 1)
    };
    Some((if bits >> 63 == 1 { -m } else { m }, k))
}

impl ExactSum {
    /// An empty sum (no values: [`Self::count`] is 0 and [`Self::value`] is 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// Values held (added minus removed), NaN and infinities included.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Heap bytes held.
    pub fn heap_size(&self) -> usize {
        self.limbs.capacity() * size_of::<i64>()
    }

    /// Adds `x`.
    pub fn add(&mut self, x: f64) {
        self.count += 1;
        self.add_signed(x, 1);
    }

    /// Removes `x`, added earlier (for sliding window frames): exact, like the addition.
    pub fn remove(&mut self, x: f64) {
        self.count = self.count.saturating_sub(1);
        self.add_signed(x, -1);
    }

    fn add_signed(&mut self, x: f64, sign: i64) {
        let Some((m, k)) = decompose(x) else {
            let counter = if x.is_nan() {
                &mut self.nan
            } else if x > 0.0 {
                &mut self.pos_inf
            } else {
                &mut self.neg_inf
            };
            *counter = if sign > 0 {
                *counter + 1
            } else {
                counter.saturating_sub(1)
            };
            return;
        };
        if m == 0 {
            return;
        }
        let digit = k / DIGIT_BITS;
        let v = i128::from(m * sign) << (k % DIGIT_BITS);
        self.reserve(digit, digit + 3);
        let at = (digit - self.base) as usize;
        self.limbs[at] += (v as i64) & DIGIT_MASK;
        self.limbs[at + 1] += ((v >> 32) as i64) & DIGIT_MASK;
        self.limbs[at + 2] += (v >> 64) as i64;
        self.pending += 1;
        if self.pending >= ADDS_BETWEEN_CARRIES {
            self.carry();
        }
    }

    /// Makes limbs exist for digits `lo..hi`.
    fn reserve(&mut self, lo: u32, hi: u32) {
        if self.limbs.is_empty() {
            self.base = lo;
            self.limbs.resize((hi - lo) as usize, 0);
            return;
        }
        if lo < self.base {
            let extra = (self.base - lo) as usize;
            self.limbs.splice(0..0, std::iter::repeat_n(0, extra));
            self.base = lo;
        }
        let end = self.base as usize + self.limbs.len();
        if hi as usize > end {
            self.limbs.resize(self.limbs.len() + (hi as usize - end), 0);
        }
    }

    /// Propagates carries: every limb but the last into `[0, 2^32)`, the last signed and small.
    fn carry(&mut self) {
        let mut c = 0i64;
        for limb in &mut self.limbs {
            let v = *limb + c;
            c = v >> DIGIT_BITS;
            *limb = v & DIGIT_MASK;
        }
        if let Some(last) = self.limbs.last_mut() {
            // Undo the masking of the last limb: it keeps the sign.
            *last += c << DIGIT_BITS;
        }
        while let Some(&last) = self.limbs.last() {
            if (-DIGIT_MASK..=DIGIT_MASK).contains(&last) {
                break;
            }
            let n = self.limbs.len();
            self.limbs[n - 1] = last & DIGIT_MASK;
            self.limbs.push(last >> DIGIT_BITS);
        }
        while self.limbs.len() > 1 && self.limbs[self.limbs.len() - 1] == 0 {
            self.limbs.pop();
        }
        let zeros = self.limbs.iter().take_while(|&&l| l == 0).count();
        if zeros == self.limbs.len() {
            self.limbs.clear();
        } else if zeros > 0 {
            self.limbs.drain(..zeros);
            self.base += zeros as u32;
        }
        self.pending = 0;
    }

    /// Adds another sum to this one (partial sums of partitions, in any order).
    pub fn merge(&mut self, other: &ExactSum) {
        self.count += other.count;
        self.nan += other.nan;
        self.pos_inf += other.pos_inf;
        self.neg_inf += other.neg_inf;
        if other.limbs.is_empty() {
            return;
        }
        if self.pending > 0 {
            self.carry();
        }
        let mut other = other.clone();
        if other.pending > 0 {
            other.carry();
        }
        if other.limbs.is_empty() {
            return;
        }
        let hi = other.base + other.limbs.len() as u32;
        self.reserve(other.base, hi);
        let at = (other.base - self.base) as usize;
        for (i, l) in other.limbs.iter().enumerate() {
            self.limbs[at + i] += l;
        }
        self.carry();
    }

    /// The sum rounded to the nearest `f64` (ties to even); 0.0 for an empty sum, and for a sum
    /// that is exactly zero.
    pub fn value(&self) -> f64 {
        if self.nan > 0 || (self.pos_inf > 0 && self.neg_inf > 0) {
            return f64::NAN;
        }
        if self.pos_inf > 0 {
            return f64::INFINITY;
        }
        if self.neg_inf > 0 {
            return f64::NEG_INFINITY;
        }
        let mut s = self.clone();
        s.carry();
        let Some(&top) = s.limbs.last() else {
            return 0.0;
        };
        let negative = top < 0;
        if negative {
            for l in &mut s.limbs {
                *l = -*l;
            }
            s.carry();
        }
        let magnitude = round_to_f64(&s.limbs, s.base);
        if negative { -magnitude } else { magnitude }
    }

    /// The state as bytes, for partial aggregates crossing partitions and processes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = self.clone();
        s.carry();
        let mut out = Vec::with_capacity(36 + 8 * s.limbs.len());
        for v in [s.count, s.nan, s.pos_inf, s.neg_inf] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&s.base.to_le_bytes());
        for l in &s.limbs {
            out.extend_from_slice(&l.to_le_bytes());
        }
        out
    }

    /// The sum [`Self::to_bytes`] wrote; `None` for bytes it cannot have written.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < 36 || !(bytes.len() - 36).is_multiple_of(8) {
            return None;
        }
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        let base = u32::from_le_bytes(bytes[32..36].try_into().expect("4 bytes"));
        let limbs: Vec<i64> = bytes[36..]
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        // Limbs written by `to_bytes` are carried: no overflow when merged.
        if limbs
            .iter()
            .any(|l| !(-DIGIT_MASK..=DIGIT_MASK).contains(l))
        {
            return None;
        }
        Some(Self {
            limbs,
            base,
            pending: 0,
            count: u64_at(0),
            nan: u64_at(8),
            pos_inf: u64_at(16),
            neg_inf: u64_at(24),
        })
    }
}

/// Rounds a non-negative carried integer (digits `limbs`, the first worth 2^(32 base - 1074)) to
/// the nearest `f64`, ties to even.
fn round_to_f64(limbs: &[i64], base: u32) -> f64 {
    let Some(h) = limbs.iter().rposition(|&l| l != 0) else {
        return 0.0;
    };
    // The top three digits (fewer at the bottom of the range), and whether anything is below them.
    let lo = h.saturating_sub(2);
    let mut acc: u128 = 0;
    for &l in limbs[lo..=h].iter().rev() {
        acc = (acc << DIGIT_BITS) | l as u128;
    }
    let sticky = limbs[..lo].iter().any(|&l| l != 0);
    let mut exp = i64::from(DIGIT_BITS) * (i64::from(base) + lo as i64) + MIN_EXP;
    let len = 128 - acc.leading_zeros();
    let mut mant = acc;
    if len > 53 {
        // At least 65 bits (the top digit is non-zero): the value is a normal number.
        let s = len - 53;
        mant = acc >> s;
        let rem = acc & ((1u128 << s) - 1);
        let half = 1u128 << (s - 1);
        if rem > half || (rem == half && (sticky || mant & 1 == 1)) {
            mant += 1;
        }
        exp += i64::from(s);
        if mant == 1 << 53 {
            mant >>= 1;
            exp += 1;
        }
    }
    // `mant * 2^exp` with mant < 2^53: as f64 bits (normal, or subnormal at the bottom).
    let mut mant = mant as u64;
    let shift = (mant.leading_zeros() as i64 - 11).min(exp - MIN_EXP).max(0);
    mant <<= shift;
    exp -= shift;
    if mant < 1 << 52 {
        return f64::from_bits(mant);
    }
    let biased = exp + 1075;
    if biased >= 0x7ff {
        return f64::INFINITY;
    }
    f64::from_bits(((biased as u64) << 52) | (mant & ((1 << 52) - 1)))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sum(values: &[f64]) -> f64 {
        let mut s = ExactSum::new();
        for &v in values {
            s.add(v);
        }
        s.value()
    }

    #[test]
    fn hand_computed() {
        assert_eq!(sum(&[]), 0.0);
        assert_eq!(sum(&[1.0, 2.0, 3.5]), 6.5);
        assert_eq!(sum(&[1e100, 1.0, -1e100]), 1.0);
        assert_eq!(sum(&[1e308, 1e308, -1e308]), 1e308);
        assert_eq!(sum(&[0.1; 10]), 1.0);
        assert_eq!(sum(&[-0.1; 10]), -1.0);
        assert_eq!(sum(&[5e-324, 5e-324]), 1e-323);
        assert_eq!(
            sum(&[f64::MIN_POSITIVE, -5e-324]),
            f64::MIN_POSITIVE - 5e-324
        );
        assert_eq!(sum(&[f64::MAX, f64::MAX]), f64::INFINITY);
        assert_eq!(sum(&[f64::MAX, f64::MAX, -f64::MAX]), f64::MAX);
        assert_eq!(sum(&[-f64::MAX, -f64::MAX]), f64::NEG_INFINITY);
        // Ties to even, and a bit far below breaking the tie.
        let two53 = 9007199254740992.0;
        assert_eq!(sum(&[two53, 1.0]), two53);
        assert_eq!(sum(&[two53, 1.0, 2f64.powi(-100)]), two53 + 2.0);
        assert_eq!(sum(&[two53, 3.0]), two53 + 4.0);
        assert!(sum(&[1.0, f64::NAN]).is_nan());
        assert!(sum(&[f64::INFINITY, f64::NEG_INFINITY]).is_nan());
        assert_eq!(sum(&[f64::INFINITY, 1.0]), f64::INFINITY);
        assert_eq!(sum(&[-0.0, -0.0]), 0.0);
        assert_eq!(sum(&[1.0 / 3.0; 3]), 1.0);
    }

    #[test]
    fn remove_undoes_add() {
        let mut s = ExactSum::new();
        for v in [1e300, 0.1, f64::INFINITY, -7.25, 3e-310] {
            s.add(v);
        }
        s.remove(1e300);
        s.remove(f64::INFINITY);
        assert_eq!(s.value(), 0.1 + -7.25 + 3e-310);
        assert_eq!(s.count(), 3);
    }

    #[test]
    fn many_additions_carry() {
        let mut s = ExactSum::new();
        s.pending = ADDS_BETWEEN_CARRIES - 3;
        for _ in 0..10 {
            s.add(f64::from_bits(0x7fef_ffff_ffff_ffff) / 2.0);
        }
        assert_eq!(s.value(), f64::INFINITY);
        let mut s = ExactSum::new();
        for _ in 0..1_000_000 {
            s.add(0.1);
        }
        // 0.1 is 0.1000000000000000055511151231257827...: the exact sum rounds to 100000.
        assert_eq!(s.value(), 100000.0);
    }

    /// Values spread over the whole exponent range, with both signs.
    fn any_finite() -> impl Strategy<Value = f64> {
        prop_oneof![
            -1e6f64..1e6,
            (-1.0f64..1.0, -1000i32..1000).prop_map(|(m, e)| m * 2f64.powi(e)),
            any::<f64>().prop_filter("finite", |v| v.is_finite()),
        ]
    }

    proptest! {
        #[test]
        fn any_order_and_any_split_give_the_same_bits(
            values in prop::collection::vec(any_finite(), 0..80),
            seed in any::<u64>(),
            split in 0usize..80,
        ) {
            let expected = sum(&values).to_bits();
            // A deterministic shuffle from the seed.
            let mut shuffled = values.clone();
            let mut r = seed | 1;
            for i in (1..shuffled.len()).rev() {
                r ^= r << 13; r ^= r >> 7; r ^= r << 17;
                shuffled.swap(i, (r % (i as u64 + 1)) as usize);
            }
            prop_assert_eq!(sum(&shuffled).to_bits(), expected);
            let split = split.min(shuffled.len());
            let mut a = ExactSum::new();
            let mut b = ExactSum::new();
            shuffled[..split].iter().for_each(|&v| a.add(v));
            shuffled[split..].iter().for_each(|&v| b.add(v));
            let b = ExactSum::from_bytes(&b.to_bytes()).unwrap();
            a.merge(&b);
            prop_assert_eq!(a.value().to_bits(), expected);
        }

        #[test]
        fn equals_the_correctly_rounded_sum(
            values in prop::collection::vec(-(1i64 << 62)..(1i64 << 62), 0..40),
            e in -60i32..60,
        ) {
            // Multiples of 2^e: their exact sum is an i128, which `as f64` rounds to nearest even.
            let scale = 2f64.powi(e);
            let xs: Vec<f64> = values.iter().map(|&v| (v >> 11) as f64 * scale).collect();
            let exact: i128 = values.iter().map(|&v| i128::from(v >> 11)).sum();
            prop_assert_eq!(sum(&xs), exact as f64 * scale);
        }

        #[test]
        fn close_to_the_plain_sum(values in prop::collection::vec(-1e3f64..1e3, 1..100)) {
            let plain: f64 = values.iter().sum();
            let bound: f64 = values.iter().map(|v| v.abs()).sum::<f64>() * 1e-13;
            prop_assert!((sum(&values) - plain).abs() <= bound);
        }
    }
}
