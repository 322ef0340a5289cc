//! Handing a raw file's chunks from its reader thread to the parser threads, in order, with a
//! bounded number of chunk buffers reused as they come back: at most `max` exist per file, which
//! bounds memory whatever the file's size. The PubMed reader (`pubmed/mod.rs`) and the OpenAlex
//! JSON Lines reader (`openalex/chunks.rs`) cut their input this way.

use std::sync::mpsc;

/// A chunk buffer of consecutive records of one file.
pub(crate) trait Chunk: Default {
    /// Empties the chunk for its next use, keeping its allocations.
    fn clear(&mut self);
    /// Records the chunk's place in the file: 0, 1, 2, ...
    fn set_seq(&mut self, seq: u64);
    /// Whether the chunk holds no record.
    fn is_empty(&self) -> bool;
}

/// The reader thread's end: sends full chunks on, numbered, and gets empty ones back.
pub(crate) struct Handover<C> {
    out: mpsc::SyncSender<C>,
    free: mpsc::Receiver<C>,
    max: usize,
    made: usize,
    seq: u64,
}

impl<C: Chunk> Handover<C> {
    /// Full chunks go to `out`; emptied ones come back on `free`. At most `max` chunks exist,
    /// counting the one the reader fills first (made by the caller).
    pub(crate) fn new(out: mpsc::SyncSender<C>, free: mpsc::Receiver<C>, max: usize) -> Self {
        Handover {
            out,
            free,
            max,
            made: 1,
            seq: 0,
        }
    }

    /// Sends the full `chunk` on and leaves an empty one in its place: one that came back, a new
    /// one while fewer than `max` exist, or else the next to come back. False when the other side
    /// has stopped (on an error of its own): the reader stops too.
    pub(crate) fn pass(&mut self, chunk: &mut C) -> bool {
        let next = if self.made < self.max {
            self.free.try_recv().unwrap_or_else(|_| {
                self.made += 1;
                C::default()
            })
        } else {
            match self.free.recv() {
                Ok(c) => c,
                Err(_) => return false,
            }
        };
        let mut full = std::mem::replace(chunk, next);
        chunk.clear();
        full.set_seq(self.seq);
        self.seq += 1;
        self.out.send(full).is_ok()
    }

    /// Sends the last chunk on, if it holds a record.
    pub(crate) fn finish(self, mut chunk: C) {
        if !chunk.is_empty() {
            chunk.set_seq(self.seq);
            // A parser side that stopped has its own error to report.
            let _ = self.out.send(chunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Debug)]
    struct Lines {
        seq: u64,
        lines: Vec<u32>,
    }

    impl Chunk for Lines {
        fn clear(&mut self) {
            self.lines.clear();
        }
        fn set_seq(&mut self, seq: u64) {
            self.seq = seq;
        }
        fn is_empty(&self) -> bool {
            self.lines.is_empty()
        }
    }

    #[test]
    fn chunks_go_in_order_and_no_more_than_max_exist() {
        let (out_tx, out_rx) = mpsc::sync_channel::<Lines>(8);
        let (free_tx, free_rx) = mpsc::channel::<Lines>();
        let mut handover = Handover::new(out_tx, free_rx, 3);
        let mut chunk = Lines::default();
        let mut sent = Vec::new();
        for k in 0..10u32 {
            chunk.lines.push(k);
            if k % 2 == 1 {
                // The parser side returns every chunk it took before the reader needs a fourth.
                while let Ok(mut back) = out_rx.try_recv() {
                    sent.push((back.seq, back.lines.clone()));
                    back.lines.clear();
                    free_tx.send(back).unwrap();
                }
                assert!(handover.pass(&mut chunk));
                assert!(
                    chunk.is_empty(),
                    "an empty chunk is left in the full one's place"
                );
            }
        }
        chunk.lines.push(10);
        handover.finish(chunk);
        while let Ok(back) = out_rx.try_recv() {
            sent.push((back.seq, back.lines));
        }
        let expected: Vec<(u64, Vec<u32>)> = (0..5u64)
            .map(|s| (s, vec![2 * s as u32, 2 * s as u32 + 1]))
            .chain([(5, vec![10])])
            .collect();
        assert_eq!(sent, expected);
    }

    #[test]
    fn a_reader_at_max_stops_when_the_parsers_are_gone() {
        let (out_tx, out_rx) = mpsc::sync_channel::<Lines>(8);
        let (free_tx, free_rx) = mpsc::channel::<Lines>();
        let mut handover = Handover::new(out_tx, free_rx, 2);
        let mut chunk = Lines::default();
        chunk.lines.push(1);
        assert!(
            handover.pass(&mut chunk),
            "a second chunk may still be made"
        );
        chunk.lines.push(2);
        drop(free_tx);
        drop(out_rx);
        assert!(
            !handover.pass(&mut chunk),
            "no chunk can come back: the reader stops"
        );
    }

    #[test]
    fn an_empty_last_chunk_is_not_sent() {
        let (out_tx, out_rx) = mpsc::sync_channel::<Lines>(8);
        let (_free_tx, free_rx) = mpsc::channel::<Lines>();
        Handover::new(out_tx, free_rx, 2).finish(Lines::default());
        assert!(out_rx.try_recv().is_err());
    }
}
