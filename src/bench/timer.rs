//! Timing of recorded dispatches: GPU timestamp queries where the device has them, wall clock
//! around a waited submit otherwise. Warm-up runs are excluded and the median is reported.

use std::time::Instant;

use crate::gpu::{Dispatch, Engine};
use crate::{Error, Result};

/// How a figure was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// GPU timestamps at the start and end of one compute pass.
    Timestamps,
    /// Host time around a submit and a wait for it.
    WallClock,
}

/// How long to measure.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Each measurement repeats the dispatches until it lasts at least this long (seconds).
    pub min_seconds: f64,
    /// Measurements whose median is reported.
    pub repeats: usize,
    /// At most this many repetitions in one measurement.
    pub max_reps: usize,
}

impl Budget {
    /// The suite's defaults: 20 ms measurements, 5 of them.
    pub fn standard() -> Self {
        Self {
            min_seconds: 0.02,
            repeats: 5,
            max_reps: 1000,
        }
    }

    /// A smoke-test budget: 2 ms measurements, 2 of them.
    pub fn quick() -> Self {
        Self {
            min_seconds: 0.002,
            repeats: 2,
            max_reps: 20,
        }
    }
}

/// Times dispatch sequences on one engine.
#[derive(Debug)]
pub struct Timer {
    engine: Engine,
    queries: Option<(wgpu::QuerySet, wgpu::Buffer, wgpu::Buffer)>,
}

impl Timer {
    /// Uses timestamp queries when the device was created with them.
    pub fn new(engine: &Engine) -> Self {
        let device = engine.device();
        let queries = device
            .features()
            .contains(wgpu::Features::TIMESTAMP_QUERY)
            .then(|| {
                let set = device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("remul bench timestamps"),
                    ty: wgpu::QueryType::Timestamp,
                    count: 2,
                });
                let resolve = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("remul bench resolve"),
                    size: 16,
                    usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                });
                let staging = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("remul bench staging"),
                    size: 16,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                (set, resolve, staging)
            });
        Self {
            engine: engine.clone(),
            queries,
        }
    }

    /// The method [`Timer::seconds`] uses.
    pub fn method(&self) -> Method {
        if self.queries.is_some() {
            Method::Timestamps
        } else {
            Method::WallClock
        }
    }

    /// Seconds for `reps` back-to-back runs of `dispatches` in one pass.
    fn once(&self, dispatches: &[&Dispatch], reps: usize) -> Result<f64> {
        let mut encoder = self.engine.encoder("remul bench");
        let writes = self
            .queries
            .as_ref()
            .map(|(set, _, _)| wgpu::ComputePassTimestampWrites {
                query_set: set,
                beginning_of_pass_write_index: Some(0),
                end_of_pass_write_index: Some(1),
            });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("remul bench"),
                timestamp_writes: writes,
            });
            for _ in 0..reps {
                for d in dispatches {
                    d.record(&mut pass);
                }
            }
        }
        if let Some((set, resolve, staging)) = &self.queries {
            encoder.resolve_query_set(set, 0..2, resolve, 0);
            encoder.copy_buffer_to_buffer(resolve, 0, staging, 0, 16);
        }
        let start = Instant::now();
        self.engine.submit(encoder)?;
        self.engine.wait()?;
        let wall = start.elapsed().as_secs_f64();
        let Some((_, _, staging)) = &self.queries else {
            return Ok(wall);
        };
        let words = self.engine.map_and_read(staging, 16)?;
        let ticks: Vec<u64> = words
            .chunks(2)
            .map(|w| u64::from(w[0].to_bits()) | (u64::from(w[1].to_bits()) << 32))
            .collect();
        let period = f64::from(self.engine.queue().get_timestamp_period());
        if ticks[1] <= ticks[0] {
            return Err(Error::Gpu {
                context: "benchmark timestamps".into(),
                message: format!("end {} is not after start {}", ticks[1], ticks[0]),
            });
        }
        Ok((ticks[1] - ticks[0]) as f64 * period * 1e-9)
    }

    /// Median seconds for one run of `dispatches`, after a warm-up run.
    pub fn seconds(&self, dispatches: &[&Dispatch], budget: Budget) -> Result<f64> {
        let first = self.once(dispatches, 1)?;
        let reps =
            ((budget.min_seconds / first.max(1e-9)).ceil() as usize).clamp(1, budget.max_reps);
        let mut times: Vec<f64> = (0..budget.repeats.max(1))
            .map(|_| self.once(dispatches, reps).map(|t| t / reps as f64))
            .collect::<Result<_>>()?;
        Ok(median(&mut times))
    }
}

/// Median of `v` (sorted in place); 0 for an empty slice.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}
