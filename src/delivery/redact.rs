//! What of a channel's secrets never reaches a stored error: the whole
//! value (in `Channel::redacted`) and any long enough piece of it.

/// The shortest piece of a secret taken for it: a program that prints
/// part of its token (`token abc123de...`) must not leak that part.
const FRAGMENT: usize = 8;

/// `text` with every run of at least [`FRAGMENT`] bytes that also occurs
/// in `secret` replaced by `label`, longest first at each place.
pub(crate) fn redact_fragments(text: &str, secret: &str, label: &str) -> String {
    let (t, s) = (text.as_bytes(), secret.as_bytes());
    if s.len() < FRAGMENT {
        return text.to_string();
    }
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        // The longest piece of the secret that starts here.
        let longest = (0..s.len())
            .filter(|&j| s[j] == t[i])
            .map(|j| {
                t[i..]
                    .iter()
                    .zip(&s[j..])
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .max()
            .unwrap_or(0);
        if longest >= FRAGMENT {
            out.extend_from_slice(label.as_bytes());
            i += longest;
        } else {
            out.push(t[i]);
            i += 1;
        }
    }
    // Cuts fall inside the secret's bytes, matched whole: what is left
    // is text as it was, save where a cut split a character.
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fragment_of_a_secret_is_redacted_too() {
        let out = redact_fragments(
            "auth failed for tok-9f8e7d6c5b4a (first 10: 9f8e7d6c5b), id 12345678",
            "tok-9f8e7d6c5b4a3210",
            "${TOKEN}…",
        );
        assert_eq!(
            out,
            "auth failed for ${TOKEN}… (first 10: ${TOKEN}…), id 12345678"
        );
        // Short runs in common are left alone.
        assert_eq!(
            redact_fragments("abc 9f8e7d", "tok-9f8e7d6c5b4a", "x"),
            "abc 9f8e7d"
        );
    }
}
