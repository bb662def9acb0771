//! Reading `.npy` files written by another program (headers written byte by byte here, not
//! with remul's writer), and the error for each kind of bad input.

mod common;

use std::path::Path;

use common::scratch;
use remul::data::npy::{read_header, read_npy};
use remul::data::{ChargedDataset, DataError, Dataset, LoaderConfig, Split};

/// `.npy` bytes: magic, version, little-endian header length, the dict padded with spaces
/// and a newline to a multiple of 64 bytes, then `body`.
fn npy_bytes(major: u8, dict: &str, body: &[u8]) -> Vec<u8> {
    let prefix = if major == 1 { 10 } else { 12 };
    let mut header = dict.as_bytes().to_vec();
    while !(prefix + header.len() + 1).is_multiple_of(64) {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[major, 0]);
    if major == 1 {
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(&header);
    out.extend_from_slice(body);
    out
}

fn f8_body(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn dict(descr: &str, shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let dims = if shape.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}")
}

fn write_f8(path: &Path, shape: &[usize], values: &[f64]) {
    assert_eq!(shape.iter().product::<usize>(), values.len());
    std::fs::write(path, npy_bytes(1, &dict("<f8", shape), &f8_body(values))).unwrap();
}

#[test]
fn version_1_2_and_3_headers_with_f8_and_f4_read_the_same_values() {
    let dir = scratch("npy-versions");
    let values = [1.5, -2.0, 0.25, 3.0, 4.5, -6.0];
    let f4: Vec<u8> = values
        .iter()
        .flat_map(|&v| (v as f32).to_le_bytes())
        .collect();
    let cases = [
        (1, "<f8", f8_body(&values)),
        (2, "<f8", f8_body(&values)),
        (3, "<f8", f8_body(&values)),
        (1, "<f4", f4),
    ];
    for (major, descr, body) in cases {
        let path = dir.join(format!("v{major}{}.npy", &descr[1..]));
        std::fs::write(&path, npy_bytes(major, &dict(descr, &[2, 3]), &body)).unwrap();
        let array = read_npy(&path).unwrap();
        assert_eq!(array.shape, vec![2, 3], "{}", path.display());
        // Every value is a short binary fraction, exact in float32 too.
        assert_eq!(array.data, values, "{}", path.display());
    }
}

#[test]
fn header_keys_in_any_order_with_double_quotes_parse() {
    let dir = scratch("npy-key-order");
    let path = dir.join("a.npy");
    let dict = "{\"shape\": (4,), \"fortran_order\": False, \"descr\": \"<f8\"}";
    std::fs::write(&path, npy_bytes(1, dict, &f8_body(&[1.0, 2.0, 3.0, 4.0]))).unwrap();
    assert_eq!(read_npy(&path).unwrap().data, vec![1.0, 2.0, 3.0, 4.0]);
}

/// A tiny charged split written by hand: 2 samples, 3 frames, 2 particles. Value at
/// `loc[s, f, d, p]` is `100 s + 10 f + d + p / 10`; velocities are the negatives.
fn write_charged_fixture(dir: &Path, split: &str) {
    let (s_n, f_n, p_n) = (2, 3, 2);
    let mut loc = Vec::new();
    for s in 0..s_n {
        for f in 0..f_n {
            for d in 0..3 {
                for p in 0..p_n {
                    loc.push(100.0 * s as f64 + 10.0 * f as f64 + d as f64 + p as f64 / 10.0);
                }
            }
        }
    }
    let vel: Vec<f64> = loc.iter().map(|v| -v).collect();
    let charges = [1.0, -1.0, 1.0, 1.0];
    let edges = [1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    let name = |field: &str| dir.join(format!("{field}_{split}_fx.npy"));
    write_f8(&name("loc"), &[s_n, f_n, 3, p_n], &loc);
    write_f8(&name("vel"), &[s_n, f_n, 3, p_n], &vel);
    write_f8(&name("charges"), &[s_n, p_n, 1], &charges);
    write_f8(&name("edges"), &[s_n, p_n, p_n], &edges);
}

fn fixture_config() -> LoaderConfig {
    LoaderConfig {
        suffix: "fx".into(),
        input_frame: 1,
        target_frame: 2,
        ..LoaderConfig::default()
    }
}

#[test]
fn charged_files_written_by_hand_load_into_the_expected_graphs() {
    let dir = scratch("charged-fixture");
    write_charged_fixture(&dir, "test");
    let data = ChargedDataset::load(&dir, Split::Test, &fixture_config()).unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data.particles(), 2);

    let g = data.graph(1).unwrap();
    // Node p of sample 1 at frame 1: (110 + p/10, 111 + p/10, 112 + p/10).
    assert_eq!(g.positions, &[110.0, 111.0, 112.0, 110.1, 111.1, 112.1]);
    assert_eq!(g.velocities[3], -110.1);
    assert_eq!(g.targets[0], 120.0);
    let speed = (110.0f64.powi(2) + 111.0f64.powi(2) + 112.0f64.powi(2)).sqrt();
    assert_eq!(g.node_scalars[0], speed);
    // Two ordered pairs, sorted by destination: 1 -> 0, then 0 -> 1.
    assert_eq!((g.src, g.dst), (&[1u32, 0][..], &[0u32, 1][..]));
    assert_eq!(g.edge_scalars, &[1.0, 1.0]);
    assert_eq!(data.graph(0).unwrap().edge_scalars, &[-1.0, -1.0]);
    assert_eq!(data.charges(0), Some(&[1.0, -1.0][..]));
}

#[test]
fn train_split_is_capped_by_max_train() {
    let dir = scratch("charged-max-train");
    write_charged_fixture(&dir, "train");
    let config = LoaderConfig {
        max_train: Some(1),
        ..fixture_config()
    };
    let data = ChargedDataset::load(&dir, Split::Train, &config).unwrap();
    assert_eq!(data.len(), 1);
}

fn load_err(dir: &Path) -> String {
    let err = ChargedDataset::load(dir, Split::Test, &fixture_config()).unwrap_err();
    err.to_string()
}

#[test]
fn missing_split_file_names_the_file_and_split() {
    let dir = scratch("bad-missing");
    write_charged_fixture(&dir, "test");
    std::fs::remove_file(dir.join("edges_test_fx.npy")).unwrap();
    let msg = load_err(&dir);
    assert!(msg.contains("missing file"), "{msg}");
    assert!(msg.contains("edges_test_fx.npy"), "{msg}");
    assert!(msg.contains("test split"), "{msg}");
}

#[test]
fn wrong_dtype_names_the_file_and_the_dtype() {
    let dir = scratch("bad-dtype");
    write_charged_fixture(&dir, "test");
    let body: Vec<u8> = (0..4i64).flat_map(|v| v.to_le_bytes()).collect();
    let path = dir.join("charges_test_fx.npy");
    std::fs::write(&path, npy_bytes(1, &dict("<i8", &[2, 2, 1]), &body)).unwrap();
    let msg = load_err(&dir);
    assert!(msg.contains("charges_test_fx.npy"), "{msg}");
    assert!(msg.contains("unsupported dtype '<i8'"), "{msg}");

    let path = dir.join("x.npy");
    std::fs::write(&path, npy_bytes(1, &dict(">f8", &[1]), &[0; 8])).unwrap();
    let msg = read_npy(&path).unwrap_err().to_string();
    assert!(msg.contains("'>f8'"), "{msg}");
}

#[test]
fn fortran_order_is_rejected() {
    let dir = scratch("bad-fortran");
    let path = dir.join("f.npy");
    let dict = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }";
    std::fs::write(&path, npy_bytes(1, dict, &f8_body(&[1.0, 2.0, 3.0, 4.0]))).unwrap();
    let err = read_npy(&path).unwrap_err();
    assert!(matches!(err, DataError::FortranOrder { .. }));
    assert!(err.to_string().contains("fortran_order is True"), "{err}");
}

#[test]
fn shapes_that_disagree_between_files_name_both_shapes() {
    let dir = scratch("bad-shapes");
    write_charged_fixture(&dir, "test");
    // vel has one sample fewer than loc.
    write_f8(&dir.join("vel_test_fx.npy"), &[1, 3, 3, 2], &[0.5; 18]);
    let msg = load_err(&dir);
    assert!(msg.contains("vel_test_fx.npy"), "{msg}");
    assert!(msg.contains("[1, 3, 3, 2]"), "{msg}");
    assert!(msg.contains("[2, 3, 3, 2]"), "{msg}");

    // charges for 3 particles where loc has 2.
    write_charged_fixture(&dir, "test");
    write_f8(&dir.join("charges_test_fx.npy"), &[2, 3, 1], &[1.0; 6]);
    let msg = load_err(&dir);
    assert!(msg.contains("charges_test_fx.npy"), "{msg}");
    assert!(msg.contains("[2, 2, 1]"), "{msg}");
}

#[test]
fn truncated_file_reports_expected_and_found_bytes() {
    let dir = scratch("bad-truncated");
    write_charged_fixture(&dir, "test");
    let path = dir.join("loc_test_fx.npy");
    let bytes = std::fs::read(&path).unwrap();
    // Cut the last 5 bytes: the header promises 2*3*3*2*8 = 288 data bytes.
    std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
    let msg = load_err(&dir);
    assert!(msg.contains("loc_test_fx.npy"), "{msg}");
    assert!(msg.contains("truncated"), "{msg}");
    assert!(msg.contains("needs 288 data bytes, found 283"), "{msg}");
    assert!(read_header(&path).is_err());

    // A file cut inside its header.
    std::fs::write(&path, &bytes[..40]).unwrap();
    let msg = load_err(&dir);
    assert!(msg.contains("ends inside the header"), "{msg}");
}

#[test]
fn non_finite_value_names_file_sample_and_field() {
    let dir = scratch("bad-nan");
    write_charged_fixture(&dir, "test");
    let path = dir.join("vel_test_fx.npy");
    let mut vel = read_npy(&path).unwrap().data;
    // Sample 1, frame 1, axis z, particle 1 in [2, 3, 3, 2] layout.
    vel[((3 + 1) * 3 + 2) * 2 + 1] = f64::NAN;
    write_f8(&path, &[2, 3, 3, 2], &vel);
    let msg = load_err(&dir);
    assert!(msg.contains("vel_test_fx.npy"), "{msg}");
    assert!(msg.contains("NaN"), "{msg}");
    assert!(msg.contains("sample 1"), "{msg}");
    assert!(msg.contains("vel[frame 1, z, particle 1]"), "{msg}");
}

#[test]
fn edges_that_are_not_the_charge_product_are_rejected() {
    let dir = scratch("bad-edges");
    write_charged_fixture(&dir, "test");
    let edges = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    write_f8(&dir.join("edges_test_fx.npy"), &[2, 2, 2], &edges);
    let msg = load_err(&dir);
    assert!(msg.contains("edges_test_fx.npy"), "{msg}");
    assert!(msg.contains("sample 0"), "{msg}");
    assert!(msg.contains("edges[0, 1] = 1"), "{msg}");
}

#[test]
fn frames_beyond_the_file_are_a_clear_error() {
    let dir = scratch("bad-frames");
    write_charged_fixture(&dir, "test");
    let err = ChargedDataset::load(
        &dir,
        Split::Test,
        &LoaderConfig {
            suffix: "fx".into(),
            ..LoaderConfig::default()
        },
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("loc_test_fx.npy"), "{msg}");
    assert!(msg.contains("input_frame = 30"), "{msg}");
}

#[test]
fn garbage_instead_of_npy_is_rejected() {
    let dir = scratch("bad-magic");
    let path = dir.join("g.npy");
    std::fs::write(&path, b"PK\x03\x04 this is a zip file, not npy").unwrap();
    let msg = read_npy(&path).unwrap_err().to_string();
    assert!(msg.contains("g.npy"), "{msg}");
    assert!(msg.contains("magic"), "{msg}");
}

#[test]
fn loader_config_rejects_unknown_fields_and_fills_defaults() {
    let config: LoaderConfig = serde_json::from_str(r#"{"max_train": 10}"#).unwrap();
    assert_eq!(config.max_train, Some(10));
    assert_eq!(config.input_frame, 30);
    assert_eq!(config.target_frame, 40);
    let err = serde_json::from_str::<LoaderConfig>(r#"{"max_trian": 10}"#).unwrap_err();
    assert!(err.to_string().contains("max_trian"), "{err}");
}

#[test]
fn absurd_header_length_is_refused_without_allocating_it() {
    let dir = scratch("bad-header-len");
    let path = dir.join("h.npy");
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(b"{'descr': '<f8'");
    std::fs::write(&path, &bytes).unwrap();
    for err in [
        read_npy(&path).unwrap_err(),
        read_header(&path).unwrap_err(),
    ] {
        let msg = err.to_string();
        assert!(msg.contains("h.npy"), "{msg}");
        assert!(msg.contains("over the 65536-byte limit"), "{msg}");
    }
}
