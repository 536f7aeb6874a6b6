//! The PDF object parser: bytes to [`lopdf::Object`], with depth and size caps.
//! (Implementation pending.)
