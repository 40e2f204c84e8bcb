//! The checks of a fresh copy, before anything is written: the transform tried on a sample of
//! the source with every output checked against the target's key (and, in place, against the
//! item's own key), and the transform's application to one item.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use holdfast_core::remedy::{NextStep, Remedy};

use super::{CopyError, SAMPLE_ITEMS};
use crate::keys::KeySpec;
use crate::scanner::Scanner;
use crate::sdk_item::{item_from_sdk, item_to_sdk, SdkItem};
use crate::stop::Stop;
use crate::transform::{Transform, TransformError};

/// Runs the transform on the first page of the source and checks every output's key.
pub(super) async fn sample_check(
    scanner: &Scanner,
    source_key: &KeySpec,
    target_key: &KeySpec,
    transform: &Transform,
    in_place: bool,
    stop: &Stop,
) -> Result<(), CopyError> {
    let mut probe = scanner.clone().page_limit(SAMPLE_ITEMS);
    probe.read = Arc::new(AtomicU64::new(0));
    let page = probe
        .page(None, None, stop)
        .await
        .map_err(|e| CopyError::Describe {
            table: scanner.table().to_owned(),
            detail: e.to_string(),
        })?;
    for item in &page.items {
        let outputs = apply(transform, source_key, item).map_err(|e| CopyError::Failed {
            error: format!("{e}; nothing was written"),
            resume: NextStep::new(
                "",
                Remedy::FixAndRunAgain {
                    file: "the transform".into(),
                },
            ),
        })?;
        if in_place {
            if let Err(problem) = in_place_output(source_key, item, &outputs) {
                return Err(CopyError::InPlaceSample {
                    name: transform.name().to_owned(),
                    key: source_key.render(item),
                    problem,
                });
            }
        }
        for (i, out) in outputs.iter().enumerate() {
            target_key
                .check(out)
                .map_err(|problem| CopyError::SampleCheck {
                    name: transform.name().to_owned(),
                    key: source_key.render(item),
                    output: i + 1,
                    problem,
                })?;
        }
    }
    Ok(())
}

/// The one output of an in-place transform that changes `item` (`None`: leave it as it is),
/// or why the outputs cannot be written in place.
pub(super) fn in_place_output<'a>(
    key: &KeySpec,
    item: &SdkItem,
    outputs: &'a [SdkItem],
) -> Result<Option<&'a SdkItem>, String> {
    match outputs {
        [] => Ok(None),
        [out] => {
            if key.identity(out) != key.identity(item) {
                if key.check(out).is_err() {
                    return Err("the output has no complete key".to_owned());
                }
                return Err(format!("the output has another key, {}", key.render(out)));
            }
            Ok((crate::digest::item_hash(out) != crate::digest::item_hash(item)).then_some(out))
        }
        many => Err(format!(
            "{} outputs for one item (an in-place migration writes one item per key at most)",
            many.len()
        )),
    }
}

/// The transform's outputs for one source item, in SDK form.
pub(super) fn apply(
    transform: &Transform,
    source_key: &KeySpec,
    item: &SdkItem,
) -> Result<Vec<SdkItem>, TransformError> {
    let model = item_from_sdk(item).map_err(|e| TransformError::Item {
        name: transform.name().to_owned(),
        key: source_key.render(item),
        reason: e.to_string(),
    })?;
    Ok(transform.apply(&model)?.iter().map(item_to_sdk).collect())
}
