//! `openapi.json` (OpenAPI 3.1) at the repository's root describes every
//! route the service serves and nothing
//! else, and its examples are answered as written: each request example is
//! sent signed to a server in this process (changes, then gets, then the
//! decide endpoint, then the operations endpoints) and the answer compared
//! with the example of its 200 response.

mod common;

use common::TestServer;
use serde_json::Value;

fn document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("openapi.json is JSON")
}

/// Every `"by"` property's schema with an enum, wherever it is in `v`.
fn by_enums<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(o) => {
            if let Some(e) = o.get("by").and_then(|b| b.get("enum")) {
                out.push(e);
            }
            o.values().for_each(|x| by_enums(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| by_enums(x, out)),
        _ => {}
    }
}

#[test]
fn the_decisions_by_enum_names_every_layer_in_the_walks_order() {
    let doc = document();
    let mut found = Vec::new();
    by_enums(&doc, &mut found);
    assert!(!found.is_empty(), "a decision's by is described");
    let layers: Vec<&str> = dnd_engine::Layer::ALL.iter().map(|l| l.as_str()).collect();
    for e in found {
        let names: Vec<&str> = e.as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
        assert_eq!(names, layers);
    }
}

#[test]
fn every_route_is_described_and_nothing_else() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."), "OpenAPI 3.1");
    let paths = doc["paths"].as_object().unwrap();
    let routes: Vec<dnd_server::routes::Route> = dnd_server::routes::all().collect();
    for route in &routes {
        let method = route.method.to_ascii_lowercase();
        assert!(
            paths.get(route.path).and_then(|p| p.get(&method)).is_some(),
            "{} {} is not in openapi.json",
            route.method,
            route.path
        );
    }
    for (path, item) in paths {
        let route = routes
            .iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("openapi.json describes {path}, which the service does not serve"));
        let methods: Vec<&String> = item.as_object().unwrap().keys().collect();
        assert_eq!(methods, [&route.method.to_ascii_lowercase()], "{path}");
    }
}

/// The body of a request example: a form for the form API, JSON otherwise.
/// A parameter whose encoding says `explode` (the platform's repeated
/// `userId`) is sent once per element; any other array travels as JSON text.
fn body(path: &str, media: &str, request: &Value) -> String {
    let example = &request["example"];
    if media == "application/x-www-form-urlencoded" {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (k, v) in example.as_object().unwrap() {
            let exploded = request["encoding"][k]["explode"].as_bool() == Some(true);
            match v {
                Value::String(s) => form.append_pair(k, s),
                Value::Array(items) if exploded => {
                    for item in items {
                        form.append_pair(k, item.as_str().unwrap());
                    }
                    &mut form
                }
                other => form.append_pair(k, &other.to_string()),
            };
        }
        form.finish()
    } else {
        assert_eq!(media, "application/json", "{path}");
        example.to_string()
    }
}

#[test]
fn the_examples_are_answered_as_written() {
    let doc = document();
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config();
    config.time_zone = Some("Asia/Shanghai".into());
    let server = TestServer::start(config, dir.path());
    let client = server.client();
    let paths = doc["paths"].as_object().unwrap();
    let phase = |path: &str| {
        let change = ["set.json", "delete.json", "/set", "join.json", "quit.json"]
            .iter()
            .any(|end| path.ends_with(end));
        match path {
            _ if change => 0,
            "/push/decide.json" => 2,
            _ if path.starts_with("/v4/") || path.ends_with(".json") => 1,
            _ => 3,
        }
    };
    let mut ordered: Vec<(&String, &Value)> = paths.iter().collect();
    ordered.sort_by_key(|(path, _)| phase(path));
    let mut sent = 0;
    for (path, item) in ordered {
        let (method, operation) = item.as_object().unwrap().iter().next().unwrap();
        let ok = &operation["responses"]["200"]["content"];
        let (media, answer) = ok.as_object().unwrap().iter().next().unwrap();
        let expected = &answer["example"];
        let got = if method == "post" {
            let content = operation["requestBody"]["content"].as_object().unwrap();
            let (request_media, request) = content.iter().next().unwrap();
            let body = body(path, request_media, request);
            client.post(path, &body)
        } else {
            client.get(path)
        };
        assert_eq!(got.status, 200, "{method} {path}: {}", got.body);
        assert_eq!(
            got.header("content-type").map(|c| c.split(';').next().unwrap()),
            Some(media.as_str()),
            "{path}"
        );
        if media == "application/json" {
            let got: Value = serde_json::from_str(&got.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", got.body));
            assert_eq!(&got, expected, "{method} {path}: the answer differs from the example");
        } else {
            assert!(got.body.contains(expected.as_str().unwrap()), "{path}: {}", got.body);
        }
        sent += 1;
    }
    assert_eq!(sent, dnd_server::routes::all().count());
}
