//! Checkpoints: named f32 tensors and string metadata in one safetensors file, written
//! atomically (a temporary file in the same folder, flushed, then renamed over the target) so
//! that a run killed mid-write never leaves a truncated checkpoint behind.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use crate::{Error, Result};

/// Tensors by name, and metadata, as read from or written to a checkpoint file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checkpoint {
    /// Name -> (shape, values).
    pub tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    /// Free-form string metadata (counters, the resolved config as JSON, ...).
    pub metadata: HashMap<String, String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn bad(path: &Path, detail: impl Into<String>) -> Error {
    Error::Checkpoint {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

impl Checkpoint {
    /// Adds a tensor.
    pub fn insert(&mut self, name: impl Into<String>, shape: &[usize], values: Vec<f32>) {
        self.tensors.insert(name.into(), (shape.to_vec(), values));
    }

    /// The values of tensor `name`, checked against `shape`; errors name the file.
    pub fn get(&self, path: &Path, name: &str, shape: &[usize]) -> Result<&[f32]> {
        match self.tensors.get(name) {
            None => Err(bad(path, format!("has no tensor named {name:?}"))),
            Some((s, _)) if s != shape => Err(bad(
                path,
                format!("tensor {name:?} has shape {s:?}, the model needs {shape:?}"),
            )),
            Some((_, v)) => Ok(v),
        }
    }

    /// A metadata value, or an error naming the missing key.
    pub fn meta(&self, path: &Path, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| bad(path, format!("has no metadata entry {key:?}")))
    }

    /// Writes the checkpoint to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes: Vec<Vec<u8>> = self
            .tensors
            .values()
            .map(|(_, v)| bytemuck::cast_slice::<f32, u8>(v).to_vec())
            .collect();
        let views = self
            .tensors
            .iter()
            .zip(&bytes)
            .map(|((name, (shape, _)), b)| {
                TensorView::new(Dtype::F32, shape.clone(), b)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| bad(path, format!("tensor {name:?}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let data = safetensors::serialize(views, Some(self.metadata.clone()))
            .map_err(|e| bad(path, e.to_string()))?;
        write_atomic(path, &data)
    }

    /// Reads a checkpoint written by [`Checkpoint::save`] (or any safetensors file of f32
    /// tensors).
    pub fn load(path: &Path) -> Result<Self> {
        let data = std::fs::read(path).map_err(io(path))?;
        let st = SafeTensors::deserialize(&data)
            .map_err(|e| bad(path, format!("not a readable safetensors file: {e}")))?;
        let (_, meta) = SafeTensors::read_metadata(&data)
            .map_err(|e| bad(path, format!("unreadable header: {e}")))?;
        let mut out = Checkpoint {
            metadata: meta.metadata().clone().unwrap_or_default(),
            ..Default::default()
        };
        for (name, view) in st.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(bad(
                    path,
                    format!("tensor {name:?} is {:?}, expected F32", view.dtype()),
                ));
            }
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            out.insert(name, view.shape(), values);
        }
        Ok(out)
    }
}

/// Writes `data` to a temporary file beside `path`, flushes it to disk, and renames it over
/// `path`: readers see the old file or the new one, never a part.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(data).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, path).map_err(io(path))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}
