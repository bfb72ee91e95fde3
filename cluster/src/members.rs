//! A push without recipients and the member query, through the API node
//! (`docs/scaling.md`, "Members where the settings are"): every shard asked
//! for its own part, the parts joined in shard order.

use dnd_engine::push::{lines_refused, AnswerForm, Compact};
use dnd_engine::{Request, Response};
use dnd_server::backend::{Answered, Generation};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::{Api, DECIDE_CHUNK};
use crate::wire::{self, GetRequest};
use crate::Error;

impl Api {
    /// A get every shard holds a part of (a group's members): every shard
    /// asked at once, the `users` of their answers joined in shard order
    /// (the cluster's member order); the first refusal is the answer.
    pub(crate) async fn gather(
        &self,
        request: &Request,
        generation: Generation,
        after: u64,
    ) -> Result<Answered, Error> {
        let after = self.read_point(after);
        let body = serde_json::to_vec(&GetRequest {
            after,
            request: request.clone(),
            generation,
        })
        .map_err(|e| Error::frame("get", e))?;
        let layout = self.layout();
        let asks = layout
            .all()
            .map(|shard| self.ask(self.log.space().get_subject(layout, shard), body.clone()));
        let mut users: Vec<Value> = Vec::new();
        for answer in futures::future::join_all(asks).await {
            let answer = answer?;
            let json: Map<String, Value> =
                serde_json::from_slice(wire::payload(&answer)?).map_err(|e| Error::frame("get answer", e))?;
            let code = json.get("code").and_then(Value::as_u64).unwrap_or(0);
            if code != 200 {
                let mut answered = generation.render(&Response::Ok);
                answered.code = u16::try_from(code).unwrap_or(1000);
                answered.json = Value::Object(json).to_string();
                return Ok(answered);
            }
            match json.get("users") {
                Some(Value::Array(part)) => users.extend(part.iter().cloned()),
                _ => return Err(Error::frame("get answer", "a gathered answer without users")),
            }
        }
        let mut answered = generation.render(&Response::Ok);
        answered.json = serde_json::json!({ "code": 200, "users": users }).to_string();
        Ok(answered)
    }

    /// Decides a push without recipients for every member: each shard asked
    /// for its members a page at a time (shards at once, a shard's pages in
    /// order), the pages joined in shard order, then member order within
    /// the shard: the order `/group/user/query.json` lists them. The lines
    /// form is refused once more than `max_lines` members were decided.
    pub async fn decide_members(
        &self,
        message: &Map<String, Value>,
        form: AnswerForm,
        explain: bool,
        after: u64,
        max_lines: usize,
    ) -> Result<Vec<u8>, MembersError> {
        let after = self.read_point(after);
        let mut message = message.clone();
        message.insert("answer".into(), Value::String(form.as_str().into()));
        let message = &message;
        let limit: u32 = match form {
            AnswerForm::Bits => 1 << 18,
            _ => DECIDE_CHUNK as u32,
        };
        // One layout for the whole push: every page of a shard from the same.
        let layout = self.layout();
        let pages = layout.all().map(|shard| async move {
            let subject = self.log.space().decide_subject(layout, shard);
            let mut parts: Vec<Vec<u8>> = Vec::new();
            let mut first = Some(0u32);
            while let Some(f) = first {
                let body = serde_json::to_vec(&serde_json::json!({
                    "after": after, "explain": explain, "push": message,
                    "members": { "first": f, "limit": limit },
                }))
                .map_err(|e| Error::frame("decide", e))?;
                let answer = self.ask(subject.clone(), body).await?;
                #[derive(Deserialize)]
                struct Page<'a> {
                    next: Option<u32>,
                    #[serde(borrow)]
                    part: &'a serde_json::value::RawValue,
                }
                let page: Page<'_> =
                    serde_json::from_slice(wire::payload(&answer)?).map_err(|e| Error::frame("decide answer", e))?;
                parts.push(page.part.get().as_bytes().to_vec());
                first = page.next;
            }
            Ok::<_, Error>(parts)
        });
        let mut out = Vec::new();
        match form {
            AnswerForm::Lines => {
                let mut lines = 0usize;
                out.extend_from_slice(b"{\"decisions\":[");
                for shard in futures::future::join_all(pages).await {
                    for part in shard? {
                        let inner = part
                            .strip_prefix(b"{\"decisions\":[")
                            .and_then(|p| p.strip_suffix(b"]}"))
                            .ok_or_else(|| Error::frame("decide answer", "a page that is not a decisions object"))?;
                        if inner.is_empty() {
                            continue;
                        }
                        let count: Vec<&serde_json::value::RawValue> =
                            serde_json::from_slice(&part[13..part.len() - 1])
                                .map_err(|e| Error::frame("decide answer", e))?;
                        lines += count.len();
                        if lines > max_lines {
                            return Err(MembersError::Refused(lines_refused(lines as u64, max_lines)));
                        }
                        if out.len() > 14 {
                            out.push(b',');
                        }
                        out.extend_from_slice(inner);
                    }
                }
                out.extend_from_slice(b"]}");
            }
            _ => {
                let mut all = Compact::new(form);
                for shard in futures::future::join_all(pages).await {
                    for part in shard? {
                        let text = std::str::from_utf8(&part).map_err(|e| Error::frame("decide answer", e))?;
                        let page = Compact::from_json(text).map_err(|e| Error::frame("decide answer", e))?;
                        all.append(&page);
                    }
                }
                all.write_to(&mut out);
            }
        }
        Ok(out)
    }
}

/// Why a push to the members was not decided.
#[derive(Debug)]
pub enum MembersError {
    /// The push asks for more than it may (the lines of too many members).
    Refused(dnd_engine::Error),
    /// The shards did not answer.
    Cluster(Error),
}

impl From<Error> for MembersError {
    fn from(e: Error) -> MembersError {
        MembersError::Cluster(e)
    }
}
