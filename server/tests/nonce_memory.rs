//! What a remembered nonce costs: the bytes held per nonce, counted by a
//! global allocator, for 100,000 requests of one app key within the window.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use dnd_server::auth::{sign, Auth, Headers, TimeUnit};
use dnd_server::{App, Config};

struct Counting;

static HELD: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; the
// counter only adds and subtracts the sizes it was asked for.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HELD.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's layout, as GlobalAlloc::alloc requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: ptr was allocated by System with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn a_remembered_nonce_costs_under_64_bytes() {
    let mut config = Config::default();
    config.apps.push(App {
        key: "k".into(),
        secret: "s".into(),
    });
    let auth = Auth::new(&config);
    let now = Duration::from_secs(1_700_000_000);
    let tick = Instant::now();
    let ts = "1700000000";
    let n = 100_000;
    // Nonces as SDKs make them: a UUID's 36 characters.
    let nonces: Vec<(String, String)> = (0..n)
        .map(|i| {
            let nonce = format!("{i:08x}-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
            let sig = sign("s", &nonce, ts);
            (nonce, sig)
        })
        .collect();
    let before = HELD.load(Ordering::Relaxed);
    for (nonce, sig) in &nonces {
        let h = Headers {
            app_key: Some("k"),
            nonce: Some(nonce),
            timestamp: Some(ts),
            signature: Some(sig),
        };
        auth.check_at(h, TimeUnit::Seconds, now, tick).unwrap();
    }
    let per_nonce = (HELD.load(Ordering::Relaxed) - before) as f64 / f64::from(n);
    assert_eq!(auth.nonces_held(), n as usize);
    println!("{per_nonce:.1} bytes per remembered nonce");
    assert!(per_nonce < 64.0, "{per_nonce:.1} bytes per nonce");
}
