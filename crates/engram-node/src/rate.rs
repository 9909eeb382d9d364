//! Per-caller rate limiting: a token bucket per key (the caller's IP address until signed
//! requests identify hotkeys), refilled continuously at `per_minute` tokens a minute.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets idle this long are forgotten (they would be full anyway).
const IDLE: Duration = Duration::from_secs(120);

pub(crate) struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub(crate) fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Takes one token for `key`, or says how long until one is available.
    pub(crate) fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_sec = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 10_000 {
            buckets.retain(|_, (_, last)| now.duration_since(*last) < IDLE);
        }
        let (tokens, last) = buckets.entry(key.to_string()).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_sec).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / per_sec))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_refuses_then_refills() {
        let rl = RateLimiter::new(100);
        let t0 = Instant::now();
        for _ in 0..100 {
            assert!(rl.check("1.2.3.4", t0).is_ok());
        }
        let wait = rl.check("1.2.3.4", t0).unwrap_err();
        assert!(wait > Duration::from_millis(500) && wait <= Duration::from_secs(1));
        assert!(rl.check("5.6.7.8", t0).is_ok(), "keys are independent");
        assert!(rl.check("1.2.3.4", t0 + Duration::from_secs(1)).is_ok());
        assert!(RateLimiter::new(0).check("x", t0).is_ok());
    }
}
