//! Building a [`TrainConfig`] from defaults, a JSON file and command-line overrides.
//!
//! Every field can be set from the command line as `--set dotted.path=value` (the value is
//! JSON, or a bare string); the common ones also have flags of their own. A path that names
//! no field is rejected with the path, as the JSON reader rejects an unknown field by name.

use std::path::Path;

use anyhow::{bail, Context, Result};
use remul::train::TrainConfig;
use serde_json::Value;

/// Reads `path` as a training config: unknown fields and bad values fail naming the field.
pub fn read_file(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config {}", path.display()))?;
    let config: TrainConfig =
        TrainConfig::from_json(&text).with_context(|| format!("config {}", path.display()))?;
    Ok(serde_json::to_value(config)?)
}

/// Parses one `--set` value: JSON when it parses, else the text as a string.
pub fn parse_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// Sets `path` (dotted) in `config` to `value`; errors if no such field exists.
pub fn set(config: &mut Value, path: &str, value: Value) -> Result<()> {
    let mut node = config;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Value::Object(map) = node else {
            bail!(
                "config field '{}' has no field '{part}'",
                parts[..i].join(".")
            );
        };
        if !map.contains_key(*part) {
            let known: Vec<&str> = map.keys().map(String::as_str).collect();
            bail!(
                "unknown config field '{path}' ('{part}' is not one of {})",
                known.join(", ")
            );
        }
        node = map.get_mut(*part).expect("checked above");
    }
    *node = value;
    Ok(())
}

/// Turns the edited JSON back into a checked config.
pub fn finish(config: Value) -> Result<TrainConfig> {
    let config: TrainConfig = serde_json::from_value(config).context("config")?;
    config.validate()?;
    Ok(config)
}

/// `KEY=VALUE` from a `--set` argument.
pub fn split_assignment(text: &str) -> Result<(&str, Value)> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.trim(), parse_value(v.trim()))),
        _ => bail!("--set takes FIELD=VALUE (e.g. remul.beta=10), got '{text}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_reaches_nested_fields_and_rejects_unknown_ones() {
        let mut v = serde_json::to_value(TrainConfig::default()).unwrap();
        set(&mut v, "remul.beta", parse_value("10")).unwrap();
        set(&mut v, "model.kind", parse_value("egnn")).unwrap();
        let c = finish(v.clone()).unwrap();
        assert_eq!(c.remul.beta, 10.0);
        let err = set(&mut v, "remul.bta", parse_value("1")).unwrap_err();
        assert!(err.to_string().contains("remul.bta"), "{err}");
    }

    #[test]
    fn a_negative_beta_is_rejected_by_name() {
        let mut v = serde_json::to_value(TrainConfig::default()).unwrap();
        set(&mut v, "remul.beta", parse_value("-1")).unwrap();
        let err = format!("{:#}", finish(v).unwrap_err());
        assert!(err.contains("remul.beta"), "{err}");
    }
}
