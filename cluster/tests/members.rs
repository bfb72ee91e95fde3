//! Member lists in a cluster of three shards against a real nats-server:
//! joins go to the member's partition (a group join cut by partition),
//! the member query is gathered from every shard, and a push without
//! recipients, decided by each shard for its own members a page at a time,
//! equals the reference's decisions for the same members listed by id, in
//! every answer form.

mod support;

use dnd_cluster::api::Api;
use dnd_cluster::nats_server::NatsServer;
use dnd_engine::push::{AnswerForm, Compact};
use dnd_engine::shard::Layout;
use dnd_engine::{Config, Request, Settings};
use dnd_server::backend::Generation;
use serde_json::{json, Map, Value};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_shards_decide_their_own_members_as_one_node_decides_them_all() {
    let dir = dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let client = connect(server.url()).await;
    let layout = Layout::new(3).unwrap();
    let node = Api::new(client.clone(), support::app(), layout, 1).await.unwrap();
    let _shards: Vec<_> = (0..3).map(|i| shard(&client, layout, i)).collect();
    let form = Generation::Form;
    let mut reference = Settings::new(Config::new(dnd_engine::parse_zone(ZONE).unwrap()));
    let mut requests: Vec<(String, String)> = Vec::new();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut below = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for _ in 0..400 {
        let u = below(500);
        let path = if below(10) == 0 {
            "/ultragroup/quit.json"
        } else {
            "/ultragroup/join.json"
        };
        requests.push((path.into(), format!("groupId=club&userId=u{u}")));
    }
    // A group join of 40 users: cut by partition, each part to its shard.
    let many: String = (0..40).map(|i| format!("userId=u{}&", i * 7)).collect();
    requests.push(("/group/join.json".into(), format!("{many}groupId=g&groupName=G")));
    requests.push(("/group/quit.json".into(), "userId=u7&userId=u14&groupId=g".into()));
    for _ in 0..80 {
        let (u, l) = (below(500), [-1, 1, 2, 4, 5][below(5) as usize]);
        requests.push((
            "/conversation/notification/set.json".into(),
            format!("conversationType=10&requestId=u{u}&targetId=club&unpushLevel={l}"),
        ));
        requests.push((
            "/user/blockPushPeriod/set.json".into(),
            format!("userId=u{}&startTime=09:00:00&period=480&level=5", below(500)),
        ));
    }
    for (i, (path, body)) in requests.iter().enumerate() {
        let request = Request::parse(path, body.as_bytes()).unwrap();
        assert_eq!(reference.apply(&request).code(), 200);
        let answer = node.append(&request, form, &format!("w{i}")).await.unwrap();
        assert_eq!(answer.code, 200, "{path} {body}");
    }

    // The group's members, gathered: the reference's, in shard order.
    let query = Request::parse("/group/user/query.json", b"groupId=g").unwrap();
    let gathered: Value = serde_json::from_str(&node.get(&query, form, 0).await.unwrap().json).unwrap();
    let mut ids: Vec<String> = gathered["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 38);
    let mut want: Vec<String> = (0..40)
        .filter(|i| *i != 1 && *i != 2)
        .map(|i| format!("u{}", i * 7))
        .collect();
    ids.sort();
    want.sort();
    assert_eq!(ids, want);

    for (sender, mention) in [("u3", json!(null)), ("u10", json!({"type": 1}))] {
        let mut message: Map<String, Value> = serde_json::from_value(json!({
            "at": 1_764_000_000_000i64, "conversationType": 10, "targetId": "club", "fromUserId": sender,
        }))
        .unwrap();
        if !mention.is_null() {
            message.insert("mentionedInfo".into(), mention);
        }
        let lines = node
            .decide_members(&message, AnswerForm::Lines, false, 0, 1_000_000)
            .await
            .unwrap();
        let lines_text = lines;
        let lines: Value = serde_json::from_slice(&lines_text).unwrap();
        let decided: Vec<&Value> = lines["decisions"].as_array().unwrap().iter().collect();
        let members: Vec<String> = decided
            .iter()
            .map(|d| d["userId"].as_str().unwrap().to_owned())
            .collect();
        // Every member once, in shard order: the reference's members.
        let mut sorted = members.clone();
        sorted.sort();
        let mut all: Vec<String> = reference
            .members(dnd_engine::ConversationType::UltraGroup, "club")
            .into_iter()
            .map(|id| id.as_str().to_owned())
            .collect();
        all.sort();
        assert_eq!(sorted, all);
        for (i, id) in members.iter().enumerate() {
            let shard = layout.shard_of_user(id).0;
            let next = members.get(i + 1).map_or(shard, |n| layout.shard_of_user(n).0);
            assert!(shard <= next, "shard order");
        }
        let want = expected(&reference, &message, &members);
        #[derive(serde::Deserialize)]
        struct Raw<'a> {
            #[serde(borrow)]
            decisions: Vec<&'a serde_json::value::RawValue>,
        }
        let raw: Raw<'_> = serde_json::from_slice(&lines_text).unwrap();
        let got: Vec<&str> = raw.decisions.iter().map(|d| d.get()).collect();
        assert!(got == want, "the cluster's lines differ from the reference's");
        // The compact forms: built from the reference's decisions.
        let pushes: Vec<bool> = decided.iter().map(|d| d["push"].as_bool().unwrap()).collect();
        assert!(pushes.contains(&true) && pushes.contains(&false));
        for answer in [AnswerForm::Push, AnswerForm::Bits] {
            let mut compact = Compact::new(answer);
            for (id, &p) in members.iter().zip(&pushes) {
                compact.add(id, p);
            }
            let mut want = Vec::new();
            compact.write_to(&mut want);
            let got = node.decide_members(&message, answer, false, 0, 0).await.unwrap();
            assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want).unwrap());
        }
        // The lines of more members than allowed are refused.
        assert!(node
            .decide_members(&message, AnswerForm::Lines, false, 0, 10)
            .await
            .is_err());
    }
}
