//! Checks the properties share: every way of deciding against the naive
//! oracle, and a deferral against stepping the clock.

use chrono::{DateTime, Duration, Utc};
use dnd_engine::{Message, Settings};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::gen::{decisions, ts};
use crate::naive::{as_naive, Naive};

/// Every way of deciding `m` for `recipients` gives the naive walk's
/// decision: by handle one by one, lazily, in a batch, one at a time from
/// a batch (`decide_each`) and as push bits; by
/// id one at a time and in a batch; and in the explanation.
pub fn agrees_with_the_oracle(
    settings: &Settings,
    naive: &Naive,
    m: &Message<'_>,
    recipients: &[&str],
) -> Result<(), TestCaseError> {
    let p = settings.prepare(m);
    let handles: Vec<_> = recipients.iter().filter_map(|u| settings.user(u)).collect();
    let mut out = Vec::new();
    p.decide_into(&handles, &mut out).unwrap();
    let mut bits = Vec::new();
    p.push_bits_into(&handles, &mut bits).unwrap();
    let mut each = vec![None; handles.len()];
    p.decide_each(&handles, |i, d| each[i] = Some(d)).unwrap();
    prop_assert_eq!(each, out.iter().copied().map(Some).collect::<Vec<_>>());
    for (i, ((h, d), lazy)) in handles.iter().zip(&out).zip(p.decisions(&handles).unwrap()).enumerate() {
        prop_assert_eq!(*d, p.decide(*h).unwrap());
        prop_assert_eq!(*d, lazy);
        prop_assert_eq!(bits[i / 64] >> (i % 64) & 1 == 1, d.push());
    }
    p.decide_ids_into(recipients, &mut out);
    for (u, d) in recipients.iter().zip(&out) {
        prop_assert_eq!(p.decide_id(u), *d, "recipient {}", u);
        prop_assert_eq!(as_naive(*d), naive.decide(m, u), "recipient {}", u);
        prop_assert_eq!(p.explain_id(u).decision(), *d);
    }
    Ok(())
}

/// Each of `recipients`' deferred push for `m` is the earliest instant that
/// pushes: a deferral only for a message that does not push now and is not
/// the sender's or `disablePush`'s; deciding at `deferUntil`, within the 7
/// days, pushes, as the deferral says; 1 ms before it does not; and no
/// minute of the week after the message before it does. Without one, none
/// does.
pub fn deferrals_agree_with_stepping_the_clock(
    settings: &Settings,
    m: &Message<'_>,
    recipients: &[&str],
) -> Result<(), TestCaseError> {
    let p = settings.prepare(m);
    let deferred: Vec<_> = recipients.iter().map(|r| p.decide_deferred_id(r)).collect();
    let step = |t: DateTime<Utc>| decisions(settings, &m.with_time(ts(t)), recipients);
    for (i, (now, d)) in deferred.iter().enumerate() {
        if let Some(d) = d {
            prop_assert!(!now.push());
            prop_assert!(d.until > *m.at && d.until <= *m.at + Duration::milliseconds(604_800_000));
            prop_assert!(d.decision.push());
            prop_assert_eq!(
                step(d.until)[i],
                d.decision,
                "{} at deferUntil {}",
                recipients[i],
                d.until
            );
            let before = d.until - Duration::milliseconds(1);
            prop_assert!(before <= *m.at || !step(before)[i].push());
        }
    }
    // The stepping oracle: every minute of the week after the message.
    for k in 1..=10_080i64 {
        let t = *m.at + Duration::minutes(k);
        let ds = step(t);
        for (i, (now, d)) in deferred.iter().enumerate() {
            // The sender and disablePush never defer; a muted sender may.
            if now.push() || now.level().is_none() && now.by() != dnd_engine::Layer::MutedSender {
                prop_assert!(d.is_none());
                continue;
            }
            match d {
                Some(d) if t >= d.until => {}
                _ => prop_assert!(
                    !ds[i].push(),
                    "{} pushes at {} before deferUntil {:?}",
                    recipients[i],
                    t,
                    d.map(|d| d.until)
                ),
            }
        }
    }
    Ok(())
}
