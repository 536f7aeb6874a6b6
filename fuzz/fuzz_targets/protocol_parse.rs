//! Feed untrusted bytes to every parser of the mobile-CA protocol.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bidkit_protocol::fuzz::parse_untrusted(data));
