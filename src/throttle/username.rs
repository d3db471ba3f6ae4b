//! The canonical form of a username, for throttling: the strings a user lookup would take for
//! one account share one budget.
//!
//! Unicode's *compatibility caseless match* (The Unicode Standard §3.13, D146):
//! `NFKD(toCasefold(NFKD(toCasefold(NFD(X)))))`, so that `ADMIN`, `admin`, full-width
//! `ａｄｍｉｎ` and `ﬀ`/`ff` match; with default-ignorable code points (zero-width spaces and
//! joiners, soft hyphens, variation selectors, bidi controls) removed first, since they are
//! invisible, combining marks (accents) removed after decomposition, since many user lookups
//! ignore them (`ádmin` and `admin` are one row under a case- and accent-insensitive
//! collation) and sharing a budget is the safe way to err, and surrounding whitespace trimmed.
//!
//! An application whose user ids follow other rules (an e-mail's local part, a directory's own
//! canonical id) can pass its own id to `Auth::attempt` instead of what the user typed.

use caseless::Caseless as _;
use unicode_normalization::UnicodeNormalization as _;

/// The form two usernames share when Unicode says a user would take them for the same.
pub(crate) fn canonical(username: &str) -> String {
    let visible: String = username
        .chars()
        .filter(|c| !default_ignorable(*c))
        .collect();
    visible
        .trim()
        .chars()
        .nfd()
        .default_case_fold()
        .nfkd()
        .default_case_fold()
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect()
}

/// Unicode's `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt, Unicode 15.1): drawn
/// as nothing, so a name with one looks the same as without.
fn default_ignorable(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn the_names_a_user_would_take_for_one_are_one() {
        let admin = canonical("admin");
        for variant in [
            "Admin",
            "ADMIN",
            " admin ",
            "ａｄｍｉｎ",    // full-width
            "ad\u{200B}min", // zero-width space
            "adm\u{00AD}in", // soft hyphen
            "\u{FEFF}admin", // byte-order mark
            "admin\u{FE0F}", // variation selector
        ] {
            assert_eq!(canonical(variant), admin, "{variant:?}");
        }
        assert_eq!(
            canonical("Straße"),
            canonical("STRASSE"),
            "full case folding"
        );
        assert_eq!(canonical("ﬀ"), canonical("ff"), "compatibility");
        assert_eq!(
            canonical("Å"),
            canonical("A\u{30A}"),
            "canonical equivalence"
        );
    }

    #[test]
    fn different_names_stay_different() {
        assert_ne!(canonical("bdmin"), canonical("admin"));
        assert_ne!(canonical("admin1"), canonical("admin"));
        assert_ne!(
            canonical("ad min"),
            canonical("admin"),
            "inner spaces are kept"
        );
    }
}
