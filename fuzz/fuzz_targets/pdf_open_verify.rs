//! Load untrusted bytes as a PDF, walk everything reachable and verify its signatures.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bidkit_pdf::fuzz::open_and_verify(data));
