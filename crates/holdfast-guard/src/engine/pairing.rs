//! Which old stack is compared with which new one: the request's explicit pairs first, then
//! equal names, then — one stack left on each side, as in a Serverless-to-CDK move — the two
//! left over. A stack with no partner is compared with nothing (all removed, or all new).

use super::RequestError;
use crate::inputs::StackTemplate;
use std::collections::BTreeSet;

/// Indexes of an old and a new stack compared with each other; one side may be missing.
pub(super) type StackPair = (Option<usize>, Option<usize>);

/// Pairs the stacks of both sides.
///
/// # Errors
/// An explicit pair names a stack that is not on its side.
pub(super) fn pair_stacks(
    old: &[StackTemplate],
    new: &[StackTemplate],
    explicit: &[(String, String)],
) -> Result<Vec<StackPair>, RequestError> {
    let mut pairs = Vec::new();
    let (mut old_left, mut new_left): (BTreeSet<usize>, BTreeSet<usize>) =
        ((0..old.len()).collect(), (0..new.len()).collect());
    for (o, n) in explicit {
        let oi = position(old, o, o, n, "old")?;
        let ni = position(new, n, o, n, "new")?;
        old_left.remove(&oi);
        new_left.remove(&ni);
        pairs.push((Some(oi), Some(ni)));
    }
    for oi in old_left.clone() {
        if let Some(ni) = new_left
            .iter()
            .copied()
            .find(|&ni| new[ni].name == old[oi].name)
        {
            old_left.remove(&oi);
            new_left.remove(&ni);
            pairs.push((Some(oi), Some(ni)));
        }
    }
    if old_left.len() == 1 && new_left.len() == 1 {
        let (oi, ni) = (
            *old_left.iter().next().unwrap_or(&0),
            *new_left.iter().next().unwrap_or(&0),
        );
        old_left.clear();
        new_left.clear();
        pairs.push((Some(oi), Some(ni)));
    }
    pairs.extend(old_left.into_iter().map(|o| (Some(o), None)));
    pairs.extend(new_left.into_iter().map(|n| (None, Some(n))));
    Ok(pairs)
}

/// The index of the stack named `name` on one side of the explicit pair `o=n`.
fn position(
    stacks: &[StackTemplate],
    name: &str,
    o: &str,
    n: &str,
    side: &str,
) -> Result<usize, RequestError> {
    stacks.iter().position(|s| s.name == name).ok_or_else(|| {
        RequestError(format!(
            "stack pair {o}={n}: no stack `{name}` on the {side} side (found: {})",
            names(stacks)
        ))
    })
}

fn names(stacks: &[StackTemplate]) -> String {
    stacks
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
