//! One test per sentence of RULES §1–§5, one module per section. `docs/rules.md`
//! points here.

mod layers; // §4
mod levels; // §2
mod mentions; // §3
mod period; // §5
mod types; // §1
