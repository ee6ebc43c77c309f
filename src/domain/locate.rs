//! Where in a definition's TOML a mistake is. serde reads a step through
//! its `kind` tag, which loses the positions inside it: the parser then
//! places a missing `action` at the first `[[steps]]`. Read again step by
//! step (and variant by variant) from the parsed text, the mistake gets
//! the line of the step or variant it is in, and its place by name.

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// `line 17: steps[3].variants[2]: missing field `action``, or `None`
/// when reading again finds nothing more precise.
pub(super) fn step_error<S, V>(text: &str) -> Option<String>
where
    S: for<'de> Deserialize<'de>,
    V: for<'de> Deserialize<'de>,
{
    let steps = steps(text)?;
    for (i, step) in steps.iter().enumerate() {
        let Err(e) = S::deserialize(ValueDeserializer::from(step.clone())) else {
            continue;
        };
        let place = format!("steps[{}]", i + 1);
        for (j, variant) in entries(step.get_ref(), "variants").iter().enumerate() {
            if let Err(e) = V::deserialize(ValueDeserializer::from(variant.clone())) {
                return Some(format!(
                    "line {}: {place}.variants[{}]: {}",
                    crate::domain::text::line_of(text, variant.span().start),
                    j + 1,
                    e.message().trim_end()
                ));
            }
        }
        return Some(format!(
            "line {}: {place}: {}",
            crate::domain::text::line_of(text, step.span().start),
            e.message().trim_end()
        ));
    }
    None
}

/// The line of step `n` (1-based), for mistakes found after reading.
pub(super) fn step_line(text: &str, n: usize) -> Option<usize> {
    let steps = steps(text)?;
    let step = steps.get(n.checked_sub(1)?)?;
    Some(crate::domain::text::line_of(text, step.span().start))
}

fn steps(text: &str) -> Option<Vec<Spanned<DeValue<'_>>>> {
    let doc = DeTable::parse(text).ok()?;
    let steps = entries_of(doc.get_ref(), "steps");
    Some(steps)
}

fn entries<'i>(value: &DeValue<'i>, key: &str) -> Vec<Spanned<DeValue<'i>>> {
    match value {
        DeValue::Table(t) => entries_of(t, key),
        _ => Vec::new(),
    }
}

fn entries_of<'i>(table: &DeTable<'i>, key: &str) -> Vec<Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .and_then(|(_, v)| match v.get_ref() {
            DeValue::Array(items) => Some(items.iter().cloned().collect()),
            _ => None,
        })
        .unwrap_or_default()
}
