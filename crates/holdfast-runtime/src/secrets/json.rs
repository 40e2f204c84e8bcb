//! One key of a JSON object value.

use super::error::SecretsError;
use super::item::{Item, SecretValue};

/// The value of `key` in the JSON object `value`: a string as it is, a number or boolean as
/// its JSON text. Errors name the item and key, never the value.
pub(crate) fn key(
    item: Item<'_>,
    value: &SecretValue,
    key: &str,
) -> Result<SecretValue, SecretsError> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(value.expose()).map_err(|_| SecretsError::NotJsonObject {
            item: item.to_string(),
        })?;
    match object.get(key) {
        None => Err(SecretsError::MissingJsonKey {
            item: item.to_string(),
            key: key.to_owned(),
        }),
        Some(serde_json::Value::String(text)) => Ok(SecretValue::from(text.as_str())),
        Some(scalar @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
            Ok(SecretValue::from(scalar.to_string()))
        }
        Some(_) => Err(SecretsError::JsonKeyNotScalar {
            item: item.to_string(),
            key: key.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_an_object_and_errors_without_the_value() {
        let item = Item::Secret("db");
        let value = SecretValue::from(
            r#"{"user":"app","password":"pa55-w0rd","port":5432,"tls":true,"opts":{}}"#,
        );
        let get = |k| key(item, &value, k);
        assert_eq!(get("user").unwrap().expose(), "app");
        assert_eq!(get("port").unwrap().expose(), "5432");
        assert_eq!(get("tls").unwrap().expose(), "true");
        let missing = get("host").unwrap_err();
        assert_eq!(missing.to_string(), "secret `db` has no key `host`");
        assert!(matches!(
            get("opts").unwrap_err(),
            SecretsError::JsonKeyNotScalar { .. }
        ));
        let not_json = key(item, &SecretValue::from("pa55-w0rd"), "user").unwrap_err();
        assert_eq!(not_json.to_string(), "secret `db` is not a JSON object");
        let array = key(item, &SecretValue::from("[1]"), "user").unwrap_err();
        assert!(matches!(array, SecretsError::NotJsonObject { .. }));
    }
}
