//! Apps kept apart in the cluster: two apps' API nodes over the same shard
//! processes and nats-server; each app's gets and decisions are those of a
//! `Settings` fed only its own writes, and nothing of one is in the other's
//! stream or snapshots.

mod support;

use dnd_cluster::api::Api;
use dnd_cluster::nats_server::NatsServer;
use dnd_cluster::space::Space;
use dnd_engine::shard::Layout;
use dnd_engine::Request;
use dnd_server::backend::Generation;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_apps_over_the_same_shards_see_nothing_of_each_other() {
    let dir = dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let client = connect(server.url()).await;
    let layout = Layout::new(2).unwrap();
    // Keys of both forms: one kept as it is, one with characters no subject
    // may hold.
    let spaces = [Space::app("app-a"), Space::app("b.key_2")];
    let mut apis = Vec::new();
    for space in &spaces {
        apis.push(Api::new(client.clone(), space.clone(), layout, 1).await.unwrap());
    }
    let _shards = [shard_every(&client, layout, 0, 50), shard_every(&client, layout, 1, 50)];

    // The same users and groups in both apps, different writes (and the
    // admins' defaults, which every shard of an app applies, in both).
    const USERS: u32 = 40;
    let worlds = [world(31, 300, USERS), world(32, 300, USERS)];
    let mut last = [0u64; 2];
    let mut references: Vec<dnd_engine::Settings> = Vec::new();
    for (k, (api, requests)) in apis.iter().zip(&worlds).enumerate() {
        let mut seqs = Vec::new();
        for (i, (path, body)) in requests.iter().enumerate() {
            let request = Request::parse(path, body.as_bytes()).unwrap();
            // The same write ids in both apps: each stream dedups its own.
            let answered = api
                .append(&request, Generation::of(path), &format!("w{i}"))
                .await
                .unwrap();
            assert!(!answered.duplicate, "app {k}, write {i}");
            seqs.push(answered.seq.unwrap());
        }
        last[k] = *seqs.iter().max().unwrap();
        references.push(reference(requests, &seqs));
    }
    assert_ne!(
        expected(&references[0], &pushes()[0], &(0..USERS).map(user).collect::<Vec<_>>()),
        expected(&references[1], &pushes()[0], &(0..USERS).map(user).collect::<Vec<_>>()),
        "the two worlds differ, so a crossing would show"
    );

    let recipients: Vec<String> = (0..USERS).map(user).chain(["stranger".to_owned()]).collect();
    for (k, api) in apis.iter().enumerate() {
        for message in pushes() {
            let got: Vec<String> = api
                .decide_chunk(&message, &recipients, false, last[k])
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.json)
                .collect();
            assert_eq!(got, expected(&references[k], &message, &recipients), "app {k}");
            // The same through JSON (an older shard's format), and with
            // explanations both ways.
            let json = api.clone().with_json_decides(true);
            for explain in [false, true] {
                let lines = |api: Api| {
                    let (message, recipients) = (message.clone(), recipients.clone());
                    async move { api.decide_chunk(&message, &recipients, explain, last[k]).await.unwrap() }
                };
                assert_eq!(lines(api.clone()).await, lines(json.clone()).await, "app {k}");
            }
        }
        for (path, body) in gets(USERS, 3) {
            let request = Request::parse(path, body.as_bytes()).unwrap();
            let got = api.get(&request, Generation::of(path), last[k]).await.unwrap();
            let want = references[k].handle(path, body.as_bytes());
            assert_eq!(
                got.json,
                Generation::of(path).render(&want).json,
                "app {k}: {path} {body}"
            );
        }
    }

    // Each stream holds its own app's writes (and its shards' markers) only.
    let js = async_nats::jetstream::new(client.clone());
    for (k, space) in spaces.iter().enumerate() {
        let mut stream = js.get_stream(space.stream()).await.unwrap();
        let state = stream.info().await.unwrap().state.clone();
        assert!(
            state.last_sequence >= 300 && state.last_sequence < 310,
            "app {k}: {state:?}"
        );
        for subject in stream.info().await.unwrap().config.subjects.clone() {
            assert!(subject.starts_with(&format!("dnd.{}.", space.token())), "{subject}");
        }
    }
}
