//! The memory pool of a session with a limit: DataFusion's greedy pool (first come, first served)
//! with a part kept back for the operators that cannot spill.
//!
//! In DataFusion's greedy pool a sort takes memory until the pool refuses, and only then spills:
//! at 10^8 works under `--memory-limit 2GiB` two sorts of the report held 1.56 GB between them,
//! and an order-preserving repartition (which cannot spill) failed for want of 2 MB. Here a
//! large operator that can spill (one holding more than [`HeadroomPool::small`]) is refused once
//! the pool is within [`HeadroomPool::headroom`] of its limit: it then spills (a sort) or emits
//! what it holds (a partial aggregate), as it would at the limit, and the room left is there for
//! the operators that cannot spill (merges, repartition buffers, hash join builds, computed views
//! held in memory) and for small ones that say they can but cannot always (an ordered final
//! aggregate, which fails when refused: the first version of this pool, which kept the headroom
//! from every operator that can spill, failed there at 10^8 works). They may use the whole pool.
//!
//! Batches queued between a repartition and its consumers are bounded apart: together they may
//! hold [`HeadroomPool::queue_share`] (an eighth of the pool); past it a repartition spills what
//! it sends (DataFusion 55's `RepartitionExec` writes a refused batch to a spill file and its
//! consumer reads it back in order; DataFusion 55.2 could then wait for ever when two input
//! tasks spilled at once, apache/datafusion#24883, which the DataFusion that bibflow builds
//! carries a fix for: vendor/README.md). Without that share, at 10^7 works under 512 MiB five
//! repartition queues of four queries running at once held 400 MB of the pool, waiting for
//! consumers busy elsewhere, and an ordered final aggregate failed for want of the rest. A queue
//! held that way buys no speed: its consumer is not reading.
//!
//! A partial aggregate may hold [`HeadroomPool::partial_aggregate_share`] (a sixteenth of the
//! pool). When the pool refuses it, DataFusion 55's `PartialHashAggregateStream` copies its whole
//! state into one batch, frees its reservation, and hands the batch downstream a slice at a
//! time: for as long as that takes, a copy the size of what it held is counted nowhere. At 10^8
//! works under 2 GiB two partial aggregates of `work_country` held 530 MiB each; as they emitted,
//! the pool fell by 1 GiB and the process's RSS rose from 2.35 to 3.27 GiB. Emitting sooner costs
//! a partial aggregate little (the final aggregate after it merges the groups anyway) and bounds
//! that copy.
//!
//! DataFusion's fair pool was tried before (see `session.rs`): it splits the pool evenly among
//! the operators that can spill, and a final aggregate's even share ran out at 10^5 works under
//! 48 MiB where the greedy pool finished.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use datafusion::common::{Result, human_readable_size, resources_datafusion_err};
use datafusion::execution::memory_pool::{
    MemoryConsumerMetrics, MemoryLimit, MemoryPool, MemoryReservation, TrackConsumersPool,
};

/// The share of the pool kept back for operators that cannot spill: a quarter.
pub const HEADROOM_FRACTION: usize = 4;

/// The share of the pool that repartition queues may hold together: an eighth.
pub const QUEUE_FRACTION: usize = 8;

/// The share of the pool one partial aggregate may hold: a sixteenth.
pub const PARTIAL_AGGREGATE_FRACTION: usize = 16;

/// An operator holding at most this share of the headroom counts as small: a sixteenth, but at
/// least [`SMALL_MIN`] (or the whole headroom of a smaller pool).
pub const SMALL_FRACTION: usize = 16;

/// An operator holding at most this much counts as small, whatever the pool: 16 MiB. In a pool of
/// 64 MiB a sixteenth of the headroom was 1 MiB, and an ordered final aggregate asking for 2.5 MiB
/// (which fails when refused) was kept from the headroom and failed the report.
pub const SMALL_MIN: usize = 16 << 20;

/// What a session's memory pool holds now and has held at most: read by a front-end while the
/// session runs (to show memory next to the process's RSS) and after it. A clone reads the same
/// counters; [`SessionOptions::memory_gauge`](crate::session::SessionOptions::memory_gauge) gives
/// it to the pool the session builder makes.
#[derive(Debug, Clone, Default)]
pub struct MemoryGauge(Arc<GaugeCounters>);

#[derive(Debug, Default)]
struct GaugeCounters {
    used: AtomicUsize,
    peak: AtomicUsize,
    limit: AtomicUsize,
    /// The pool that names its consumers, once a session made one (weak: the pool holds the
    /// gauge).
    consumers: Mutex<Weak<TrackConsumersPool<HeadroomPool>>>,
}

impl MemoryGauge {
    /// Bytes reserved in the pool now.
    pub fn reserved(&self) -> usize {
        self.0.used.load(Ordering::Relaxed)
    }

    /// The most bytes reserved at once since the pool was made.
    pub fn peak(&self) -> usize {
        self.0.peak.load(Ordering::Relaxed)
    }

    /// The pool's limit in bytes; `None` before a pool with a limit uses this gauge.
    pub fn limit(&self) -> Option<usize> {
        match self.0.limit.load(Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }

    /// The `n` consumers holding the most of the pool now, largest first (empty before a session
    /// with a limit made its pool, or after it is dropped).
    pub fn largest(&self, n: usize) -> Vec<MemoryConsumerMetrics> {
        let pool = match self.0.consumers.lock() {
            Ok(pool) => pool.upgrade(),
            Err(poisoned) => poisoned.into_inner().upgrade(),
        };
        let Some(pool) = pool else {
            return Vec::new();
        };
        let mut consumers = pool.metrics();
        consumers.retain(|c| c.reserved > 0);
        consumers.sort_by_key(|c| std::cmp::Reverse(c.reserved));
        consumers.truncate(n);
        consumers
    }

    /// Lets [`largest`](Self::largest) read `pool`'s consumers (the session builder calls it).
    pub fn watch_consumers(&self, pool: &Arc<TrackConsumersPool<HeadroomPool>>) {
        let mut slot = match self.0.consumers.lock() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        *slot = Arc::downgrade(pool);
    }

    fn add(&self, bytes: usize) {
        let used = self.0.used.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.0.peak.fetch_max(used, Ordering::Relaxed);
    }
}

/// A greedy pool whose last [`headroom`](Self::headroom) bytes only operators that cannot spill
/// may take; see the [module documentation](self).
#[derive(Debug)]
pub struct HeadroomPool {
    pool_size: usize,
    headroom: usize,
    /// Bytes held by repartition queues, together.
    queued: AtomicUsize,
    gauge: MemoryGauge,
}

/// Whether a reservation is a partial aggregate's (DataFusion names those
/// `PartialHashAggregateStream[N]`).
fn is_partial_aggregate(reservation: &MemoryReservation) -> bool {
    reservation
        .consumer()
        .name()
        .starts_with("PartialHashAggregateStream[")
}

/// Whether a reservation holds a repartition's queued batches: DataFusion names those
/// `RepartitionExec[N]` (and the order-preserving merge after one `RepartitionExec[Merge N]`,
/// which is not a queue).
fn is_queue(reservation: &MemoryReservation) -> bool {
    reservation
        .consumer()
        .name()
        .strip_prefix("RepartitionExec[")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

impl HeadroomPool {
    /// A pool of `pool_size` bytes keeping a quarter back for operators that cannot spill.
    pub fn new(pool_size: usize) -> Self {
        Self::with_gauge(pool_size, MemoryGauge::default())
    }

    /// The same, counting what it holds in `gauge` (which should be new: its counters are the
    /// pool's).
    pub fn with_gauge(pool_size: usize, gauge: MemoryGauge) -> Self {
        gauge.0.limit.store(pool_size, Ordering::Relaxed);
        Self {
            pool_size,
            headroom: pool_size / HEADROOM_FRACTION,
            queued: AtomicUsize::new(0),
            gauge,
        }
    }

    /// Bytes one partial aggregate may hold; see the [module documentation](self).
    pub fn partial_aggregate_share(&self) -> usize {
        self.pool_size / PARTIAL_AGGREGATE_FRACTION
    }

    /// Bytes that repartition queues may hold together; see the [module documentation](self).
    pub fn queue_share(&self) -> usize {
        self.pool_size / QUEUE_FRACTION
    }

    /// Bytes at the top of the pool that a large operator that can spill may not take.
    pub fn headroom(&self) -> usize {
        self.headroom
    }

    /// The most an operator that can spill may hold and still take from the headroom.
    pub fn small(&self) -> usize {
        (self.headroom / SMALL_FRACTION)
            .max(SMALL_MIN)
            .min(self.headroom)
    }
}

impl MemoryPool for HeadroomPool {
    fn name(&self) -> &str {
        "greedy-with-headroom"
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        if is_queue(reservation) {
            self.queued.fetch_add(additional, Ordering::Relaxed);
        }
        self.gauge.add(additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        if is_queue(reservation) {
            self.queued.fetch_sub(shrink, Ordering::Relaxed);
        }
        self.gauge.0.used.fetch_sub(shrink, Ordering::Relaxed);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        if is_partial_aggregate(reservation)
            && reservation.size() + additional > self.partial_aggregate_share()
        {
            return Err(resources_datafusion_err!(
                "Failed to allocate additional {} for {} with {} already allocated for this reservation: a partial aggregate may hold {} of the total memory pool: {}",
                human_readable_size(additional),
                reservation.consumer().name(),
                human_readable_size(reservation.size()),
                human_readable_size(self.partial_aggregate_share()),
                self
            ));
        }
        let queue = is_queue(reservation);
        if queue {
            self.queued
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |queued| {
                    (queued + additional <= self.queue_share()).then_some(queued + additional)
                })
                .map_err(|queued| {
                    resources_datafusion_err!(
                        "Failed to allocate additional {} for {}: repartition queues hold {} of the {} they may share in the total memory pool: {}",
                        human_readable_size(additional),
                        reservation.consumer().name(),
                        human_readable_size(queued),
                        human_readable_size(self.queue_share()),
                        self
                    )
                })?;
        }
        let large = reservation.size() + additional > self.small();
        let limit = if reservation.consumer().can_spill() && large {
            self.pool_size - self.headroom
        } else {
            self.pool_size
        };
        let before = self.gauge.0.used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
            let new_used = used + additional;
            (new_used <= limit).then_some(new_used)
        })
            .map_err(|used| {
                if queue {
                    self.queued.fetch_sub(additional, Ordering::Relaxed);
                }
                resources_datafusion_err!(
                    "Failed to allocate additional {} for {} with {} already allocated for this reservation - {} remain available for {} operators in the total memory pool: {}",
                    human_readable_size(additional),
                    reservation.consumer().name(),
                    human_readable_size(reservation.size()),
                    human_readable_size(limit.saturating_sub(used)),
                    if reservation.consumer().can_spill() && large {
                        "large spilling"
                    } else {
                        "all"
                    },
                    self
                )
        })?;
        self.gauge
            .0
            .peak
            .fetch_max(before + additional, Ordering::Relaxed);
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.gauge.reserved()
    }

    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(self.pool_size)
    }
}

impl fmt::Display for HeadroomPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}(used: {}, pool_size: {}, kept for non-spilling operators: {})",
            self.name(),
            human_readable_size(self.gauge.reserved()),
            human_readable_size(self.pool_size),
            human_readable_size(self.headroom)
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::execution::memory_pool::MemoryConsumer;

    use super::*;

    #[test]
    fn spilling_operators_leave_the_headroom_to_the_others() {
        const MIB: usize = 1 << 20;
        // 1 GiB: 256 MiB kept back; an operator holding up to 16 MiB is small.
        let pool: Arc<dyn MemoryPool> = Arc::new(HeadroomPool::new(1024 * MIB));
        let sort = MemoryConsumer::new("sort")
            .with_can_spill(true)
            .register(&pool);
        let merge = MemoryConsumer::new("merge").register(&pool);
        let agg = MemoryConsumer::new("agg")
            .with_can_spill(true)
            .register(&pool);
        // A large spilling operator gets up to 768 MiB, not one byte more.
        sort.try_grow(700 * MIB).unwrap();
        let refused = sort.try_grow(68 * MIB + 1).unwrap_err().to_string();
        assert!(refused.contains("for sort"), "{refused}");
        assert!(refused.contains("large spilling operators"), "{refused}");
        sort.try_grow(68 * MIB).unwrap();
        // The rest is there for an operator that cannot spill, up to the whole pool, and for a
        // small one that can.
        agg.try_grow(16 * MIB).unwrap();
        assert!(
            agg.try_grow(1).is_err(),
            "past 16 MiB it is large, and the pool past 768"
        );
        merge.try_grow(240 * MIB).unwrap();
        assert_eq!(pool.reserved(), 1024 * MIB);
        assert!(merge.try_grow(1).is_err());
        // Freed memory is shared again.
        sort.shrink(300 * MIB);
        merge.try_grow(60 * MIB).unwrap();
        assert!(sort.try_grow(1).is_err(), "784 MiB used: past the line");
        merge.free();
        sort.try_grow(284 * MIB).unwrap();
        assert_eq!(pool.reserved(), 768 * MIB);
        // A small pool keeps its whole headroom for operators up to 16 MiB, so that an ordered
        // aggregate asking for a few MiB is not refused.
        let small = HeadroomPool::new(64 * MIB);
        assert_eq!((small.headroom(), small.small()), (16 * MIB, 16 * MIB));
        assert_eq!(HeadroomPool::new(2048 * MIB).small(), 32 * MIB);
        assert!(matches!(pool.memory_limit(), MemoryLimit::Finite(n) if n == 1024 * MIB));
    }

    #[test]
    fn repartition_queues_share_an_eighth_of_the_pool() {
        const MIB: usize = 1 << 20;
        let pool: Arc<dyn MemoryPool> = Arc::new(HeadroomPool::new(512 * MIB));
        let queue = |name: &str| {
            MemoryConsumer::new(name)
                .with_can_spill(true)
                .register(&pool)
        };
        let (q0, q1) = (queue("RepartitionExec[0]"), queue("RepartitionExec[12]"));
        let merge = MemoryConsumer::new("RepartitionExec[Merge 0]").register(&pool);
        let agg = MemoryConsumer::new("OrderedFinalAggregateStream[0]")
            .with_can_spill(true)
            .register(&pool);
        // Two queues together get 64 MiB, however they split it.
        q0.try_grow(40 * MIB).unwrap();
        q1.try_grow(24 * MIB).unwrap();
        let refused = q0.try_grow(1).unwrap_err().to_string();
        assert!(
            refused.contains("repartition queues hold 64.0 MB"),
            "{refused}"
        );
        assert!(q1.try_grow(1).is_err());
        // What the queues could not take stays free for the others.
        merge.try_grow(300 * MIB).unwrap();
        agg.try_grow(16 * MIB).unwrap();
        // A queue read by its consumer makes room for the next batch.
        q0.shrink(MIB);
        q1.try_grow(MIB).unwrap();
        // A queue refused by the pool as a whole keeps no share it did not get.
        q0.free();
        merge
            .try_grow(512 * MIB - 300 * MIB - 16 * MIB - 25 * MIB)
            .unwrap();
        assert_eq!(pool.reserved(), 512 * MIB);
        assert!(q0.try_grow(MIB).is_err());
        merge.free();
        q0.try_grow(39 * MIB).unwrap();
        assert!(q0.try_grow(1).is_err(), "the share is full again at 64 MiB");
    }

    #[test]
    fn a_partial_aggregate_holds_a_sixteenth_of_the_pool() {
        const MIB: usize = 1 << 20;
        let pool: Arc<dyn MemoryPool> = Arc::new(HeadroomPool::new(512 * MIB));
        let partial = MemoryConsumer::new("PartialHashAggregateStream[1]")
            .with_can_spill(true)
            .register(&pool);
        let other = MemoryConsumer::new("PartialHashAggregateStream[0]")
            .with_can_spill(true)
            .register(&pool);
        let final_agg = MemoryConsumer::new("FinalHashAggregateStream[1]")
            .with_can_spill(true)
            .register(&pool);
        partial.try_grow(32 * MIB).unwrap();
        let refused = partial.try_grow(1).unwrap_err().to_string();
        assert!(
            refused.contains("a partial aggregate may hold 32.0 MB"),
            "{refused}"
        );
        // Each partial aggregate has its own sixteenth; other operators are not held to it.
        other.try_grow(32 * MIB).unwrap();
        final_agg.try_grow(100 * MIB).unwrap();
        // Once it has emitted (its reservation shrinks), it may grow again.
        partial.resize(MIB);
        partial.try_grow(31 * MIB).unwrap();
        assert_eq!(pool.reserved(), 164 * MIB);
    }

    #[test]
    fn the_gauge_reads_what_the_pool_holds_and_its_peak() {
        const MIB: usize = 1 << 20;
        let gauge = MemoryGauge::default();
        assert_eq!(gauge.limit(), None);
        let pool: Arc<dyn MemoryPool> = Arc::new(HeadroomPool::with_gauge(64 * MIB, gauge.clone()));
        assert_eq!(gauge.limit(), Some(64 * MIB));
        let a = MemoryConsumer::new("a").register(&pool);
        let b = MemoryConsumer::new("b").register(&pool);
        a.try_grow(10 * MIB).unwrap();
        b.grow(5 * MIB);
        assert_eq!((gauge.reserved(), gauge.peak()), (15 * MIB, 15 * MIB));
        a.free();
        b.try_grow(MIB).unwrap();
        assert_eq!((gauge.reserved(), gauge.peak()), (6 * MIB, 15 * MIB));
        assert!(b.try_grow(60 * MIB).is_err());
        assert_eq!(gauge.peak(), 15 * MIB, "a refused request is not counted");
    }

    #[test]
    fn the_gauge_names_the_largest_consumers_while_the_pool_lives() {
        const MIB: usize = 1 << 20;
        let gauge = MemoryGauge::default();
        assert!(gauge.largest(3).is_empty());
        let tracked = Arc::new(TrackConsumersPool::new(
            HeadroomPool::with_gauge(64 * MIB, gauge.clone()),
            std::num::NonZeroUsize::new(5).unwrap(),
        ));
        gauge.watch_consumers(&tracked);
        let pool: Arc<dyn MemoryPool> = tracked.clone();
        let sort = MemoryConsumer::new("ExternalSorter[0]").register(&pool);
        let queue = MemoryConsumer::new("RepartitionExec[1]").register(&pool);
        let idle = MemoryConsumer::new("idle").register(&pool);
        sort.try_grow(5 * MIB).unwrap();
        queue.try_grow(7 * MIB).unwrap();
        let named: Vec<(String, usize)> = gauge
            .largest(3)
            .into_iter()
            .map(|c| (c.name, c.reserved))
            .collect();
        assert_eq!(
            named,
            vec![
                ("RepartitionExec[1]".to_owned(), 7 * MIB),
                ("ExternalSorter[0]".to_owned(), 5 * MIB)
            ],
            "largest first, and a consumer holding nothing is not named"
        );
        assert_eq!(gauge.largest(1).len(), 1);
        drop((sort, queue, idle, pool, tracked));
        assert!(gauge.largest(3).is_empty(), "the pool is gone");
    }
}
