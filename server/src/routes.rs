//! Every route the service serves: the platform's settings paths of both
//! generations, the extension paths, the decide endpoint, the released
//! digests and the operations
//! endpoints. One list, read by the router (404 for a path not here, 405 for
//! a wrong method), the metrics (a bounded path label) and the API's
//! description (`openapi.yaml`, checked against it by a test).

use dnd_engine::{api, api_v4};

/// The decide endpoint's path.
pub const DECIDE_PATH: &str = "/push/decide.json";

/// The operations endpoints, answered to `GET` without a signature.
pub const OPS_PATHS: [&str; 3] = ["/health", "/ready", "/metrics"];

/// What a route is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A settings request of the form API (the platform's nine paths and the extensions).
    Form,
    /// A settings request of the v4 JSON API.
    V4,
    /// The decide endpoint.
    Decide,
    /// The released digests (`dnd_engine::released`).
    Released,
    /// An operations endpoint.
    Ops,
}

/// One route: its method, path and kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// `POST` or `GET`.
    pub method: &'static str,
    /// The path.
    pub path: &'static str,
    /// What it is for.
    pub kind: Kind,
}

/// Every route, in the order `dnd --help` lists them.
pub fn all() -> impl Iterator<Item = Route> {
    let post = |kind| {
        move |path: &&'static str| Route {
            method: "POST",
            path,
            kind,
        }
    };
    api::PATHS
        .iter()
        .map(post(Kind::Form))
        .chain(api::extensions::PATHS.iter().map(post(Kind::Form)))
        .chain(api::member_requests::PATHS.iter().map(post(Kind::Form)))
        .chain(api_v4::PATHS.iter().map(post(Kind::V4)))
        .chain(std::iter::once(Route {
            method: "POST",
            path: DECIDE_PATH,
            kind: Kind::Decide,
        }))
        .chain(std::iter::once(Route {
            method: "POST",
            path: dnd_engine::released::PATH,
            kind: Kind::Released,
        }))
        .chain(OPS_PATHS.iter().map(|path| Route {
            method: "GET",
            path,
            kind: Kind::Ops,
        }))
}

/// The route at `path`, whatever the method.
pub fn find(path: &str) -> Option<Route> {
    all().find(|r| r.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_once_and_the_ops_paths_are_gets() {
        let routes: Vec<Route> = all().collect();
        for (i, r) in routes.iter().enumerate() {
            assert!(routes[..i].iter().all(|o| o.path != r.path), "{} twice", r.path);
            assert_eq!(r.method == "GET", r.kind == Kind::Ops, "{}", r.path);
        }
        assert_eq!(routes.len(), 9 + 19 + 6 + 4 + 1 + 1 + 3);
        assert_eq!(find("/user/vip/set.json").map(|r| r.kind), Some(Kind::Form));
        assert_eq!(find("/nope"), None);
    }
}
