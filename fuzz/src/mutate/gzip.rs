//! Gzip framing: a payload compressed as one or several members (as `MultiGzDecoder` and
//! OpenAlex's concatenated parts have them), with optional header fields, then, for some inputs,
//! framing damage: a cut stream, a flipped header flag, a wrong CRC or size, bytes after the
//! last member, a flipped bit in the compressed data.

use std::io::Write;

use flate2::{Compression, GzBuilder};

use crate::rng::Rng;

/// A gzip file made from a payload, and whether its framing was damaged.
#[derive(Debug)]
pub struct Framed {
    pub bytes: Vec<u8>,
    /// What was done, for the finding's description.
    pub edits: Vec<String>,
    /// False when only valid framing was used: then the file must read exactly as its payload.
    pub damaged: bool,
}

/// Compresses `payload` into 1..=4 members with random levels and header fields; with
/// probability 1/2, damages the framing.
pub fn frame(rng: &mut Rng, payload: &[u8]) -> Framed {
    let mut edits = Vec::new();
    let members = 1 + rng.below(4);
    let mut cuts: Vec<usize> = (1..members).map(|_| rng.below(payload.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(payload.len());
    let mut bytes = Vec::new();
    let mut from = 0;
    let mut bounds = Vec::new();
    for to in cuts {
        let level = rng.below(10) as u32;
        let mut builder = GzBuilder::new();
        if rng.chance(1, 4) {
            builder = builder.filename("part_0000.jsonl");
        }
        if rng.chance(1, 4) {
            builder = builder.comment("made by bibflow-fuzz");
        }
        if rng.chance(1, 4) {
            builder = builder.extra(vec![b'B', b'F', 2, 0, 1, 2]);
        }
        let start = bytes.len();
        let mut enc = builder.write(&mut bytes, Compression::new(level));
        enc.write_all(&payload[from..to])
            .expect("writing to a Vec cannot fail");
        enc.finish().expect("writing to a Vec cannot fail");
        bounds.push((start, bytes.len()));
        edits.push(format!("member of {} bytes at level {level}", to - from));
        from = to;
    }
    let mut damaged = false;
    if rng.chance(1, 2) {
        damaged = true;
        let (start, end) = *rng.pick(&bounds);
        let n = bytes.len();
        match rng.below(8) {
            0 => {
                let at = rng.below(n);
                bytes.truncate(at);
                edits.push(format!("cut at byte {at}"));
            }
            1 => {
                // FLG: FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT, reserved bits.
                let bit = 1 << rng.below(8);
                bytes[start + 3] ^= bit;
                edits.push(format!(
                    "header flag bit {bit:#x} flipped at byte {}",
                    start + 3
                ));
            }
            2 => {
                let at = end - 8 + rng.below(4);
                bytes[at] ^= 0xff;
                edits.push(format!("CRC-32 byte {at} flipped"));
            }
            3 => {
                let at = end - 4 + rng.below(4);
                bytes[at] ^= 0xff;
                edits.push(format!("ISIZE byte {at} flipped"));
            }
            4 => {
                let tails: [&[u8]; 6] = [
                    b"\n",
                    b"\x1f",
                    b"\x1f\x8b",
                    b"\x1f\x8b\x08",
                    b"garbage",
                    b"\0\0\0\0",
                ];
                let tail = *rng.pick::<&[u8]>(&tails);
                bytes.extend_from_slice(tail);
                edits.push(format!("{} bytes after the last member", tail.len()));
            }
            5 if end - start > 18 => {
                let at = start + 10 + rng.below(end - start - 18);
                bytes[at] ^= 1 << rng.below(8);
                edits.push(format!("compressed bit flipped at byte {at}"));
            }
            6 => {
                // Compression method other than deflate.
                bytes[start + 2] = *rng.pick(&[0u8, 7, 9, 0xff]);
                edits.push(format!("compression method changed at byte {}", start + 2));
            }
            _ => {
                let copy = bytes[start..end].to_vec();
                let at = rng.below(end - start);
                bytes.extend_from_slice(&copy[..at]);
                edits.push(format!("a member's first {at} bytes repeated at the end"));
            }
        }
    }
    Framed {
        bytes,
        edits,
        damaged,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn undamaged_framing_decompresses_to_the_payload() {
        let payload = b"{\"id\":\"https://openalex.org/W1\"}\n".repeat(50);
        let mut rng = Rng::new(9);
        let (mut whole, mut damaged) = (0, 0);
        for _ in 0..200 {
            let f = frame(&mut rng, &payload);
            let mut out = Vec::new();
            let ok = flate2::read::MultiGzDecoder::new(&f.bytes[..])
                .read_to_end(&mut out)
                .is_ok();
            if f.damaged {
                damaged += 1;
            } else {
                assert!(ok, "{:?}", f.edits);
                assert_eq!(out, payload, "{:?}", f.edits);
                whole += 1;
            }
        }
        assert!(
            whole > 50 && damaged > 50,
            "{whole} whole, {damaged} damaged"
        );
    }
}
