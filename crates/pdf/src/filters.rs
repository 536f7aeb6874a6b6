//! Stream filters with caps: FlateDecode (with PNG/TIFF predictors).
//! (Implementation pending.)
