jwtguard::scopes! {
    REPORTS_READ = "reports:read",
    ADMIN = "admin",
}

mod billing {
    // Checked from any module against the crate root's `scopes!`.
    #[jwtguard::protected(any = ["admin", "billing:write"])]
    pub async fn handler() {}
}

fn main() {}
