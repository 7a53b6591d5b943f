//! The simulator's own end-to-end tests: real sockets on port 0, a tiny webhook receiver standing in for
//! Baton, and tokio's paused clock wherever time matters. One test binary (faster to link than several).

mod control;
mod faults;
mod inbound;
mod media;
mod outbound;
mod statuses;
mod support;
