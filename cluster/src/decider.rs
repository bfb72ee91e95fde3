//! The API node as the HTTP layer's [`Decider`]: listed recipients decided
//! by their shards ([`Api::decide_parts`]), a push to the members by every
//! shard ([`Api::decide_members`]).

use dnd_engine::Response;
use dnd_server::backend::{Chunk, Decider, Lines, MembersAsk};

use crate::api::{Api, Decided, DECIDE_CHUNK, DECIDE_PARTS};

impl Decider for Api {
    fn decide(&self, chunk: &Chunk<'_>, lines: &mut Lines<'_>) -> Result<(), Response> {
        let decided = tokio::runtime::Handle::current().block_on(self.decide_parts(
            chunk.fields,
            chunk.recipients,
            chunk.explain,
            chunk.after,
        ));
        match decided {
            Ok(decided) => {
                for (d, id) in decided.into_iter().zip(chunk.recipients) {
                    lines.line(|out| match d {
                        Decided::Line(r) => {
                            out.extend_from_slice(r.json.as_bytes());
                            r.layer
                        }
                        Decided::Verdict(v) => {
                            v.write_line(id, out);
                            v.layer
                        }
                    });
                }
                Ok(())
            }
            Err(e) => Err(Response::Error {
                code: 1000,
                message: format!("the shards did not decide: {e}"),
            }),
        }
    }

    fn decide_members(&self, ask: &MembersAsk<'_>, out: &mut Vec<u8>) -> Result<u64, Response> {
        let decided = tokio::runtime::Handle::current().block_on(self.decide_members(
            ask.fields,
            ask.form,
            ask.explain,
            ask.after,
            ask.max_lines,
        ));
        match decided {
            Ok(answer) => {
                out.extend_from_slice(&answer);
                Ok(0)
            }
            Err(crate::members::MembersError::Refused(e)) => Err(Response::from_error(&e)),
            Err(crate::members::MembersError::Cluster(e)) => Err(Response::Error {
                code: 1000,
                message: format!("the shards did not decide: {e}"),
            }),
        }
    }

    fn chunk_size(&self) -> usize {
        DECIDE_CHUNK * DECIDE_PARTS
    }
}
