//! Integration tests of the emulated phone keystore and platform, through the public
//! API only. One binary; modules by subject.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;

mod certificates;
mod continuous;
mod grants_and_seals;
mod kill;
mod pin;
mod records;
mod seal_records;
mod signing;
