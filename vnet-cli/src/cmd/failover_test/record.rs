//! What the observer saw: send and reply times of its echoes, and the two questions
//! asked of them: have replies been steady for a while, and what was the longest gap
//! between consecutive replies (the outage).

use std::time::{Duration, Instant};

/// A gap between replies longer than this breaks "steady" (five echo intervals).
pub const STEADY_GAP: Duration = Duration::from_millis(50);

/// Send and reply times of the observer's echoes (index = sequence number).
#[derive(Debug, Default)]
pub struct Record {
    /// When each echo was sent.
    pub sent: Vec<Instant>,
    /// When its reply came, if it did.
    pub replied: Vec<Option<Instant>>,
}

impl Record {
    /// Reply times in order.
    fn replies(&self) -> Vec<Instant> {
        let mut r: Vec<Instant> = self.replied.iter().flatten().copied().collect();
        r.sort();
        r
    }

    /// How long replies have been steady (no gap over [`STEADY_GAP`], the last one
    /// recent), counted from `since` at the earliest.
    pub fn steady_for(&self, since: Instant, now: Instant) -> Duration {
        let replies: Vec<Instant> = self.replies().into_iter().filter(|r| *r >= since).collect();
        let Some(last) = replies.last() else {
            return Duration::ZERO;
        };
        if now.duration_since(*last) > STEADY_GAP {
            return Duration::ZERO;
        }
        let mut begin = replies[0];
        for w in replies.windows(2) {
            if w[1].duration_since(w[0]) > STEADY_GAP {
                begin = w[1];
            }
        }
        last.duration_since(begin)
    }

    /// The longest gap between consecutive replies.
    pub fn longest_gap(&self) -> Duration {
        self.replies()
            .windows(2)
            .map(|w| w[1].duration_since(w[0]))
            .max()
            .unwrap_or_default()
    }

    /// The longest time the observer itself went without sending (its pace is 10 ms):
    /// a gap between replies no longer than this may be the observer's, not the
    /// network's.
    pub fn longest_send_gap(&self) -> Duration {
        self.sent
            .windows(2)
            .map(|w| w[1].duration_since(w[0]))
            .max()
            .unwrap_or_default()
    }

    /// Echoes without a reply.
    pub fn lost(&self) -> usize {
        self.replied.iter().filter(|x| x.is_none()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(replies: &[Option<u64>]) -> (Instant, Record) {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let r = Record {
            sent: (0..replies.len() as u64).map(|i| at(i * 10)).collect(),
            replied: replies.iter().map(|r| r.map(at)).collect(),
        };
        (t0, r)
    }

    #[test]
    fn the_outage_is_the_longest_gap_between_replies() {
        let (_, r) = record(&[Some(1), Some(11), None, None, Some(41), Some(51)]);
        assert_eq!(r.longest_gap(), Duration::from_millis(30));
        assert_eq!(r.lost(), 2);
        assert_eq!(r.longest_send_gap(), Duration::from_millis(10));
        let (_, none) = record(&[None, None]);
        assert_eq!(none.longest_gap(), Duration::ZERO);
    }

    #[test]
    fn steady_counts_from_the_last_long_gap() {
        let mut replies: Vec<Option<u64>> = (0..5).map(|i| Some(i * 10)).collect();
        replies.extend((0..10).map(|_| None));
        replies.extend((15..20).map(|i| Some(i * 10)));
        let (t0, r) = record(&replies);
        let now = t0 + Duration::from_millis(195);
        assert_eq!(r.steady_for(t0, now), Duration::from_millis(40));
        // Long after the last reply nothing is steady.
        assert_eq!(
            r.steady_for(t0, t0 + Duration::from_millis(400)),
            Duration::ZERO
        );
    }
}
