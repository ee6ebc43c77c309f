//! What a draft changes against the version it replaces, a line each:
//! the steps that differ by position, and the actions it starts or stops
//! using. Shown before a publish.

use std::collections::BTreeSet;

use super::definition::Definition;

/// The draft's differences in steps and actions from `live`, one line
/// each (`step 2: wait 1h -> wait 2h`, `step 4 added: message sms`,
/// `action added: webhook:crm`); one line saying so when there are none.
pub fn differences(live: &Definition, draft: &Definition) -> Vec<String> {
    let mut out = Vec::new();
    let steps = live.steps.len().max(draft.steps.len());
    for i in 0..steps {
        let n = i + 1;
        match (live.steps.get(i), draft.steps.get(i)) {
            (Some(a), Some(b)) if a != b => {
                out.push(format!("step {n}: {} -> {}", a.label(), b.label()));
            }
            (None, Some(b)) => out.push(format!("step {n} added: {}", b.label())),
            (Some(a), None) => out.push(format!("step {n} removed: {}", a.label())),
            _ => {}
        }
    }
    let actions = |d: &Definition| -> BTreeSet<String> {
        d.steps
            .iter()
            .flat_map(|s| s.actions())
            .map(str::to_string)
            .collect()
    };
    let (before, after) = (actions(live), actions(draft));
    for a in after.difference(&before) {
        out.push(format!("action added: {a}"));
    }
    for a in before.difference(&after) {
        out.push(format!("action no longer used: {a}"));
    }
    if out.is_empty() {
        out.push("the same steps and actions".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(steps: &str) -> Definition {
        Definition::from_toml(&format!("name = \"j\"\n{steps}")).unwrap()
    }

    #[test]
    fn a_line_per_changed_step_and_action() {
        let live = def("[[steps]]\nkind = \"message\"\naction = \"email\"\n\
             [[steps]]\nkind = \"wait\"\nduration = \"1h\"\n\
             [[steps]]\nkind = \"message\"\naction = \"sms\"\n");
        let draft = def("[[steps]]\nkind = \"message\"\naction = \"email\"\n\
             [[steps]]\nkind = \"wait\"\nduration = \"2h\"\n\
             [[steps]]\nkind = \"message\"\naction = \"webhook:crm\"\n\
             [[steps]]\nkind = \"message\"\naction = \"push\"\n");
        assert_eq!(
            differences(&live, &draft),
            vec![
                "step 2: wait 1h -> wait 2h",
                "step 3: message sms -> message webhook:crm",
                "step 4 added: message push",
                "action added: push",
                "action added: webhook:crm",
                "action no longer used: sms",
            ]
        );
        assert_eq!(
            differences(&live, &live),
            vec!["the same steps and actions"]
        );
    }
}
