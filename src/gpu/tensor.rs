//! A GPU tensor: an f32 (or u32 index) array of known shape in (a slice of) a pooled buffer.

use std::sync::Arc;

use super::pool::PooledBuffer;

/// An f32 tensor on the GPU, row-major, `shape` elements starting `offset` bytes into a buffer.
///
/// Cloning is cheap and shares the buffer. Views into one buffer ([`Tensor::view`]) let many
/// parameters live in one flat allocation, so one optimizer dispatch updates them all.
#[derive(Debug, Clone)]
pub struct Tensor {
    storage: Arc<PooledBuffer>,
    offset: u64,
    shape: Vec<usize>,
    dtype: DType,
}

/// Element type of a [`Tensor`]: values are f32, graph indices u32; both are 4 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// 32-bit float.
    F32,
    /// 32-bit unsigned index.
    U32,
}

impl Tensor {
    pub(crate) fn new(storage: PooledBuffer, shape: &[usize], dtype: DType) -> Self {
        Self {
            storage: Arc::new(storage),
            offset: 0,
            shape: shape.to_vec(),
            dtype,
        }
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape, outermost dimension first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Size of the elements in bytes.
    pub fn byte_len(&self) -> u64 {
        self.len() as u64 * 4
    }

    /// Byte offset of the first element in [`Tensor::buffer`].
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The wgpu buffer holding the elements.
    pub fn buffer(&self) -> &wgpu::Buffer {
        self.storage.buffer()
    }

    /// Rows and columns when read as a matrix: the last dimension is the columns.
    pub fn rows_cols(&self) -> (usize, usize) {
        match self.shape.as_slice() {
            [] => (1, 1),
            [n] => (1, *n),
            [.., c] => (self.len() / c.max(&1), *c),
        }
    }

    /// The same elements under another shape with as many elements.
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        assert_eq!(
            shape.iter().product::<usize>(),
            self.len(),
            "reshape {:?} -> {shape:?} changes the element count",
            self.shape
        );
        Tensor {
            storage: self.storage.clone(),
            offset: self.offset,
            shape: shape.to_vec(),
            dtype: self.dtype,
        }
    }

    /// A view of `shape` starting `elem_offset` elements into this tensor.
    ///
    /// Kernels bind views at their byte offset, so `elem_offset * 4` must be a multiple of 256
    /// (WebGPU's storage offset alignment) for a view that is bound on its own.
    pub fn view(&self, elem_offset: usize, shape: &[usize]) -> Tensor {
        let len: usize = shape.iter().product();
        assert!(
            elem_offset + len <= self.len(),
            "view of {len} elements at {elem_offset} runs past a tensor of {}",
            self.len()
        );
        Tensor {
            storage: self.storage.clone(),
            offset: self.offset + elem_offset as u64 * 4,
            shape: shape.to_vec(),
            dtype: self.dtype,
        }
    }

    /// The binding resource for this tensor's elements.
    pub fn binding(&self) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: self.buffer(),
            offset: self.offset,
            size: std::num::NonZeroU64::new(self.byte_len().max(4)),
        })
    }
}
