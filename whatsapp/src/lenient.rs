//! Deserialization that keeps going: [`Lenient`] wraps one array element of a webhook so that an element
//! of an unexpected shape is kept as raw JSON instead of failing the whole payload, plus the small serde
//! helpers the wire types share.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// An element as Meta sent it ([`Lenient::raw`]) together with its typed reading, if it had the expected
/// shape ([`Lenient::parsed`]).
///
/// The raw JSON is always kept: it is what Baton stores for messages it cannot show, so nothing a customer
/// sent is lost even when Meta invents a new shape. Serializing a `Lenient` writes the raw JSON back.
#[derive(Clone, Debug, PartialEq)]
pub struct Lenient<T> {
    raw: Value,
    parsed: Result<T, String>,
}

impl<T> Lenient<T> {
    /// The element exactly as it was in the payload (as a JSON value; key order is not kept).
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// The typed element, or why it could not be read.
    pub fn parsed(&self) -> Result<&T, &str> {
        self.parsed.as_ref().map_err(String::as_str)
    }

    /// Both halves, by value.
    pub fn into_parts(self) -> (Value, Result<T, String>) {
        (self.raw, self.parsed)
    }
}

impl<T: Serialize> Lenient<T> {
    /// Wraps a typed value, for code that builds payloads (the simulator, tests).
    pub fn new(value: T) -> Result<Self, serde_json::Error> {
        let raw = serde_json::to_value(&value)?;
        Ok(Self { raw, parsed: Ok(value) })
    }
}

impl<T: DeserializeOwned> Lenient<T> {
    /// Reads a raw value, keeping it whatever its shape.
    pub fn from_raw(raw: Value) -> Self {
        let parsed = T::deserialize(&raw).map_err(|error| error.to_string());
        Self { raw, parsed }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Self::from_raw)
    }
}

impl<T> Serialize for Lenient<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

/// For optional sub-objects (`image`, `context`, `pricing`…): `None` when absent **or** of an unexpected
/// shape, so a surprise inside one sub-object never costs the fields around it. The caller still has the
/// element's raw JSON through its [`Lenient`] wrapper.
pub(crate) fn tolerant<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let raw = Value::deserialize(deserializer)?;
    Ok(T::deserialize(&raw).ok())
}

/// Meta writes timestamps and sizes as strings of digits (`"1749416383"`), but some examples and SDKs use
/// JSON numbers. Accept both and keep the string form, which is what goes back on the wire.
pub(crate) fn string_or_integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Integer(u64),
    }
    Ok(match Either::deserialize(deserializer)? {
        Either::Text(text) => text,
        Either::Integer(number) => number.to_string(),
    })
}

/// [`string_or_integer`] for an optional field (use with `#[serde(default)]`).
pub(crate) fn optional_string_or_integer<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    string_or_integer(deserializer).map(Some)
}

/// `skip_serializing_if` for `bool` flags that Meta only writes when true.
pub(crate) fn is_false(flag: &bool) -> bool {
    !*flag
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, PartialEq, Deserialize, Serialize)]
    struct Pair {
        left: u8,
        right: u8,
    }

    #[test]
    fn keeps_raw_json_of_an_unexpected_shape() {
        let items: Vec<Lenient<Pair>> =
            serde_json::from_value(json!([{"left": 1, "right": 2}, {"left": "one"}])).expect("an array always parses");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].parsed(), Ok(&Pair { left: 1, right: 2 }));
        assert!(items[1].parsed().is_err());
        assert_eq!(items[1].raw(), &json!({"left": "one"}));
    }

    #[test]
    fn serializes_back_to_the_raw_json() {
        let item = Lenient::new(Pair { left: 3, right: 4 }).expect("serializes");
        assert_eq!(serde_json::to_value(&item).expect("serializes"), json!({"left": 3, "right": 4}));
    }

    #[test]
    fn timestamps_may_be_strings_or_numbers() {
        #[derive(Deserialize)]
        struct Stamp {
            #[serde(deserialize_with = "string_or_integer")]
            at: String,
        }
        let from_text: Stamp = serde_json::from_str(r#"{"at":"1767258000"}"#).expect("a string parses");
        let from_number: Stamp = serde_json::from_str(r#"{"at":1767258000}"#).expect("a number parses");
        assert_eq!(from_text.at, "1767258000");
        assert_eq!(from_number.at, "1767258000");
    }
}
