//! Submission receipts and withdrawals: staged signing, DER round trip, and refusal of
//! altered statements, foreign signers and bad signatures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bidkit_bidfile::{
    BidFileError, BidFileRef, Receipt, SignedReceipt, SignedWithdrawal, Statement, Withdrawal,
    hash_file,
};
use bidkit_crypto::Suite;
use common::{CREATED, Fixture, pattern};

#[test]
fn receipts_and_withdrawals_sign_round_trip_and_verify() {
    for suite in Suite::ALL {
        let fx = Fixture::new(suite);
        let dir = fx.work_dir("statements");
        let (_, outcome) = fx.make_bid(&dir, &pattern(10_000, 31), 4096);
        let bid = dir.join("bid.bkb");
        let reference = BidFileRef::of_file(&bid).unwrap();
        assert_eq!(
            reference.bid_file_hash,
            suite.hash().digest(&std::fs::read(&bid).unwrap())
        );
        assert_eq!(reference.bid_file_hash, hash_file(&bid, suite).unwrap());
        assert_eq!(&reference.file_id, outcome.header.draft().file_id());
        assert_eq!(reference.bidder, fx.bidder.bidder());

        let submitted = CREATED + time::Duration::hours(2);
        let receipt = Receipt::new(reference.clone(), submitted);
        let tbs = receipt.to_be_signed().unwrap();
        assert!(tbs.starts_with(b"BIDKIT-RECEIPT\0"));
        let sig = fx.bidder.signing_key.sign(&tbs).unwrap();
        let signed = receipt
            .clone()
            .with_signature(&fx.bidder.signing, &sig)
            .unwrap();
        let der = signed.to_der().unwrap();
        let back = SignedReceipt::from_der(&der).unwrap();
        assert_eq!(back.statement(), &receipt);
        assert_eq!(back.statement().submitted_at, submitted);
        assert!(back.statement().bid_file.matches_file(&bid).unwrap());
        let json = serde_json::to_value(back.statement()).unwrap();
        assert_eq!(json["tender_id"], "ZB-2026-0042 某某道路改造工程施工");

        // Altered statement bytes: refused (a byte of the tender id changed).
        let tender = "ZB-2026-0042".as_bytes();
        let at = der.windows(tender.len()).position(|w| w == tender).unwrap();
        let mut altered = der.clone();
        altered[at + 3] ^= 1;
        assert!(matches!(
            SignedReceipt::from_der(&altered).unwrap_err(),
            BidFileError::BadSignature { .. }
        ));
        // Truncated DER: refused.
        assert!(SignedReceipt::from_der(&der[..der.len() - 1]).is_err());

        // Signed by another organisation: refused.
        let foreign = fx.intruder.signing_key.sign(&tbs).unwrap();
        let e = receipt
            .clone()
            .with_signature(&fx.intruder.signing, &foreign)
            .unwrap_err();
        assert!(e.to_string().contains("is not the bidder"), "{e}");
        // The bidder's certificate with another key's signature: refused.
        assert!(matches!(
            receipt
                .clone()
                .with_signature(&fx.bidder.signing, &foreign)
                .unwrap_err(),
            BidFileError::BadSignature { .. }
        ));

        // A withdrawal: domain-separated from the receipt.
        let withdrawal = Withdrawal::new(
            reference.clone(),
            "报价有误，撤回重投",
            submitted + time::Duration::hours(1),
        );
        let wtbs = withdrawal.to_be_signed().unwrap();
        assert!(wtbs.starts_with(b"BIDKIT-WITHDRAW\0"));
        // A receipt signature is not a withdrawal signature.
        assert!(
            withdrawal
                .clone()
                .with_signature(&fx.bidder.signing, &sig)
                .is_err()
        );
        let wsig = fx.bidder.signing_key.sign(&wtbs).unwrap();
        let signed_w = withdrawal
            .clone()
            .with_signature(&fx.bidder.signing, &wsig)
            .unwrap();
        let back = SignedWithdrawal::from_der(&signed_w.to_der().unwrap()).unwrap();
        assert_eq!(back.statement().reason, "报价有误，撤回重投");
        // A withdrawal's DER is not a receipt.
        assert!(SignedReceipt::from_der(&signed_w.to_der().unwrap()).is_err());

        // After a bit flip the file no longer matches the receipt.
        let mut bytes = std::fs::read(&bid).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&bid, &bytes).unwrap();
        assert!(!receipt.bid_file.matches_file(&bid).unwrap());
    }
}
