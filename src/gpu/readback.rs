//! [`ReadbackRing`]: small values (a step's losses) copied back to the host without ever
//! waiting for the GPU: each copy lands in a staging buffer of a fixed ring, is mapped
//! asynchronously, and is picked up by a later non-blocking poll.
//!
//! A slot is busy from the copy until its value is taken; when every slot is busy the copy is
//! skipped (the reader just sees an older value), so the host never stalls the GPU queue.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use super::{Engine, Tensor};
use crate::{Error, Result};

const FREE: u8 = 0;
const RECORDED: u8 = 1;
const MAPPING: u8 = 2;
const READY: u8 = 3;
const FAILED: u8 = 4;

#[derive(Debug)]
struct Slot {
    buffer: wgpu::Buffer,
    state: Arc<AtomicU8>,
    tag: u64,
}

/// A ring of staging buffers of `bytes` each, allocated once.
#[derive(Debug)]
pub struct ReadbackRing {
    slots: Vec<Slot>,
    bytes: u64,
}

impl ReadbackRing {
    /// `slots` staging buffers of `bytes` each (a multiple of 4).
    pub fn new(engine: &Engine, slots: usize, bytes: u64) -> Self {
        let slots = (0..slots.max(1))
            .map(|_| {
                engine.counters().buffer_allocation();
                Slot {
                    buffer: engine.device().create_buffer(&wgpu::BufferDescriptor {
                        label: Some("remul readback ring"),
                        size: bytes.max(4),
                        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                        mapped_at_creation: false,
                    }),
                    state: Arc::new(AtomicU8::new(FREE)),
                    tag: 0,
                }
            })
            .collect();
        Self { slots, bytes }
    }

    /// Records a copy of `src` (exactly `bytes` long) into a free slot, labelled `tag`;
    /// returns whether a slot was free. Call [`ReadbackRing::after_submit`] once the encoder
    /// has been submitted.
    pub fn record_copy(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        src: &Tensor,
        tag: u64,
    ) -> bool {
        debug_assert_eq!(src.byte_len(), self.bytes, "readback ring slot size");
        let Some(slot) = self
            .slots
            .iter_mut()
            .find(|s| s.state.load(Ordering::Acquire) == FREE)
        else {
            return false;
        };
        encoder.copy_buffer_to_buffer(src.buffer(), src.offset(), &slot.buffer, 0, self.bytes);
        slot.state.store(RECORDED, Ordering::Release);
        slot.tag = tag;
        true
    }

    /// Starts mapping every slot whose copy was just submitted.
    pub fn after_submit(&mut self) {
        for slot in &self.slots {
            if slot.state.load(Ordering::Acquire) != RECORDED {
                continue;
            }
            slot.state.store(MAPPING, Ordering::Release);
            let state = slot.state.clone();
            slot.buffer
                .map_async(wgpu::MapMode::Read, 0..self.bytes, move |r| {
                    state.store(if r.is_ok() { READY } else { FAILED }, Ordering::Release);
                });
        }
    }

    /// Polls the device without blocking and returns the newest value that has arrived (by
    /// tag), freeing every slot that was ready.
    pub fn poll(&mut self, engine: &Engine) -> Result<Option<(u64, Vec<f32>)>> {
        engine
            .device()
            .poll(wgpu::PollType::Poll)
            .map_err(|e| Error::Gpu {
                context: "polling the readback ring".into(),
                message: e.to_string(),
            })?;
        let mut newest: Option<(u64, Vec<f32>)> = None;
        for slot in &mut self.slots {
            match slot.state.load(Ordering::Acquire) {
                READY => {
                    let values = {
                        let view = slot
                            .buffer
                            .get_mapped_range(0..self.bytes)
                            .map_err(|e| Error::Readback(e.to_string()))?;
                        bytemuck::cast_slice::<u8, f32>(&view).to_vec()
                    };
                    slot.buffer.unmap();
                    slot.state.store(FREE, Ordering::Release);
                    if newest.as_ref().is_none_or(|(t, _)| slot.tag > *t) {
                        newest = Some((slot.tag, values));
                    }
                }
                FAILED => {
                    slot.state.store(FREE, Ordering::Release);
                    return Err(Error::Readback(
                        "mapping a readback ring slot failed".into(),
                    ));
                }
                _ => {}
            }
        }
        Ok(newest)
    }
}
