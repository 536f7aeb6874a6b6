//! The timing loop shared by every measurement.

use std::time::{Duration, Instant};

use crate::Result;

/// How many times an operation ran and for how long.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    /// Completed operations.
    pub iterations: u64,
    /// Wall-clock time they took.
    pub elapsed: Duration,
}

impl Sample {
    /// Operations per second.
    pub fn per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.iterations as f64 / secs
        } else {
            0.0
        }
    }

    /// Mean time of one operation in milliseconds.
    pub fn mean_millis(&self) -> f64 {
        if self.iterations == 0 {
            return 0.0;
        }
        self.elapsed.as_secs_f64() * 1000.0 / self.iterations as f64
    }
}

/// Run `op` repeatedly for at least `duration` (and at least `min_iterations` times),
/// after a short warm-up, and count the completed runs.
///
/// The clock is read after every run; for the operations measured here (≥ a few
/// microseconds each) that costs well under 1 %.
pub(crate) fn run_for<F>(duration: Duration, min_iterations: u64, mut op: F) -> Result<Sample>
where
    F: FnMut() -> Result<()>,
{
    // Warm-up: caches, branch predictors, lazily built tables, CPU frequency.
    let warm_until = Instant::now() + duration / 20;
    op()?;
    while Instant::now() < warm_until {
        op()?;
    }

    let start = Instant::now();
    let mut iterations = 0u64;
    loop {
        op()?;
        iterations += 1;
        let elapsed = start.elapsed();
        if elapsed >= duration && iterations >= min_iterations {
            return Ok(Sample {
                iterations,
                elapsed,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_at_least_the_duration_and_the_minimum_count() {
        let mut calls = 0u64;
        let sample = run_for(Duration::from_millis(20), 3, || {
            calls += 1;
            std::thread::sleep(Duration::from_millis(2));
            Ok(())
        })
        .unwrap();
        assert!(sample.elapsed >= Duration::from_millis(20));
        assert!(sample.iterations >= 3);
        // Warm-up calls are not counted.
        assert!(calls > sample.iterations);
        // Every run sleeps 2 ms, so no more than 500 runs fit in a second.
        let rate = sample.per_second();
        assert!(rate > 0.0 && rate <= 500.0, "rate {rate}");
    }

    #[test]
    fn an_error_stops_the_measurement() {
        let result = run_for(Duration::from_secs(10), 1, || {
            Err(crate::BenchError::InvalidOption("boom".into()))
        });
        assert!(matches!(result, Err(crate::BenchError::InvalidOption(_))));
    }
}
