//! Medians and percentiles over samples.

use std::time::Duration;

/// Sorted samples.
#[derive(Debug, Clone)]
pub struct Samples(Vec<f64>);

impl Samples {
    pub fn new(mut values: Vec<f64>) -> Samples {
        values.retain(|v| v.is_finite());
        values.sort_by(|a, b| a.total_cmp(b));
        Samples(values)
    }

    pub fn from_durations(d: &[Duration]) -> Samples {
        Samples::new(d.iter().map(|d| d.as_secs_f64() * 1000.0).collect())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `p`-th percentile (0–100), nearest rank.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    pub fn median(&self) -> f64 {
        self.percentile(50.0)
    }

    pub fn max(&self) -> f64 {
        self.0.last().copied().unwrap_or(f64::NAN)
    }
}

/// Runs `f` `n` times and returns the median of its results.
pub fn median_of(n: usize, mut f: impl FnMut() -> f64) -> f64 {
    Samples::new((0..n).map(|_| f()).collect()).median()
}

/// Runs `f` `n` times and returns the median of its results (stops at the first error).
pub async fn median_of_async<F, Fut>(n: usize, mut f: F) -> anyhow::Result<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<f64>>,
{
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        values.push(f().await?);
    }
    Ok(Samples::new(values).median())
}

#[cfg(test)]
mod tests {
    use super::Samples;

    #[test]
    fn percentiles_by_nearest_rank() {
        let s = Samples::new((1..=100).map(f64::from).collect());
        assert_eq!(
            (s.median(), s.percentile(99.0), s.max()),
            (50.0, 99.0, 100.0)
        );
        let s = Samples::new(vec![3.0, 1.0, 2.0, f64::NAN]);
        assert_eq!((s.len(), s.median()), (3, 2.0));
        assert!(Samples::new(vec![]).median().is_nan());
    }
}
