//! Small helpers shared by the test modules.
#![allow(dead_code)]

use chrono_tz::Tz;
use dnd_engine::{parse_instant, Config, Conversation, Decision, Message, Settings, Timestamp};

/// Settings in `zone` after the requests `(path, body)`, each of which must succeed.
pub fn settings_with(config: Config, requests: &[(&str, &str)]) -> Settings {
    let mut settings = Settings::new(config);
    for (path, body) in requests {
        let r = settings.handle(path, body.as_bytes());
        assert_eq!(r.code(), 200, "{path} {body}: {}", r.to_json());
    }
    settings
}

pub fn settings(zone: Tz, requests: &[(&str, &str)]) -> Settings {
    settings_with(Config::new(zone), requests)
}

pub fn at(s: &str) -> Timestamp {
    parse_instant(s).unwrap()
}

/// `message`, sent at `at` instead (which must be in the range a [`Timestamp`] holds).
pub fn at_time(message: Message<'_>, at: chrono::DateTime<chrono::Utc>) -> Message<'_> {
    message.with_time(Timestamp::new(at).unwrap())
}

/// The decision for `recipient` of `message`.
pub fn decide(settings: &Settings, message: &Message<'_>, recipient: &str) -> Decision {
    settings.prepare(message).decide_id(recipient)
}

pub const NOON_UTC: &str = "2026-11-22T12:00:00Z";

pub fn ultra<'a>(group_id: &'a str, bus_channel: Option<&'a str>) -> Conversation<'a> {
    Conversation::UltraGroup { group_id, bus_channel }
}

pub fn group(group_id: &str) -> Conversation<'_> {
    Conversation::Group { group_id }
}

pub const PERIOD: &str = "/user/blockPushPeriod/set.json";
pub const CONVERSATION: &str = "/conversation/notification/set.json";
pub const TYPE: &str = "/conversation/type/notification/set.json";
pub const DEFAULT: &str = "/ultragroup/notdisturb/set.json";

/// Sends `path` a form body of `pairs`, each value percent-encoded (a JSON
/// array travels as one field): the response's code and JSON.
pub fn send_form(settings: &mut Settings, path: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        form.append_pair(name, value);
    }
    let r = settings.handle(path, form.finish().as_bytes());
    (r.code(), r.to_json())
}

/// The JSON answer of the get `path` for the one parameter `name=value`.
pub fn get_json(settings: &Settings, path: &str, name: &str, value: &str) -> String {
    let body = format!("{name}={value}");
    let r = dnd_engine::Request::parse(path, body.as_bytes()).unwrap();
    settings.query(&r).unwrap().to_json()
}
