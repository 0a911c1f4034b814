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
pub mod path_id;
pub mod photos;
pub mod social;
pub mod uploads;
pub mod users;

use actix_web::http::Method;
use actix_web::web;
use utoipa::openapi::path::HttpMethod;

/// One operation of the API: a handler, served at the path and method its `#[utoipa::path]`
/// declares.
#[derive(Clone, Copy)]
pub struct Route {
    path: fn() -> String,
    methods: fn() -> Vec<HttpMethod>,
    serve: fn(actix_web::Route) -> actix_web::Route,
}

impl Route {
    /// The route declared by `Doc` (the `__path_<handler>` that `#[utoipa::path]` writes) and
    /// answered by what `serve` adds to an `actix_web::Route`.
    const fn new<Doc: utoipa::Path>(serve: fn(actix_web::Route) -> actix_web::Route) -> Route {
        Route {
            path: Doc::path,
            methods: Doc::methods,
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
}

/// `route_table!(module::handler, ...)`: [`ROUTES`] for the router and [`Operations`] for the
/// document, from one list of handlers annotated with `#[utoipa::path]`.
macro_rules! route_table {
    ($($module:ident :: $handler:ident),+ $(,)?) => {
        /// Every operation the gateway serves, in API.md's order.
        pub const ROUTES: &[Route] = &[$(
            pastey::paste! {
                Route::new::<$module::[<__path_ $handler>]>(|route| route.to($module::$handler))
            }
        ),+];

        /// The same operations as OpenAPI paths, with their tags and the schemas they use;
        /// `docs` adds the rest of the document.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($module::$handler),+))]
        pub struct Operations;
    };
}

route_table!(
    auth::signup,
    auth::login,
    auth::refresh,
    auth::logout,
    auth::jwks,
    users::get_me,
    users::update_me,
    users::get_profile,
    uploads::create_upload,
    photos::create_photo,
    photos::get_photo,
    photos::update_photo,
    photos::delete_photo,
    photos::list_user_photos,
    social::follow,
    social::unfollow,
    social::followers,
    social::following,
    social::follow_requests,
    social::approve,
    social::deny,
    feed::home_feed,
    social::like,
    social::unlike,
    social::likes,
    social::comment,
    social::comments,
    social::delete_comment,
    ops::livez,
    ops::readyz,
    ops::metrics,
    docs::openapi_json,
);

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
    fn the_document_lists_exactly_the_table() {
        use utoipa::OpenApi;
        let document = Operations::openapi();
        let mut documented = HashSet::new();
        let mut operation_ids = HashSet::new();
        for (path, item) in document.paths.paths {
            for (method, operation) in [
                (Method::GET, item.get),
                (Method::PUT, item.put),
                (Method::POST, item.post),
                (Method::DELETE, item.delete),
                (Method::PATCH, item.patch),
            ] {
                if let Some(operation) = operation {
                    let id = operation
                        .operation_id
                        .expect("utoipa names every operation");
                    assert!(operation_ids.insert(id.clone()), "{id} twice");
                    documented.insert((path.clone(), method));
                }
            }
        }
        let served: HashSet<_> = ROUTES
            .iter()
            .flat_map(|route| route.methods().into_iter().map(|m| (route.path(), m)))
            .collect();
        assert_eq!(documented, served);
    }
}
