//! Mutations: byte-level edits that know nothing of the format ([`bytes`]), and structure-aware
//! edits of JSON values ([`json`]), XML elements ([`xml`]), TOML headers of saved queries
//! ([`query`]) and gzip framing ([`gzip`]). Every choice comes from a seeded [`Rng`], so one seed
//! gives one input.

pub mod gzip;
pub mod json;
pub mod query;
pub mod xml;

use crate::rng::Rng;

/// Inputs are cut to this size: a mutation that duplicates a large range many times would
/// otherwise grow an input without bound. Large inputs are issue 22 item 5's business (a 200 MB
/// JSON line, 100,000 authors), tested on their own.
pub const MAX_INPUT: usize = 2 << 20;

/// Byte values that change the meaning of text formats.
const INTERESTING: &[u8] = &[
    0, 0x7f, 0x80, 0xc0, 0xe2, 0xed, 0xf4, 0xff, b'\n', b'\r', b'\t', b' ', b'"', b'\\', b'<',
    b'>', b'&', b';', b'{', b'}', b'[', b']', b',', b':', b'/', b'=', b'-', b'$', b'\'', b'0',
    b'9',
];

/// Applies `1..=max_ops` byte-level edits to `data`. `other` is a donor for splices; `dict`
/// holds tokens of the format (tags, keywords) inserted whole.
pub fn bytes(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8], dict: &[&[u8]], max_ops: usize) {
    let ops = 1 + rng.below(max_ops.max(1));
    for _ in 0..ops {
        byte_edit(rng, data, other, dict);
    }
    data.truncate(MAX_INPUT);
}

fn byte_edit(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8], dict: &[&[u8]]) {
    let n = data.len();
    match rng.below(11) {
        // Flip one bit.
        0 if n > 0 => {
            let i = rng.below(n);
            data[i] ^= 1 << rng.below(8);
        }
        // Set a byte to an interesting value.
        1 if n > 0 => {
            let i = rng.below(n);
            data[i] = *rng.pick(INTERESTING);
        }
        // Delete a range.
        2 if n > 0 => {
            let at = rng.below(n);
            let len = rng.length(n - at);
            data.drain(at..(at + len).min(n));
        }
        // Duplicate a range (insert a copy elsewhere).
        3 if n > 0 => {
            let at = rng.below(n);
            let len = rng.length(n - at).min(n - at);
            let copy = data[at..at + len].to_vec();
            let to = rng.below(n + 1);
            data.splice(to..to, copy);
        }
        // Insert a token of the format.
        4 | 5 if !dict.is_empty() => {
            let to = rng.below(n + 1);
            let token = rng.pick(dict).to_vec();
            data.splice(to..to, token);
        }
        // Splice: this input's head with the donor's tail.
        6 if !other.is_empty() => {
            let at = rng.below(n + 1);
            let from = rng.below(other.len());
            data.truncate(at);
            data.extend_from_slice(&other[from..]);
        }
        // Truncate.
        7 if n > 0 => {
            let at = rng.below(n);
            data.truncate(at);
        }
        // Insert random bytes.
        8 => {
            let to = rng.below(n + 1);
            let len = rng.length(64);
            let noise: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            data.splice(to..to, noise);
        }
        // Swap two bytes.
        9 if n > 1 => {
            let (a, b) = (rng.below(n), rng.below(n));
            data.swap(a, b);
        }
        // Repeat a short range many times (long runs of one token).
        10 if n > 0 => {
            let at = rng.below(n);
            let len = rng.length(16).min(n - at);
            let times = 1 + rng.below(256);
            let copy = data[at..at + len].repeat(times);
            data.splice(at..at, copy);
        }
        _ => {
            let to = rng.below(n + 1);
            data.insert(to, *rng.pick(INTERESTING));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_edits_change_inputs_and_respect_the_cap() {
        let seed = b"{\"id\": \"https://openalex.org/W1\", \"title\": \"x\"}".to_vec();
        let mut rng = Rng::new(3);
        let mut changed = 0;
        for _ in 0..500 {
            let mut d = seed.clone();
            bytes(&mut rng, &mut d, b"<PMID>1</PMID>", &[b"null"], 4);
            assert!(d.len() <= MAX_INPUT);
            changed += usize::from(d != seed);
        }
        // Some edit sequences cancel out (a swap of two equal bytes): most do not.
        assert!(changed > 450, "{changed} of 500 inputs changed");
        let mut big = vec![b'a'; MAX_INPUT];
        for _ in 0..50 {
            bytes(&mut rng, &mut big, &[], &[b"xyz"], 8);
            assert!(big.len() <= MAX_INPUT);
        }
    }
}
