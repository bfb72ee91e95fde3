//! How an API node asks a shard: again while nobody serves the shard's
//! subject (a shard process restarting), and once more to any replica
//! when an answer is late (`docs/scaling.md`, "Writes, reads, decisions").

use std::time::Duration;

use crate::worker::READ_DEADLINE;
use crate::Error;

/// How long a read may wait for its shard's answer beyond
/// [`READ_DEADLINE`], so that a shard's own refusal at its deadline arrives
/// before the node gives up.
pub const ANSWER_GRACE: Duration = Duration::from_secs(2);

/// How long an ask waits for its answer before it is sent once more (and
/// once more after twice as long): the subjects of a shard's reads are a
/// queue group of its replicas, so the copy goes to any live one. A replica
/// killed with reads in flight loses them; their copies are answered by
/// another replica instead of waiting for the read's deadline.
pub const HEDGE: Duration = Duration::from_millis(1_000);

/// Asks at most this many times at once.
const HEDGES: usize = 3;

/// Runs `ask`, and again after `hedge` and after twice as long again while
/// no attempt has answered (at most three attempts): the first answer
/// is the answer. An attempt that fails leaves the others running; if all
/// fail, the last error is returned. A shard that is merely slow answers
/// twice or thrice; only the first answer is read.
pub async fn hedged<T, F, Fut>(hedge: Duration, mut ask: F) -> Result<T, Option<Error>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Option<Error>>>,
{
    let mut flying = futures::stream::FuturesUnordered::new();
    flying.push(ask());
    let (mut next, mut wait) = (tokio::time::Instant::now() + hedge, hedge);
    let mut asked = 1;
    loop {
        tokio::select! {
            Some(outcome) = futures::StreamExt::next(&mut flying) => match outcome {
                Ok(answer) => return Ok(answer),
                Err(e) if flying.is_empty() => return Err(e),
                Err(_) => {}
            },
            () = tokio::time::sleep_until(next), if asked < HEDGES => {
                flying.push(ask());
                asked += 1;
                wait *= 2;
                next += wait;
            }
        }
    }
}

/// Runs `ask` (given the time it may wait for an answer) for a read that
/// arrived at `arrived`: while nobody serves the shard's subject (`ask`
/// errs with `None`: a shard process dead or restarting) it is asked again,
/// after 25 ms, then twice as long each time up to 0.5 s, until
/// [`READ_DEADLINE`] after `arrived`, then refused. Any answer is awaited
/// until [`ANSWER_GRACE`] past that deadline. So a read waits for a
/// restarting shard as long as for a lagging one, and never longer than 12
/// s in all.
pub async fn ask_until<T, F, Fut>(arrived: tokio::time::Instant, mut ask: F) -> Result<T, Error>
where
    F: FnMut(Duration) -> Fut,
    Fut: std::future::Future<Output = Result<T, Option<Error>>>,
{
    let (give_up, end) = (arrived + READ_DEADLINE, arrived + READ_DEADLINE + ANSWER_GRACE);
    let mut wait = Duration::from_millis(25);
    loop {
        let now = tokio::time::Instant::now();
        match tokio::time::timeout_at(end, ask(end.saturating_duration_since(now))).await {
            Ok(Ok(answer)) => return Ok(answer),
            Ok(Err(Some(e))) => return Err(e),
            Ok(Err(None)) if tokio::time::Instant::now() + wait <= give_up => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_millis(500));
            }
            Ok(Err(None)) => {
                return Err(Error::Nats {
                    what: "ask a shard",
                    why: format!("no shard answered for {READ_DEADLINE:?} (no responders)"),
                })
            }
            Err(_) => return Err(Error::Timeout("ask a shard")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    /// Nobody serving the shard: asked again and again with a growing
    /// pause, then refused once the read's deadline is near, never later.
    #[tokio::test(start_paused = true)]
    async fn a_shard_that_never_comes_back_is_given_up_at_the_read_deadline() {
        let arrived = Instant::now();
        let mut asked = 0;
        let got: Result<(), Error> = ask_until(arrived, |_| {
            asked += 1;
            async { Err(None) }
        })
        .await;
        let waited = arrived.elapsed();
        assert!(
            matches!(&got, Err(Error::Nats { why, .. }) if why.contains("no responders")),
            "{got:?}"
        );
        assert!(
            waited <= READ_DEADLINE && waited > READ_DEADLINE - Duration::from_millis(500),
            "{waited:?}"
        );
        // 25, 50, ..., 400 ms, then every 0.5 s.
        assert!((20..=30).contains(&asked), "{asked}");
    }

    /// A shard back after 3 s is asked within half a second of it, with
    /// the time left to answer; an error other than "nobody serves" is
    /// returned at once.
    #[tokio::test(start_paused = true)]
    async fn a_shard_back_in_time_is_asked_and_answers() {
        let arrived = Instant::now();
        let back = arrived + Duration::from_secs(3);
        let got = ask_until(arrived, |patience| async move {
            assert!(patience <= READ_DEADLINE + ANSWER_GRACE);
            if Instant::now() < back {
                Err(None)
            } else {
                Ok(patience)
            }
        })
        .await
        .unwrap();
        let answered = arrived.elapsed();
        assert!(
            answered >= Duration::from_secs(3) && answered <= Duration::from_millis(3_500),
            "{answered:?}"
        );
        assert_eq!(got, READ_DEADLINE + ANSWER_GRACE - answered);

        let started = Instant::now();
        let got: Result<(), Error> = ask_until(started, |_| async { Err(Some(Error::Timeout("x"))) }).await;
        assert!(matches!(got, Err(Error::Timeout("x"))));
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    /// An ask lost to a killed replica is sent again after the hedge and
    /// the copy's answer is the answer; a slow ask is copied at most
    /// twice; when every copy fails the last error is returned.
    #[tokio::test(start_paused = true)]
    async fn an_unanswered_ask_is_sent_again_to_any_replica() {
        let started = Instant::now();
        let mut asked = 0;
        let got = hedged(HEDGE, || {
            asked += 1;
            let first = asked == 1;
            async move {
                if first {
                    std::future::pending().await
                } else {
                    Ok::<_, Option<Error>>(Instant::now())
                }
            }
        })
        .await
        .unwrap();
        assert_eq!((asked, got - started), (2, HEDGE));

        let started = Instant::now();
        let mut asked = 0;
        let got = hedged(HEDGE, || {
            asked += 1;
            async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok::<_, Option<Error>>(())
            }
        })
        .await;
        assert!(got.is_ok());
        assert_eq!((asked, started.elapsed()), (HEDGES, Duration::from_secs(10)));

        let mut asked = 0;
        let got: Result<(), _> = hedged(HEDGE, || {
            asked += 1;
            let n = asked;
            async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Err(Some(Error::Timeout(if n == 3 { "last" } else { "early" })))
            }
        })
        .await;
        assert!(matches!(got, Err(Some(Error::Timeout("last")))), "{got:?}");
    }

    /// A shard that takes an answer past the grace is given up then.
    #[tokio::test(start_paused = true)]
    async fn an_answer_is_awaited_until_the_grace_ends() {
        let arrived = Instant::now();
        let got: Result<(), Error> = ask_until(arrived, |_| std::future::pending()).await;
        assert!(matches!(got, Err(Error::Timeout(_))));
        assert_eq!(arrived.elapsed(), READ_DEADLINE + ANSWER_GRACE);
    }
}
