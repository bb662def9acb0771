//! [`Dispatch`]: a compute pipeline, its bound buffers and its grid, planned once, recorded often.

use super::{Engine, Tensor};
use crate::Result;

/// Most workgroups one dispatch dimension may have under WebGPU's default limits.
pub const MAX_WORKGROUPS_PER_DIM: u32 = 65_535;

/// One kernel launch with everything bound; recording it allocates nothing.
#[derive(Debug, Clone)]
pub struct Dispatch {
    label: &'static str,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    workgroups: [u32; 3],
    /// Keeps the bound tensors on loan: a pooled buffer must not be handed out again while a
    /// planned dispatch can still write it.
    _bound: Vec<Tensor>,
}

impl Dispatch {
    /// Binds `uniform` at binding 0 and `tensors` at bindings 1, 2, ... of group 0.
    pub fn new(
        engine: &Engine,
        label: &'static str,
        pipeline: wgpu::ComputePipeline,
        uniform: &wgpu::Buffer,
        tensors: &[&Tensor],
        workgroups: [u32; 3],
    ) -> Self {
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        entries.extend(
            tensors
                .iter()
                .enumerate()
                .map(|(i, t)| wgpu::BindGroupEntry {
                    binding: i as u32 + 1,
                    resource: t.binding(),
                }),
        );
        let bind_group = engine
            .device()
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
        Self {
            label,
            pipeline,
            bind_group,
            workgroups,
            _bound: tensors.iter().map(|&t| t.clone()).collect(),
        }
    }

    /// The kernel's name, for logs and timings.
    pub fn label(&self) -> &'static str {
        self.label
    }

    /// The workgroup grid.
    pub fn workgroups(&self) -> [u32; 3] {
        self.workgroups
    }

    /// Records the dispatch into an open compute pass.
    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        if self.workgroups.contains(&0) {
            return;
        }
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }
}

/// A 1-D grid of `groups` workgroups, folded into two dimensions past 65535.
///
/// Kernels unfold it as `wid.x + wid.y * num_workgroups.x`; the overhang is masked by the
/// kernel's bounds check.
pub fn grid_1d(groups: u32) -> [u32; 3] {
    if groups <= MAX_WORKGROUPS_PER_DIM {
        [groups, 1, 1]
    } else {
        let y = groups.div_ceil(MAX_WORKGROUPS_PER_DIM);
        [groups.div_ceil(y), y, 1]
    }
}

/// Workgroups needed to cover `n` items at `per_group` items each.
pub fn groups_for(n: usize, per_group: usize) -> u32 {
    n.div_ceil(per_group) as u32
}

impl Engine {
    /// Records `dispatches`, in order, into one compute pass of `encoder`.
    ///
    /// wgpu orders dispatches in a pass: each sees what the ones before it wrote.
    pub fn record(&self, encoder: &mut wgpu::CommandEncoder, dispatches: &[&Dispatch]) {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("remul"),
            timestamp_writes: None,
        });
        for d in dispatches {
            d.record(&mut pass);
        }
        self.counters().dispatch(dispatches.len() as u64);
    }

    /// Records `dispatches` into one command buffer and submits it.
    pub fn run(&self, dispatches: &[&Dispatch]) -> Result<()> {
        let mut encoder = self.encoder("remul run");
        self.record(&mut encoder, dispatches);
        self.submit(encoder)?;
        Ok(())
    }
}
