//! "Did you mean": the known name nearest to a mistyped one, so that an
//! error about a column, an entity or a gate says what to write instead.

/// The candidate closest to `name` by edit distance (case folded; a swap of two letters counts once), when
/// it is close enough to be a typo of it: at most a third of its length.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let bound = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= bound)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `" (did you mean `x`?)"`, or nothing when no candidate is near.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(name, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_name_and_strangers_none() {
        let cols = ["name", "age", "email"];
        assert_eq!(nearest("nmae", cols), Some("name"));
        assert_eq!(nearest("agee", cols), Some("age"));
        assert_eq!(
            nearest("EMAIL_ADRESS", ["EMAIL_ADDRESS", "IBAN_CODE"]),
            Some("EMAIL_ADDRESS")
        );
        assert_eq!(nearest("zzzzzz", cols), None);
        assert_eq!(did_you_mean("zzzzzz", cols), "");
    }
}
