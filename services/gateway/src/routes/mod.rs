//! The REST routes, one module per resource, and [`ROUTES`]: the one table from which the actix
//! router ([`configure`]), the OpenAPI document (`docs`) and the API test are all derived.
//!
//! A route's path and method are written once, in its handler's `#[utoipa::path(...)]`; the table
//! names the handler, and both the router and the document read the path and method from there.
//! So nothing is served undocumented, and nothing documented goes unserved.

pub mod auth;
pub mod docs;
pub mod feed;
pub mod ops;
pub mod photos;
pub mod social;
pub mod uploads;
pub mod users;

use actix_web::http::Method;
use actix_web::web;
use utoipa::openapi::path::{HttpMethod, Operation};

/// One operation of the API: a handler and its OpenAPI description, which holds its path and
/// method.
#[derive(Clone, Copy)]
pub struct Route {
    path: fn() -> String,
    methods: fn() -> Vec<HttpMethod>,
    operation: fn() -> Operation,
    serve: fn(actix_web::Route) -> actix_web::Route,
}

impl Route {
    /// The route described by `Doc` (the `__path_<handler>` that `#[utoipa::path]` writes) and
    /// answered by what `serve` adds to an `actix_web::Route`.
    const fn new<Doc: utoipa::Path>(serve: fn(actix_web::Route) -> actix_web::Route) -> Route {
        Route {
            path: Doc::path,
            methods: Doc::methods,
            operation: Doc::operation,
            serve,
        }
    }

    /// The path as both OpenAPI and actix write it, e.g. `/v1/photos/{id}`.
    pub fn path(&self) -> String {
        (self.path)()
    }

    /// The methods it is served and documented at (one for every route today).
    pub fn methods(&self) -> Vec<Method> {
        (self.methods)().into_iter().map(http_method).collect()
    }

    /// Its OpenAPI description: `(path, methods, operation)`.
    pub(crate) fn documentation(&self) -> (String, Vec<HttpMethod>, Operation) {
        ((self.path)(), (self.methods)(), (self.operation)())
    }
}

/// `route!(module::handler)`: the table entry of a handler annotated with `#[utoipa::path]`.
macro_rules! route {
    ($module:ident :: $handler:ident) => {
        pastey::paste! {
            Route::new::<$module::[<__path_ $handler>]>(|route| route.to($module::$handler))
        }
    };
}

/// Every operation the gateway serves, in API.md's order.
pub const ROUTES: &[Route] = &[
    route!(auth::signup),
    route!(auth::login),
    route!(auth::refresh),
    route!(auth::logout),
    route!(auth::jwks),
    route!(users::get_me),
    route!(users::update_me),
    route!(users::get_profile),
    route!(uploads::create_upload),
    route!(photos::create_photo),
    route!(photos::get_photo),
    route!(photos::update_photo),
    route!(photos::delete_photo),
    route!(photos::list_user_photos),
    route!(social::follow),
    route!(social::unfollow),
    route!(social::followers),
    route!(social::following),
    route!(social::follow_requests),
    route!(social::approve),
    route!(social::deny),
    route!(feed::home_feed),
    route!(social::like),
    route!(social::unlike),
    route!(social::likes),
    route!(social::comment),
    route!(social::comments),
    route!(social::delete_comment),
    route!(ops::livez),
    route!(ops::readyz),
    route!(ops::metrics),
    route!(docs::openapi_json),
];

/// Installs [`ROUTES`] and the `/docs` page (the document's own viewer, not an operation).
///
/// Each path is one actix resource carrying all of its methods, so a known path asked with
/// another method answers 405, not 404.
pub fn configure(config: &mut web::ServiceConfig) {
    let mut resources: Vec<(String, Vec<actix_web::Route>)> = Vec::new();
    for route in ROUTES {
        let path = route.path();
        let index = match resources.iter().position(|(known, _)| *known == path) {
            Some(index) => index,
            None => {
                resources.push((path, Vec::new()));
                resources.len() - 1
            }
        };
        for method in route.methods() {
            resources[index].1.push((route.serve)(web::method(method)));
        }
    }
    for (path, routes) in resources {
        config.service(
            routes
                .into_iter()
                .fold(web::resource(path), |resource, route| resource.route(route)),
        );
    }
    config.service(docs::scalar());
}

fn http_method(method: HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Post => Method::POST,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Two entries at one path and method: the second would never be reached.
    #[test]
    fn each_path_and_method_is_in_the_table_once() {
        let mut seen = HashSet::new();
        for route in ROUTES {
            for method in route.methods() {
                assert!(
                    seen.insert((route.path(), method.clone())),
                    "{method} {} twice",
                    route.path()
                );
            }
        }
        assert!(seen.contains(&("/v1/feed".to_owned(), Method::GET)));
    }

    #[test]
    fn operation_ids_are_unique() {
        let mut seen = HashSet::new();
        for route in ROUTES {
            let (path, _, operation) = route.documentation();
            let id = operation
                .operation_id
                .expect("utoipa names every operation");
            assert!(seen.insert(id.clone()), "{id} ({path}) twice");
        }
    }
}
