//! The one way Chatbell locks a std mutex.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, even if a thread panicked while holding it. Chatbell holds a lock for a look, a
/// copy, an assignment or one read, never across a change made in steps, so what a panicking
/// holder left is still whole; a poisoned lock would instead spread one panic to every thread
/// that locks after it.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
