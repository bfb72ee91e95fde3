//! An explanation as JSON: `dnd explain --json`, the decide endpoint's
//! `?explain`, and the C ABI's and Python's explain.

use super::*;

/// An instant in the JSON explanation: epoch ms, and the local time as RFC
/// 9557 writes it, `2026-11-22T23:30:00+08:00[Asia/Shanghai]` (RFC 3339
/// with the zone's name as a suffix, as java.time and Temporal read it).
fn instant(at: DateTime<Utc>, zone: Tz) -> Value {
    let local = format!(
        "{}[{}]",
        at.with_timezone(&zone).to_rfc3339_opts(SecondsFormat::AutoSi, false),
        zone.name()
    );
    json!({ "ms": at.timestamp_millis(), "local": local })
}

fn level_json(level: Option<Level>) -> Value {
    json!(Level::code_of(level))
}

impl Explanation {
    fn seen_json(&self, seen: Seen) -> Value {
        match seen {
            Seen::Outright(holds) => json!({ "holds": holds }),
            Seen::Muted { muted, until } => {
                let mut m = Map::new();
                m.insert("muted".into(), json!(muted));
                if let Some(u) = until {
                    m.insert("until".into(), instant(u, self.zone));
                }
                Value::Object(m)
            }
            Seen::Urgent(u) => json!({ "urgent": u != Urgency::NotUrgent, "allowed": u == Urgency::Allowed }),
            Seen::Vip(scope) => {
                let mut m = Map::new();
                m.insert("vip".into(), json!(scope.map(VipScope::as_str)));
                if let (Some(VipScope::Quiet), Some(s)) = (scope, self.second) {
                    m.insert(
                        "withoutQuietTime".into(),
                        json!({ "push": s.push(), "by": s.by().as_str(), "level": s.level().map(Level::code) }),
                    );
                }
                Value::Object(m)
            }
            Seen::Repeat(repeat) => {
                let mut m = Map::new();
                m.insert("repeatedSender".into(), json!(repeat));
                if let Some(s) = self.second {
                    m.insert(
                        "withoutQuietTime".into(),
                        json!({ "push": s.push(), "by": s.by().as_str(), "level": s.level().map(Level::code) }),
                    );
                }
                Value::Object(m)
            }
            Seen::Skipped(why) => json!({ "skipped": why }),
            Seen::Terminal => json!({ "nothingSet": true }),
            Seen::Level(e) => {
                let mut m = Map::new();
                m.insert("level".into(), level_json(e.at(self.at)));
                m.insert("permanent".into(), level_json(e.permanent));
                if let Some(t) = e.temporary {
                    m.insert(
                        "temporary".into(),
                        json!({ "level": Level::code_of(t.level), "until": instant(t.until, self.zone), "inForce": t.until > self.at }),
                    );
                }
                Value::Object(m)
            }
            Seen::Snooze(None) => json!({ "snooze": null }),
            Seen::Snooze(Some(s)) => json!({
                "snooze": { "level": s.level.level().code(), "until": instant(s.until, self.zone), "on": s.is_on(self.at) },
            }),
            Seen::Quiet(q) => match q {
                Quiet::None => json!({ "quiet": "none" }),
                Quiet::Period { period, zone, active } => json!({
                    "quiet": "period", "startTime": period.window.start().to_string(),
                    "period": period.window.minutes(), "level": period.level.level().code(),
                    "timezone": zone.name(), "at": instant(self.at, zone), "on": active,
                }),
                Quiet::Schedule { hit, zone, .. } => json!({
                    "quiet": "schedule", "timezone": zone.name(), "at": instant(self.at, zone),
                    "on": hit.is_some(),
                    "window": hit.map(|h| json!({
                        "day": h.day, "startTime": h.window.start().to_string(),
                        "period": h.window.minutes(), "level": h.window.level().level().code(),
                    })),
                }),
            },
        }
    }
}

impl Serialize for Explanation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let d = self.decision;
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                let mut step =
                    json!({ "layer": s.layer.as_str(), "decides": s.decided, "seen": self.seen_json(s.seen) });
                if s.read_through {
                    step["readThrough"] = json!(true);
                }
                step
            })
            .collect();
        let mut m = Map::new();
        m.insert("userId".into(), json!(self.recipient));
        m.insert("at".into(), instant(self.at, self.zone));
        m.insert("push".into(), json!(d.push()));
        m.insert("by".into(), json!(d.by().as_str()));
        m.insert("level".into(), json!(d.level().map(Level::code)));
        m.insert("steps".into(), Value::Array(steps));
        if let Some(off) = self.mention_all {
            let mut rules = Vec::new();
            if off.not_allowed {
                rules.push("mentionAllAllowed");
            }
            if off.over_maximum.is_some() {
                rules.push("memberCount");
            }
            let mut all = json!({ "counts": !off.is_off(), "offBy": rules });
            if off.is_off() {
                all["why"] = json!(off.to_string());
            }
            m.insert("mentionAll".into(), all);
        }
        if self.private_mention {
            m.insert("privateAsMention".into(), json!(true));
        }
        if let Some(keyword) = &self.keyword {
            m.insert("keyword".into(), json!(keyword));
        }
        if let Some(group) = &self.group {
            m.insert("userGroup".into(), json!(group));
        }
        if let Some(defer) = self.deferral {
            m.insert("deferUntil".into(), json!(defer.until.timestamp_millis()));
            m.insert(
                "deferral".into(),
                json!({
                    "until": instant(defer.until, self.zone),
                    "because": boundary_text(defer.because),
                    "by": defer.decision.by().as_str(),
                    "level": defer.decision.level().map(Level::code),
                }),
            );
        }
        Value::Object(m).serialize(serializer)
    }
}
