//! Reading and writing numpy `.npy` files of floating-point arrays.
//!
//! Reads format versions 1.0, 2.0 and 3.0, C order, dtype `'<f8'` (little-endian float64)
//! or `'<f4'` (little-endian float32, widened to f64 on reading). Everything else (big-endian,
//! integers, Fortran order, object arrays) is rejected with a [`DataError`] naming the file.
//! Writes version 1.0, `'<f8'`, C order, header padded to a multiple of 64 bytes, exactly as
//! `numpy.save` does. Not a general `.npy` library: no `.npz`, no structured dtypes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::DataError;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Headers longer than this are refused before anything is allocated for them: a corrupt
/// length field could otherwise ask for gigabytes. numpy's own `np.load` refuses headers
/// above 10 000 bytes by default.
const MAX_HEADER_LEN: usize = 1 << 16;

/// The element type of a `.npy` file that remul reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NpyDtype {
    /// `'<f8'`: little-endian IEEE float64.
    F64,
    /// `'<f4'`: little-endian IEEE float32.
    F32,
}

impl NpyDtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            NpyDtype::F64 => 8,
            NpyDtype::F32 => 4,
        }
    }
}

/// What a `.npy` header says about the array that follows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyHeader {
    /// Array shape, outermost first.
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: NpyDtype,
    /// Byte offset of the first data byte.
    pub data_offset: usize,
}

impl NpyHeader {
    /// Number of elements (product of the shape; 1 for a 0-d array).
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the array holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A float array read from a `.npy` file, values widened to f64, in C order.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// Array shape, outermost first.
    pub shape: Vec<usize>,
    /// Values in C (row-major) order; `data.len()` is the product of `shape`.
    pub data: Vec<f64>,
}

fn bad(path: &Path, reason: impl Into<String>) -> DataError {
    DataError::BadNpy {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Parses the header of `.npy` bytes (`bytes` needs to hold at least the whole header).
pub fn parse_header(bytes: &[u8], path: &Path) -> Result<NpyHeader, DataError> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad(path, "missing the \\x93NUMPY magic string"));
    }
    let major = bytes[6];
    let (len_bytes, header_start) = match major {
        1 => (2usize, 10usize),
        2 | 3 => (4, 12),
        other => {
            return Err(bad(
                path,
                format!("format version {other}.{} is not 1, 2 or 3", bytes[7]),
            ))
        }
    };
    if bytes.len() < header_start {
        return Err(bad(path, "file ends inside the header"));
    }
    let mut header_len = 0usize;
    for (k, b) in bytes[8..8 + len_bytes].iter().enumerate() {
        header_len |= (*b as usize) << (8 * k);
    }
    if header_len > MAX_HEADER_LEN {
        return Err(bad(
            path,
            format!("header length {header_len} is over the {MAX_HEADER_LEN}-byte limit"),
        ));
    }
    let data_offset = header_start + header_len;
    if bytes.len() < data_offset {
        return Err(bad(
            path,
            format!(
                "file ends inside the header ({} of {data_offset} header bytes present)",
                bytes.len()
            ),
        ));
    }
    let text = std::str::from_utf8(&bytes[header_start..data_offset])
        .map_err(|_| bad(path, "header is not valid text"))?;
    let dict = parse_dict(text).map_err(|reason| bad(path, format!("{reason} in {text:?}")))?;

    let descr = dict
        .descr
        .ok_or_else(|| bad(path, "header has no 'descr' key"))?;
    let dtype = match descr.as_str() {
        "<f8" => NpyDtype::F64,
        "<f4" => NpyDtype::F32,
        _ => {
            return Err(DataError::UnsupportedDtype {
                path: path.to_path_buf(),
                descr,
            })
        }
    };
    match dict.fortran_order {
        Some(false) => {}
        Some(true) => {
            return Err(DataError::FortranOrder {
                path: path.to_path_buf(),
            })
        }
        None => return Err(bad(path, "header has no 'fortran_order' key")),
    }
    let shape = dict
        .shape
        .ok_or_else(|| bad(path, "header has no 'shape' key"))?;
    Ok(NpyHeader {
        shape,
        dtype,
        data_offset,
    })
}

#[derive(Default)]
struct HeaderDict {
    descr: Option<String>,
    fortran_order: Option<bool>,
    shape: Option<Vec<usize>>,
}

/// Parses the Python dict literal of a `.npy` header, e.g.
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`.
fn parse_dict(text: &str) -> Result<HeaderDict, String> {
    let mut p = Cursor {
        s: text.as_bytes(),
        i: 0,
    };
    let mut dict = HeaderDict::default();
    p.expect(b'{')?;
    loop {
        p.skip_ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.skip_ws();
        p.expect(b':')?;
        p.skip_ws();
        match key.as_str() {
            "descr" => dict.descr = Some(p.string()?),
            "fortran_order" => dict.fortran_order = Some(p.boolean()?),
            "shape" => dict.shape = Some(p.tuple()?),
            other => return Err(format!("unexpected key '{other}'")),
        }
        p.skip_ws();
        if !p.eat(b',') {
            p.skip_ws();
            p.expect(b'}')?;
            break;
        }
    }
    p.skip_ws();
    if p.i != p.s.len() {
        return Err("trailing characters after the dict".into());
    }
    Ok(dict)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.skip_ws();
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.i))
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = match self.s.get(self.i) {
            Some(&q) if q == b'\'' || q == b'"' => q,
            _ => return Err(format!("expected a quoted string at byte {}", self.i)),
        };
        let start = self.i + 1;
        let len = self.s[start..]
            .iter()
            .position(|&c| c == quote)
            .ok_or("unterminated string")?;
        self.i = start + len + 1;
        Ok(String::from_utf8_lossy(&self.s[start..start + len]).into_owned())
    }

    fn boolean(&mut self) -> Result<bool, String> {
        if self.s[self.i..].starts_with(b"True") {
            self.i += 4;
            Ok(true)
        } else if self.s[self.i..].starts_with(b"False") {
            self.i += 5;
            Ok(false)
        } else {
            Err(format!("expected True or False at byte {}", self.i))
        }
    }

    fn tuple(&mut self) -> Result<Vec<usize>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(b')') {
                return Ok(dims);
            }
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
            // numpy writes `3L` in headers made by Python 2.
            let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
            let dim: usize = digits
                .parse()
                .map_err(|_| format!("expected a dimension at byte {start}"))?;
            self.eat(b'L');
            dims.push(dim);
            self.skip_ws();
            if !self.eat(b',') {
                self.expect(b')')?;
                return Ok(dims);
            }
        }
    }
}

/// Reads only the header of a `.npy` file and checks that the file holds exactly the data
/// bytes the header promises.
pub fn read_header(path: &Path) -> Result<NpyHeader, DataError> {
    let mut file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let file_len = file.metadata().map_err(|e| DataError::io(path, e))?.len();
    let mut prefix = vec![0u8; 12];
    let got = read_up_to(&mut file, &mut prefix).map_err(|e| DataError::io(path, e))?;
    prefix.truncate(got);
    // Learn the header length, then read the whole header.
    let header_end = if prefix.len() >= 10 && &prefix[..6] == MAGIC {
        match prefix[6] {
            1 => 10 + u16::from_le_bytes([prefix[8], prefix[9]]) as usize,
            _ if prefix.len() == 12 => {
                12 + u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]) as usize
            }
            _ => prefix.len(),
        }
    } else {
        prefix.len()
    };
    // Never allocate past the file's end or the header limit; parse_header reports either.
    let header_end = header_end
        .min(file_len as usize)
        .min(12 + MAX_HEADER_LEN + 1);
    if header_end > prefix.len() {
        let mut rest = vec![0u8; header_end - prefix.len()];
        let got = read_up_to(&mut file, &mut rest).map_err(|e| DataError::io(path, e))?;
        rest.truncate(got);
        prefix.extend_from_slice(&rest);
    }
    let header = parse_header(&prefix, path)?;
    check_data_len(&header, file_len - header.data_offset as u64, path)?;
    Ok(header)
}

fn read_up_to(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

fn check_data_len(header: &NpyHeader, found: u64, path: &Path) -> Result<(), DataError> {
    let expected = header
        .shape
        .iter()
        .try_fold(header.dtype.size() as u64, |acc, &d| {
            acc.checked_mul(d as u64)
        })
        .ok_or_else(|| bad(path, format!("shape {:?} is too large", header.shape)))?;
    if expected != found {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            shape: header.shape.clone(),
            expected,
            found,
        });
    }
    Ok(())
}

/// Decodes a whole `.npy` file held in memory; `path` is only used in error messages.
pub fn parse_npy(bytes: &[u8], path: &Path) -> Result<NpyArray, DataError> {
    let header = parse_header(bytes, path)?;
    let body = &bytes[header.data_offset..];
    check_data_len(&header, body.len() as u64, path)?;
    let data = match header.dtype {
        NpyDtype::F64 => body
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("chunks of 8")))
            .collect(),
        NpyDtype::F32 => body
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("chunks of 4")) as f64)
            .collect(),
    };
    Ok(NpyArray {
        shape: header.shape,
        data,
    })
}

/// Reads a whole `.npy` file.
pub fn read_npy(path: &Path) -> Result<NpyArray, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    parse_npy(&bytes, path)
}

/// Encodes an f64 array as `.npy` version 1.0 bytes (`'<f8'`, C order).
pub fn encode_npy(shape: &[usize], data: &[f64]) -> Result<Vec<u8>, DataError> {
    let expected: usize = shape.iter().product();
    if expected != data.len() {
        return Err(DataError::Config(format!(
            "cannot write shape {shape:?} ({expected} values) from {} values",
            data.len()
        )));
    }
    let dims = match shape {
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {dims}, }}");
    // Pad with spaces so that magic + version + length + header ends on a 64-byte boundary,
    // the last byte being a newline (what numpy.save writes).
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let header_len = u16::try_from(header.len())
        .map_err(|_| DataError::Config(format!("shape {shape:?} makes too long a header")))?;

    let mut out = Vec::with_capacity(10 + header.len() + 8 * data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&header_len.to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// Writes an f64 array as a `.npy` file (version 1.0, `'<f8'`, C order). The file is written
/// under a temporary name and renamed into place, so a killed writer never leaves a
/// truncated file under the final name.
pub fn write_npy(path: &Path, shape: &[usize], data: &[f64]) -> Result<(), DataError> {
    let bytes = encode_npy(shape, data)?;
    let mut tmp = PathBuf::from(path);
    tmp.as_mut_os_string().push(".tmp");
    let mut file = std::fs::File::create(&tmp).map_err(|e| DataError::io(&tmp, e))?;
    file.write_all(&bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| DataError::io(&tmp, e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| DataError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_header_is_64_byte_aligned_and_round_trips() {
        let data: Vec<f64> = (0..24).map(|i| i as f64 * 0.5).collect();
        let bytes = encode_npy(&[2, 3, 4], &data).unwrap();
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        assert_eq!(bytes[10 + header_len - 1], b'\n');
        let back = parse_npy(&bytes, Path::new("mem.npy")).unwrap();
        assert_eq!(back.shape, vec![2, 3, 4]);
        assert_eq!(back.data, data);
    }

    #[test]
    fn one_dimensional_and_scalar_shapes_parse() {
        let d = parse_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (7,), }").unwrap();
        assert_eq!(d.shape, Some(vec![7]));
        let d =
            parse_dict("{\"shape\": (), \"fortran_order\": False, \"descr\": \"<f4\"}").unwrap();
        assert_eq!(d.shape, Some(vec![]));
        assert_eq!(d.descr.as_deref(), Some("<f4"));
    }
}
