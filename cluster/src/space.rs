//! Apps kept apart: each app key has a space of its own in the cluster, its
//! own stream, subjects, shard state and snapshots, so that no request of
//! one app reads or changes another's settings.
//!
//! A space is named by a token made of the app key: the key itself if it
//! is 1 to 64 ASCII letters, digits or `-`; otherwise `_` and the key's
//! bytes in lower-case hex (a key of other characters, `.` or `_` included,
//! which NATS subjects and stream names cannot all carry). The mapping is
//! one to one: a token starting with `_` is never a key kept as it is.
//!
//! | name | of app token `T` |
//! |---|---|
//! | stream | `DND_T` |
//! | a partition's subject | `dnd.T.p.<partition>` |
//! | the broadcast subject | `dnd.T.all` |
//! | shard `i` of `n`'s marks | `dnd.T.mark.<n>.<i>` |
//! | its get, decide and progress | `dnd.T.shard.<n>.<i>.get` (`.decide`, `.progress`) |
//! | its snapshot | object `T/shard-<i>-of-<n>` in the bucket `dnd_snapshots` |

use std::fmt;

use dnd_engine::shard::{Layout, Partition, ShardId, ShardKey};

/// The prefix of every app's stream name.
pub const STREAM_PREFIX: &str = "DND_";

/// One app's names in the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Space {
    token: String,
}

impl Space {
    /// The space of app key `key`.
    pub fn app(key: &str) -> Space {
        let plain = !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let token = if plain {
            key.to_owned()
        } else {
            let mut token = String::with_capacity(1 + 2 * key.len());
            token.push('_');
            for b in key.bytes() {
                token.push_str(&format!("{b:02x}"));
            }
            token
        };
        Space { token }
    }

    /// The space whose stream is `name`, if it is one.
    pub fn of_stream(name: &str) -> Option<Space> {
        let token = name.strip_prefix(STREAM_PREFIX)?;
        let plain =
            !token.is_empty() && token.len() <= 64 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let hex = !token.is_empty()
            && token.len() % 2 == 1
            && token.starts_with('_')
            && token[1..].bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        (plain || hex).then(|| Space {
            token: token.to_owned(),
        })
    }

    /// The token naming this space.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The app's stream.
    pub fn stream(&self) -> String {
        format!("{STREAM_PREFIX}{}", self.token)
    }

    /// The subjects the app's stream holds.
    pub fn stream_subjects(&self) -> Vec<String> {
        let t = &self.token;
        vec![format!("dnd.{t}.p.*"), self.broadcast(), format!("dnd.{t}.mark.>")]
    }

    /// The subject of `partition`.
    pub fn partition_subject(&self, partition: Partition) -> String {
        format!("dnd.{}.p.{}", self.token, partition.get())
    }

    /// The subject of the requests every shard applies.
    pub fn broadcast(&self) -> String {
        format!("dnd.{}.all", self.token)
    }

    /// The subject where `shard` of `layout` marks its own progress.
    pub fn mark_subject(&self, layout: Layout, shard: ShardId) -> String {
        format!("dnd.{}.mark.{}.{}", self.token, layout.shards(), shard)
    }

    /// The subject of a change with `key`.
    pub fn subject_of(&self, key: ShardKey<'_>) -> String {
        match key {
            ShardKey::User(user) => self.partition_subject(dnd_engine::shard::partition_of(user.as_str())),
            // A part cut by `Request::split_by_partition`: its users are all
            // of one partition.
            ShardKey::Users([user, ..]) => self.partition_subject(dnd_engine::shard::partition_of(user.as_str())),
            _ => self.broadcast(),
        }
    }

    /// Every subject `shard` of `layout` consumes, in partition order, then
    /// the broadcast and its mark subject.
    pub fn shard_subjects(&self, layout: Layout, shard: ShardId) -> Vec<String> {
        let mut subjects: Vec<String> = layout
            .partitions(shard)
            .filter_map(Partition::new)
            .map(|p| self.partition_subject(p))
            .collect();
        subjects.push(self.broadcast());
        subjects.push(self.mark_subject(layout, shard));
        subjects
    }

    /// The subject where `shard` answers gets.
    pub fn get_subject(&self, layout: Layout, shard: ShardId) -> String {
        format!("dnd.{}.shard.{}.{}.get", self.token, layout.shards(), shard)
    }

    /// The subject where `shard` decides.
    pub fn decide_subject(&self, layout: Layout, shard: ShardId) -> String {
        format!("dnd.{}.shard.{}.{}.decide", self.token, layout.shards(), shard)
    }

    /// The subject where `shard` reports its progress.
    pub fn progress_subject(&self, layout: Layout, shard: ShardId) -> String {
        format!("dnd.{}.shard.{}.{}.progress", self.token, layout.shards(), shard)
    }

    /// The snapshot object of `shard` in `layout` (its replica 0's).
    pub fn snapshot_name(&self, layout: Layout, shard: ShardId) -> String {
        format!("{}/shard-{}-of-{}", self.token, shard, layout.shards())
    }

    /// The snapshot object of replica `replica` of `shard` in `layout`:
    /// replica 0's is [`Space::snapshot_name`], replica `K`'s that name
    /// followed by `-replica-K`. Each replica saves its own, so that the
    /// stream is trimmed below the oldest of them all.
    pub fn replica_snapshot_name(&self, layout: Layout, shard: ShardId, replica: u16) -> String {
        match replica {
            0 => self.snapshot_name(layout, shard),
            k => format!("{}-replica-{k}", self.snapshot_name(layout, shard)),
        }
    }

    /// Whether `name` is the snapshot object of some replica of `shard` in
    /// `layout` (`shard-1-of-3` is not one of `shard-1-of-30`).
    pub fn is_snapshot_of(&self, name: &str, layout: Layout, shard: ShardId) -> bool {
        let base = self.snapshot_name(layout, shard);
        name.strip_prefix(base.as_str()).is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .strip_prefix("-replica-")
                    .is_some_and(|k| k.parse::<u16>().is_ok_and(|n| n > 0 && n.to_string() == k))
        })
    }
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain keys keep their name; others are hex under `_`; no two keys
    /// share a space, and a stream name gives its space back.
    #[test]
    fn every_app_key_has_a_space_of_its_own() {
        let keys = [
            "k", "key-1", "KEY-1", "a.b", "a_b", "_61", "61", "x y", "*", ">", "a.b.c", "é", "",
        ];
        let spaces: Vec<Space> = keys.iter().map(|k| Space::app(k)).collect();
        assert_eq!(spaces[0].token(), "k");
        assert_eq!(spaces[3].token(), "_612e62");
        for (i, a) in spaces.iter().enumerate() {
            for b in &spaces[i + 1..] {
                assert_ne!(a, b);
            }
            assert_eq!(Space::of_stream(&a.stream()).as_ref(), Some(a), "{a}");
            for subject in a.stream_subjects() {
                assert!(!subject.contains(' '), "{subject}");
            }
        }
        let long = "k".repeat(65);
        assert!(Space::app(&long).token().starts_with('_'));
        for name in [
            "DND",
            "DND_",
            "DND_a.b",
            "DND__6",
            "DND__zz",
            "OBJ_dnd_snapshots",
            "KV_x",
        ] {
            assert_eq!(Space::of_stream(name), None, "{name}");
        }
    }

    /// Each replica's snapshot has a name of its own, recognised as its
    /// shard's and no other shard's or layout's.
    #[test]
    fn every_replica_has_a_snapshot_of_its_own() {
        let app = Space::app("a");
        let (three, thirty) = (Layout::new(3).unwrap(), Layout::new(30).unwrap());
        let names: Vec<String> = (0..4)
            .map(|k| app.replica_snapshot_name(three, ShardId(1), k))
            .collect();
        assert_eq!(names[0], "a/shard-1-of-3");
        assert_eq!(names[2], "a/shard-1-of-3-replica-2");
        for name in &names {
            assert!(app.is_snapshot_of(name, three, ShardId(1)), "{name}");
            assert!(!app.is_snapshot_of(name, three, ShardId(2)), "{name}");
            assert!(!app.is_snapshot_of(name, thirty, ShardId(1)), "{name}");
            assert!(!Space::app("b").is_snapshot_of(name, three, ShardId(1)), "{name}");
        }
        for other in [
            "a/shard-1-of-30",
            "a/shard-1-of-3-replica-0",
            "a/shard-1-of-3-replica-01",
            "a/shard-1-of-3-replica-",
            "a/shard-1-of-3-replica-x",
            "a/shard-1-of-3x",
        ] {
            assert!(!app.is_snapshot_of(other, three, ShardId(1)), "{other}");
        }
    }

    /// The subjects of two apps never overlap, so no consumer of one reads
    /// the other's entries and no request reaches the other's shards.
    #[test]
    fn two_apps_share_no_subject() {
        let layout = Layout::new(3).unwrap();
        let (a, b) = (Space::app("a"), Space::app("b"));
        for shard in layout.all() {
            let of_a = [
                a.shard_subjects(layout, shard),
                vec![
                    a.get_subject(layout, shard),
                    a.decide_subject(layout, shard),
                    a.snapshot_name(layout, shard),
                ],
            ]
            .concat();
            let of_b = [
                b.shard_subjects(layout, shard),
                vec![
                    b.get_subject(layout, shard),
                    b.decide_subject(layout, shard),
                    b.snapshot_name(layout, shard),
                ],
            ]
            .concat();
            assert!(of_a.iter().all(|s| !of_b.contains(s)));
        }
    }
}
