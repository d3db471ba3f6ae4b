//! The "no store" baseline of the benchmarks (reached as `jwtguard::revocation::NoRevocation`,
//! hidden): what the revocation check costs is measured against it.

/// A store that revokes nothing and records nothing: the "no store" baseline of the benches,
/// which measure what the revocation check costs. Not for applications: with it, logout and
/// rotation cannot work (their writes fail with a 503).
#[derive(Debug, Clone, Copy)]
pub struct NoRevocation;

impl crate::token::revocation::Sealed for NoRevocation {}

impl crate::token::revocation::Store for NoRevocation {
    fn check(
        &self,
        _: &crate::token::revocation::Presented<'_>,
        _: i64,
    ) -> Result<(), crate::token::revocation::Refusal> {
        Ok(())
    }

    fn version(&self, _: &str, _: i64) -> Result<u64, crate::StoreError> {
        Ok(0)
    }

    fn revoke_token<'a>(
        &'a self,
        _: &'a str,
        _: i64,
    ) -> crate::token::revocation::StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Err(NOTHING)))
    }

    fn revoke_family<'a>(
        &'a self,
        _: &'a str,
        _: i64,
    ) -> crate::token::revocation::StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Err(NOTHING)))
    }

    fn bump_version<'a>(
        &'a self,
        _: &'a str,
        _: i64,
        _: i64,
    ) -> crate::token::revocation::StoreFuture<'a, u64> {
        Box::pin(std::future::ready(Err(NOTHING)))
    }

    fn consume<'a>(
        &'a self,
        _: &'a crate::token::revocation::Rotation<'a>,
    ) -> crate::token::revocation::StoreFuture<'a, crate::token::revocation::Consumed> {
        Box::pin(std::future::ready(Err(NOTHING)))
    }

    fn attempt<'a>(
        &'a self,
        _: &'a [crate::token::revocation::Charge<'a>],
        _: &'a [&'a str],
        _: crate::token::revocation::Limits,
        _: i64,
    ) -> crate::token::revocation::StoreFuture<'a, crate::token::revocation::Verdict> {
        Box::pin(std::future::ready(Err(NOTHING)))
    }

    fn succeeded<'a>(
        &'a self,
        _: &'a crate::token::revocation::Success<'a>,
    ) -> crate::token::revocation::StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Err(NOTHING)))
    }
}

const NOTHING: crate::StoreError = crate::StoreError::new("NoRevocation records nothing");
