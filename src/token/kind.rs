//! Access or refresh: the `type` claim.

/// Which of the pair a token is: the `type` claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Short-lived, sent with every request.
    Access,
    /// Long-lived, only exchanged for a new pair at the refresh endpoint.
    Refresh,
}

impl TokenKind {
    /// The value of the `type` claim.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}
