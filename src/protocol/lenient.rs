//! Serde helpers for what real servers send beyond the spec: numbers as
//! strings, `null` where a value is documented, and so on.

use serde::de::DeserializeOwned;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

struct U64Any;

impl Visitor<'_> for U64Any {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an unsigned integer or a string holding one")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(format!("negative number {v}")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        // 2^64 is exactly representable; anything from there on would
        // saturate to u64::MAX instead of failing.
        const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
        if v >= 0.0 && v.fract() == 0.0 && v < TWO_POW_64 {
            Ok(v as u64)
        } else {
            Err(E::custom(format!("not an unsigned integer: {v}")))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::custom(format!("not an unsigned integer: {v:?}")))
    }
}

/// A `u64` sent as a number or as a string.
pub fn u64_any<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(U64Any)
}

/// A `u32` sent as a number or as a string.
pub fn u32_any<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = d.deserialize_any(U64Any)?;
    u32::try_from(v).map_err(|_| de::Error::custom(format!("{v} does not fit in u32")))
}

/// An optional `u64` sent as a number, a string, or `null`.
pub fn opt_u64_any<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "u64_any")] u64);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

/// A value where `null` means the type's default.
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A boolean sent as `true`/`false`, `"true"`/`"false"`, or `1`/`0`.
pub fn bool_any<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct B;
    impl Visitor<'_> for B {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a boolean, \"true\"/\"false\" or 0/1")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
            Ok(v != 0)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
            Ok(v != 0)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            match v.trim() {
                "true" | "1" => Ok(true),
                "false" | "0" | "" => Ok(false),
                other => Err(E::custom(format!("not a boolean: {other:?}"))),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
    }
    d.deserialize_any(B)
}

/// An optional `u32` sent as a number, a string, or `null`.
pub fn opt_u32_any<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "u32_any")] u32);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

/// A `u32` sent as a number or a string, where `null` means 0.
pub fn u32_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(opt_u32_any(d)?.unwrap_or(0))
}

/// A `u64` sent as a number or a string, where `null` means 0.
pub fn u64_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(opt_u64_any(d)?.unwrap_or(0))
}

/// An `f64` sent as a number or as a string holding one.
pub fn f64_any<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    struct F;
    impl Visitor<'_> for F {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number or a string holding one")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| E::custom(format!("not a number: {v:?}")))
        }
    }
    d.deserialize_any(F)
}

/// An optional value that is dropped (with a debug log) when it does not
/// decode, instead of failing the object that holds it. `null` is `None`.
pub fn lossy_option<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = serde_json::Value::deserialize(d)?;
    if value.is_null() {
        return Ok(None);
    }
    match T::deserialize(value) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            log::debug!(
                "dropping an undecodable {}: {e}",
                std::any::type_name::<T>()
            );
            Ok(None)
        }
    }
}

/// A list whose undecodable items are skipped (with a warning) instead of
/// failing the whole list. `null` is an empty list.
pub fn lossy_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let items = Option::<Vec<serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(lossy_items(items))
}

/// Decodes each item, skipping (with a warning) those that do not decode.
pub(crate) fn lossy_items<T: DeserializeOwned>(items: Vec<serde_json::Value>) -> Vec<T> {
    items
        .into_iter()
        .filter_map(|item| match T::deserialize(item) {
            Ok(v) => Some(v),
            Err(e) => {
                log::warn!(
                    "skipping an undecodable {}: {e}",
                    std::any::type_name::<T>()
                );
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(deserialize_with = "u64_any")]
        a: u64,
        #[serde(default, deserialize_with = "opt_u64_any")]
        b: Option<u64>,
        #[serde(default, deserialize_with = "bool_any")]
        c: bool,
        #[serde(default, deserialize_with = "null_default")]
        d: Vec<u8>,
    }

    #[test]
    fn accepts_field_variants() {
        let t: T =
            serde_json::from_str(r#"{"a":"1735370776","b":null,"c":"true","d":null}"#).unwrap();
        assert_eq!((t.a, t.b, t.c, t.d.len()), (1735370776, None, true, 0));
        let t: T = serde_json::from_str(r#"{"a":5,"b":"6","c":1}"#).unwrap();
        assert_eq!((t.a, t.b, t.c), (5, Some(6), true));
        assert!(serde_json::from_str::<T>(r#"{"a":"x"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a":-1}"#).is_err());
    }

    #[test]
    fn numbers_past_u64_fail_instead_of_saturating() {
        let t: T = serde_json::from_str(r#"{"a":18446744073709551615}"#).unwrap();
        assert_eq!(t.a, u64::MAX);
        let t: T = serde_json::from_str(r#"{"a":1.8e19}"#).unwrap();
        assert_eq!(t.a, 18_000_000_000_000_000_000);
        for past in [
            "18446744073709551616",
            "18446744073709551617.0",
            "1.85e19",
            "1e300",
        ] {
            let text = format!(r#"{{"a":{past}}}"#);
            assert!(serde_json::from_str::<T>(&text).is_err(), "{past}");
        }
    }

    #[derive(Deserialize)]
    struct L {
        #[serde(default, deserialize_with = "u32_or_zero")]
        n: u32,
        #[serde(deserialize_with = "f64_any")]
        f: f64,
        #[serde(default, deserialize_with = "lossy_option")]
        o: Option<u8>,
        #[serde(default, deserialize_with = "lossy_vec")]
        v: Vec<u8>,
    }

    #[test]
    fn lossy_fields_drop_only_what_fails() {
        let l: L = serde_json::from_str(r#"{"n":null,"f":"55.7","o":"x","v":[1,"x",3]}"#).unwrap();
        assert_eq!((l.n, l.f, l.o, l.v), (0, 55.7, None, vec![1, 3]));
        let l: L = serde_json::from_str(r#"{"n":"7","f":-1.5,"o":9,"v":null}"#).unwrap();
        assert_eq!((l.n, l.f, l.o, l.v.len()), (7, -1.5, Some(9), 0));
        assert!(serde_json::from_str::<L>(r#"{"f":"NaN"}"#).is_err());
    }
}
