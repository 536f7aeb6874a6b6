//! The 扫码登录 (log in by scan) screen's use case: [`crate::login::login`] with its
//! progress turned into plain values a UI can show as they come: every rotating QR
//! frame already drawn as a PNG with its deadline, phones the relay turned away, and
//! the verification code once a phone joined.

use std::time::Duration;

use crate::AppError;
use crate::login::{LoginIdentity, LoginObserver, LoginOptions, QrFrame, login};
use crate::qr::QrImage;

/// One step of a running login, for the screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginProgress {
    /// A new QR frame to show (the first one, then one per rotation step).
    Qr {
        /// The text the QR code encodes (`BK1:…`).
        text: String,
        /// The QR code as a PNG.
        png: Vec<u8>,
        /// How often the frame changes.
        step: Duration,
        /// When the code stops working, Unix time in milliseconds.
        expires_at_ms: u64,
    },
    /// The relay turned a phone away (a stale screenshot, a second phone …).
    Rejected {
        /// The relay's code (`qr-stale`, `already-joined` …).
        code: String,
        /// What it means, for people.
        hint: String,
        /// Phones turned away so far.
        total: u32,
    },
    /// A phone joined: the code the holder compares with the phone's.
    Joined {
        /// The verification code.
        code: String,
    },
}

/// Forwards the session's progress to a callback.
struct Forward<F>(F);

impl<F: FnMut(LoginProgress) + Send> LoginObserver for Forward<F> {
    fn qr_frame(&mut self, frame: &QrFrame<'_>) -> Result<(), AppError> {
        let png = QrImage::encode(frame.text)?.to_png()?;
        (self.0)(LoginProgress::Qr {
            text: frame.text.to_owned(),
            png,
            step: frame.step,
            expires_at_ms: frame.join_deadline.as_millis(),
        });
        Ok(())
    }

    fn join_rejected(&mut self, code: &str, hint: &str, total: u32) {
        (self.0)(LoginProgress::Rejected {
            code: code.to_owned(),
            hint: hint.trim_start_matches([',', ' ']).to_owned(),
            total,
        });
    }

    fn phone_joined(&mut self, code: &str) {
        (self.0)(LoginProgress::Joined {
            code: code.to_owned(),
        });
    }
}

/// Logs in by scan as [`login`] does, calling `on_progress` at every step (from the
/// task running the login; keep it quick). Dropping the future cancels the session.
pub async fn login_with_progress<F>(
    opts: &LoginOptions,
    on_progress: F,
) -> Result<LoginIdentity, AppError>
where
    F: FnMut(LoginProgress) + Send,
{
    let mut observer = Forward(on_progress);
    login(opts, &mut observer).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bidkit_protocol::Timestamp;

    #[test]
    fn frames_are_drawn_and_codes_forwarded() {
        let mut seen = Vec::new();
        {
            let mut fwd = Forward(|p| seen.push(p));
            let frame = QrFrame {
                text: "BK1:TEST",
                step: Duration::from_secs(10),
                join_deadline: Timestamp::from_secs(1_700_000_000),
            };
            fwd.qr_frame(&frame).unwrap();
            fwd.join_rejected("qr-stale", ", a stale QR code", 1);
            fwd.phone_joined("123456");
        }
        let LoginProgress::Qr {
            text,
            png,
            expires_at_ms,
            ..
        } = &seen[0]
        else {
            unreachable!("{seen:?}")
        };
        assert_eq!(text, "BK1:TEST");
        assert_eq!(*expires_at_ms, 1_700_000_000_000);
        assert_eq!(crate::qr::decode_png(png, "frame").unwrap(), "BK1:TEST");
        assert_eq!(
            seen[1],
            LoginProgress::Rejected {
                code: "qr-stale".into(),
                hint: "a stale QR code".into(),
                total: 1
            }
        );
        assert_eq!(
            seen[2],
            LoginProgress::Joined {
                code: "123456".into()
            }
        );
    }
}
