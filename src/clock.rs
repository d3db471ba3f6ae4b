//! The one clock every time check reads: whole seconds since the Unix epoch (JWT `NumericDate`).
//! The stores judge what they share (rotation windows, throttle locks) on Redis's `TIME`.

/// Now, in seconds since the epoch; a clock before 1970 reads 0.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
