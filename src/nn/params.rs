//! [`ParamStore`]: every trainable tensor of a model as a view into one flat buffer, with a
//! gradient buffer of the same layout, so one optimizer dispatch updates them all.

use crate::{Engine, Result, Tensor};

/// Floats between parameter starts: 256 bytes, WebGPU's storage-buffer offset alignment.
const ALIGN_FLOATS: usize = 64;

/// Handle to one parameter tensor in a [`ParamStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParamId(usize);

impl ParamId {
    /// Position in declaration order, as in [`ParamStore::read_values`]'s result.
    pub fn index(self) -> usize {
        self.0
    }
}

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    shape: Vec<usize>,
    offset: usize,
    init: Vec<f32>,
}

/// Collects parameter shapes and initial values before anything is allocated on the GPU.
#[derive(Debug, Default)]
pub struct ParamBuilder {
    entries: Vec<Entry>,
    len: usize,
}

impl ParamBuilder {
    /// Declares a parameter named `name` of `shape` with initial values `init`.
    pub fn add(&mut self, name: impl Into<String>, shape: &[usize], init: Vec<f32>) -> ParamId {
        assert_eq!(
            init.len(),
            shape.iter().product::<usize>(),
            "init length for {shape:?}"
        );
        let offset = self.len.next_multiple_of(ALIGN_FLOATS);
        self.len = offset + init.len();
        self.entries.push(Entry {
            name: name.into(),
            shape: shape.to_vec(),
            offset,
            init,
        });
        ParamId(self.entries.len() - 1)
    }

    /// Allocates the flat value and gradient buffers and uploads the initial values.
    pub fn build(self, engine: &Engine) -> Result<ParamStore> {
        let len = self.len.max(1);
        let mut flat = vec![0.0f32; len];
        for e in &self.entries {
            flat[e.offset..e.offset + e.init.len()].copy_from_slice(&e.init);
        }
        let values = engine.tensor(&flat, &[len])?;
        let grads = engine.zeros(&[len]);
        let entries = self
            .entries
            .into_iter()
            .map(|mut e| {
                e.init = Vec::new();
                e
            })
            .collect();
        Ok(ParamStore {
            values,
            grads,
            entries,
        })
    }
}

/// One parameter (or its gradient) copied to the host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostParam {
    /// Parameter name, e.g. `mlp.0.weight`.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub data: Vec<f32>,
}

/// The trainable parameters of one model and their gradients, on the GPU.
#[derive(Debug, Clone)]
pub struct ParamStore {
    values: Tensor,
    grads: Tensor,
    entries: Vec<Entry>,
}

impl ParamStore {
    /// The value of parameter `id`, as a view of its shape.
    pub fn value(&self, id: ParamId) -> Tensor {
        let e = &self.entries[id.0];
        self.values.view(e.offset, &e.shape)
    }

    /// The gradient of parameter `id`, as a view of its shape.
    pub fn grad(&self, id: ParamId) -> Tensor {
        let e = &self.entries[id.0];
        self.grads.view(e.offset, &e.shape)
    }

    /// All values, flat (padding between parameters included).
    pub fn flat_values(&self) -> &Tensor {
        &self.values
    }

    /// All gradients, flat, in the same layout as [`ParamStore::flat_values`].
    pub fn flat_grads(&self) -> &Tensor {
        &self.grads
    }

    /// Parameter ids in declaration order.
    pub fn ids(&self) -> impl Iterator<Item = ParamId> {
        (0..self.entries.len()).map(ParamId)
    }

    /// Name of parameter `id`.
    pub fn name(&self, id: ParamId) -> &str {
        &self.entries[id.0].name
    }

    /// Shape of parameter `id`.
    pub fn shape(&self, id: ParamId) -> &[usize] {
        &self.entries[id.0].shape
    }

    /// Trainable numbers, padding excluded.
    pub fn count(&self) -> usize {
        self.entries
            .iter()
            .map(|e| e.shape.iter().product::<usize>())
            .sum()
    }

    /// Reads every parameter's values back (a blocking readback), in declaration order.
    pub fn read_values(&self, engine: &Engine) -> Result<Vec<HostParam>> {
        self.read_split(engine, &self.values)
    }

    /// Reads every parameter's gradient back (a blocking readback), in declaration order.
    pub fn read_grads(&self, engine: &Engine) -> Result<Vec<HostParam>> {
        self.read_split(engine, &self.grads)
    }

    fn read_split(&self, engine: &Engine, flat: &Tensor) -> Result<Vec<HostParam>> {
        let all = engine.read(flat)?;
        Ok(self
            .entries
            .iter()
            .map(|e| {
                let n: usize = e.shape.iter().product();
                HostParam {
                    name: e.name.clone(),
                    shape: e.shape.clone(),
                    data: all[e.offset..e.offset + n].to_vec(),
                }
            })
            .collect())
    }

    /// Overwrites parameter `id` with `data` (before the next submit).
    pub fn write(&self, engine: &Engine, id: ParamId, data: &[f32]) -> Result<()> {
        engine.write(&self.value(id), data)
    }
}
