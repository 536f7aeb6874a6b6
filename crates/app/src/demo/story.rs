//! The story, step by step. Each step calls the same use case the CLI and the desktop
//! app call, with the phone answering over the relay, and checks what it produced
//! before the next step starts: a step that does not hold stops the demo with an
//! error naming it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bidkit_crypto::Suite;
use bidkit_keystore::{CertSelector, Home, KeystoreConfig, RecordFilter};
use bidkit_pdf::placement::{DEFAULT_SEAM_SLICES, Occurrence, PagePosition, Parity, Placement};
use bidkit_pdf::sign::SubFilter;
use bidkit_pdf::verify::{
    DocumentVerdict, TrustChoice, VerificationReport, VerifyOptions, verify_file,
};
use bidkit_pki::CertificateAuthority;
use bidkit_relay::clock::SharedClock;
use bidkit_tender::{
    Agent, BidProject, Bidder, BuildOptions, LoadedTender, OpeningRecord, RecordBid, TenderPackage,
    check, write_opening_record,
};
use time::OffsetDateTime;

use super::cast::{self, AGENT, BIDDER, Party};
use super::devices::{DemoPhone, RelayNode, Scanned, ToolScreen};
use super::{DemoReport, DemoStep, demo_err, io_err};
use crate::AppError;
use crate::bid::{
    DecryptOptions, DecryptReport, EncryptOptions, EncryptReport, SubmitOptions, decrypt_bid,
    encrypt_bid, submit_bid,
};
use crate::opening::{
    BIDDER_LINE, BidStatus, ConfirmOptions, ConfirmationReport, OpeningOptions, confirm_opening,
    load_bids, verify_confirmation,
};
use crate::package::{ATTACHMENTS_DIR, MANIFEST_MEMBER, PackageManifest};
use crate::qr::write_atomically;
use crate::seal::{SealDocument, SealOptions, SealReport, seal_documents};
use crate::session::{RelayChoice, TrustRoots, load_trust, system_clock};
use crate::sign::SignOptions;

/// The state directory (keystore, CA) inside the output directory.
pub(super) const HOME_DIR: &str = "home";
/// The opening record as written (and confirmed); sealed, it becomes
/// `opening-record-sealed.pdf`.
const RECORD: &str = "opening-record.pdf";
/// The directory the decrypted bid package is extracted into (under `opened/`).
const OPENED_PACKAGE: &str = "opened/bid";

const TENDER_ID: &str = "ZB-2026-DEMO-0001";
const QUOTED_PRICE: &str = "9876543.21";
const KEYWORD: &str = "投标人（盖章）";
/// How long the tool waits for a phone in each session.
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);

/// The demo in progress.
pub(super) struct Story<'a> {
    out: PathBuf,
    home: PathBuf,
    suite: Suite,
    relay: RelayNode,
    runtime: tokio::runtime::Runtime,
    clock: SharedClock,
    steps: Vec<DemoStep>,
    artifacts: Vec<String>,
    pending: Vec<String>,
    since: Instant,
    on_step: &'a mut dyn FnMut(&DemoStep),
}

impl<'a> Story<'a> {
    /// Start the relay node and the tool's runtime.
    pub(super) fn new(
        out: &Path,
        suite: Suite,
        on_step: &'a mut dyn FnMut(&DemoStep),
    ) -> Result<Story<'a>, AppError> {
        let out = std::path::absolute(out).map_err(io_err(out))?;
        let since = Instant::now();
        let relay = RelayNode::start()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| demo_err("relay", format!("cannot start an async runtime: {e}")))?;
        Ok(Story {
            home: out.join(HOME_DIR),
            out,
            suite,
            relay,
            runtime,
            clock: system_clock(),
            steps: Vec::new(),
            artifacts: Vec::new(),
            pending: Vec::new(),
            since,
            on_step,
        })
    }

    /// Run every step in order.
    pub(super) fn play(mut self) -> Result<DemoReport, AppError> {
        self.step(
            "relay",
            format!(
                "中继节点在 {} 监听, 投标人与代理的手机各在独立线程中经回环网络连接 / relay node listening; each phone on its own thread, over loopback",
                self.relay.address()
            ),
            0,
        );

        let home = Home::new(
            &self.home,
            KeystoreConfig::default().with_platform("bidkit-demo"),
        );
        let bidder = cast::enrol(&home, &BIDDER, self.suite)?;
        let legal_seal = bidder
            .legal_seal
            .clone()
            .ok_or_else(|| demo_err("bidder-phone", "the bidder has no 法定代表人章".into()))?;
        self.step(
            "bidder-phone",
            format!(
                "投标人 {} 的手机: 个人与「{}」({}) 的签名/加密双证书 (签名证书 {} / {}), 印章「{}」「{}」由模板制作 / bidder's phone enrolled, organisation and seals made",
                bidder.person,
                bidder.organisation,
                bidder.uscc,
                bidder.serials.0,
                bidder.serials.1,
                bidder.official_seal.name,
                legal_seal.name
            ),
            0,
        );
        let agent = cast::enrol(&home, &AGENT, self.suite)?;
        self.step(
            "agent-phone",
            format!(
                "招标代理 {} 的手机: 「{}」的双证书 (签名证书 {}), 印章「{}」/ agent's phone enrolled",
                agent.person, agent.organisation, agent.serials.1, agent.official_seal.name
            ),
            0,
        );

        let (tender, materials) = self.tender(&agent)?;
        let (project, built) = self.build(&tender, &materials, &bidder)?;
        let pages = built.1;
        let sealed = self.seal_bid(&bidder, &legal_seal, &built.0, pages)?;
        self.check(&tender, &project, &sealed)?;
        let encrypted = self.encrypt(&bidder, &project, &materials, &sealed)?;
        let receipt = self.submit(&bidder, &encrypted, &tender)?;
        let bid = self.opening_status(&bidder, &encrypted, &receipt)?;
        let (decrypted, manifest) = self.decrypt(&bidder, &bid, &encrypted, &materials, &sealed)?;
        let verification = self.verify(&decrypted.pdf)?;
        let (record, row) =
            self.opening_record(&tender, &agent, &bid, &decrypted, &manifest, &verification)?;
        let confirmation = self.confirm_record(&bidder, &record, &row)?;
        self.seal_record(&agent, &record, &confirmation.file)?;
        self.records(&[&bidder, &agent])?;

        let confirmation = confirmation
            .file
            .strip_prefix(&self.out)
            .unwrap_or(&confirmation.file)
            .to_string_lossy()
            .into_owned();
        Ok(DemoReport {
            suite: self.suite,
            out: self.out.display().to_string(),
            relay: self.relay.address().to_string(),
            steps: self.steps,
            artifacts: self.artifacts,
            quoted_price: row.quoted_price.unwrap_or_default(),
            confirmation,
        })
    }

    // -----------------------------------------------------------------------------
    // Steps

    /// The agent publishes the tender package.
    fn tender(&mut self, agent: &Party) -> Result<(LoadedTender, cast::Materials), AppError> {
        let materials = cast::materials(&self.out.join("materials"))?;
        let mut package = TenderPackage::new_template(OffsetDateTime::now_utc());
        package.tender_id = TENDER_ID.into();
        package.agent = Agent {
            name: agent.organisation.clone(),
            uscc: Some(agent.uscc.clone()),
        };
        package.suite = match self.suite {
            Suite::Gm => bidkit_tender::Suite::Gm,
            Suite::Nist => bidkit_tender::Suite::Nist,
        };
        let dir = self.out.join("tender");
        let loaded = package
            .write_package(&dir, Some(&materials.tender_document))
            .map_err(tender_err("tender"))?;
        self.keep_tree("materials")?;
        self.keep_tree("tender")?;
        let p = &loaded.package;
        let sections: Vec<String> = p.sections.iter().map(|s| s.label()).collect();
        let seals: Vec<String> = p.seals.iter().map(|s| s.label()).collect();
        self.step(
            "tender",
            format!(
                "代理发布招标文件包 {} 「{}」: 章节 {}; 印章要求 {}; 算法 {} / tender package published",
                p.tender_id,
                p.project.name,
                sections.join("、"),
                seals.join("; "),
                self.suite
            ),
            0,
        );
        Ok((loaded, materials))
    }

    /// The bidder's project follows the tender; the builder makes one PDF.
    fn build(
        &mut self,
        tender: &LoadedTender,
        materials: &cast::Materials,
        bidder: &Party,
    ) -> Result<(BidProject, (PathBuf, u32)), AppError> {
        let err = tender_err("bid-build");
        let mut project = BidProject::init(
            tender,
            &self.out.join("bid-project"),
            Bidder {
                name: bidder.organisation.clone(),
                uscc: bidder.uscc.clone(),
            },
        )
        .map_err(&err)?;
        for (section, file) in &materials.sections {
            project.add(section, file).map_err(&err)?;
        }
        project.set_quoted_price(Some(QUOTED_PRICE)).map_err(&err)?;
        let output = self.out.join("bid.pdf");
        let options = BuildOptions {
            font: None,
            date: None,
        };
        let report = project
            .build(&output, &options, &mut |_| {})
            .map_err(&err)?;
        self.keep_tree("bid-project")?;
        self.keep("bid.pdf");
        let sections: Vec<String> = report
            .sections
            .iter()
            .map(|s| format!("{} p.{}", s.title, s.first_page))
            .collect();
        self.step(
            "bid-build",
            format!(
                "投标文件生成: {} 页 (封面, 目录, {}), 书签与页码, 字体 {} 子集嵌入, 报价 {QUOTED_PRICE} 元 / bid document built",
                report.pages,
                sections.join(", "),
                report.font_family
            ),
            0,
        );
        Ok((project, (output, report.pages)))
    }

    /// Three sealing operations, each confirmed on the bidder's phone.
    fn seal_bid(
        &mut self,
        bidder: &Party,
        legal_seal: &bidkit_keystore::Seal,
        built: &Path,
        pages: u32,
    ) -> Result<PathBuf, AppError> {
        let keyword = self.out.join("bid-sealed-keyword.pdf");
        let report = self.seal(
            &bidder.phone,
            bidder.official_seal.id,
            Placement::Keyword {
                keyword: KEYWORD.into(),
                occurrence: Occurrence::All,
                offset_mm: (0.0, 0.0),
            },
            built,
            &keyword,
        )?;
        self.keep("bid-sealed-keyword.pdf");
        self.step(
            "seal-keyword",
            format!(
                "关键字签章: 「{}」盖在「{KEYWORD}」的 {} 处 {} / official seal on the keyword",
                report.seal_name,
                stamps(&report),
                signed_by(&report)
            ),
            1,
        );

        let page = self.out.join("bid-sealed-page.pdf");
        let report = self.seal(
            &bidder.phone,
            legal_seal.id,
            Placement::Page {
                page: pages,
                at: Some(PagePosition {
                    x_mm: 150.0,
                    y_mm: 240.0,
                }),
            },
            &keyword,
            &page,
        )?;
        self.keep("bid-sealed-page.pdf");
        self.step(
            "seal-page",
            format!(
                "单页签章: 「{}」盖在第 {pages} 页 (150, 240) mm 处 {} / legal representative's seal on the last page",
                report.seal_name,
                signed_by(&report)
            ),
            1,
        );

        let seam = self.out.join("bid-sealed.pdf");
        let report = self.seal(
            &bidder.phone,
            bidder.official_seal.id,
            Placement::Seam {
                pages: None,
                parity: Parity::All,
                max_slices: DEFAULT_SEAM_SLICES,
                y_mm: None,
            },
            &page,
            &seam,
        )?;
        self.keep("bid-sealed.pdf");
        self.step(
            "seal-seam",
            format!(
                "骑缝章: 「{}」切成 {} 片盖在 {pages} 页的右边缘 {} / seam seal across every page",
                report.seal_name,
                stamps(&report),
                signed_by(&report)
            ),
            1,
        );
        Ok(seam)
    }

    /// The checklist against the tender's requirements.
    fn check(
        &mut self,
        tender: &LoadedTender,
        project: &BidProject,
        sealed: &Path,
    ) -> Result<(), AppError> {
        let options = self.verify_options()?;
        let err = tender_err("check");
        let list = check(tender, Some(project), Some(sealed), &options).map_err(&err)?;
        list.save(&self.out.join("bid-checklist.json"))
            .map_err(&err)?;
        self.keep("bid-checklist.json");
        if !list.passed() {
            let failures: Vec<String> = list
                .failures()
                .map(|i| format!("{} ({:?})", i.title, i.status))
                .collect();
            return Err(demo_err(
                "check",
                format!("the bid does not meet the tender: {}", failures.join("; ")),
            ));
        }
        self.step(
            "check",
            format!(
                "投标检查: {} 项全部通过 (必需章节, 报价, 必需印章有效, 盖章后未改动) / checklist passed",
                list.items.len()
            ),
            0,
        );
        Ok(())
    }

    /// Encrypt the bid package to the phone's encryption certificate; the header signed
    /// on the phone.
    fn encrypt(
        &mut self,
        bidder: &Party,
        project: &BidProject,
        materials: &cast::Materials,
        sealed: &Path,
    ) -> Result<EncryptReport, AppError> {
        let bids = self.out.join("bids");
        std::fs::create_dir_all(&bids).map_err(io_err(&bids))?;
        // As `bidkit bid encrypt PROJECT` does: the payload is the bid package of the
        // sealed PDF the checklist passed, the project's manifest (with the quoted
        // price) and the attachments.
        let mut opts =
            EncryptOptions::new(self.sign_options(), sealed, bids.join("bid.bid"), TENDER_ID);
        opts.manifest = Some(project.dir().join(bidkit_tender::BID_FILE));
        opts.attachments = materials.attachments.clone();
        let (report, _) =
            self.with_phone(&bidder.phone, 2, async |s| encrypt_bid(&opts, s).await)?;
        self.keep("bids/bid.bid");
        let manifest = report
            .manifest
            .as_ref()
            .ok_or_else(|| demo_err("encrypt", "the payload is not a bid package".into()))?;
        let sealed_sha256 = sha256_hex(sealed)?;
        if manifest.quoted_price() != Some(QUOTED_PRICE)
            || manifest.pdf.sha256 != sealed_sha256
            || manifest.attachments.len() != materials.attachments.len()
        {
            return Err(demo_err(
                "encrypt",
                format!(
                    "the package's manifest is not the bid's: price {:?} (expected {QUOTED_PRICE}), bid.pdf SHA-256 {} (sealed {sealed_sha256}), {} attachment(s) (expected {})",
                    manifest.quoted_price(),
                    manifest.pdf.sha256,
                    manifest.attachments.len(),
                    materials.attachments.len()
                ),
            ));
        }
        self.step(
            "encrypt",
            format!(
                "加密: 投标包 ({MANIFEST_MEMBER} 报价 {QUOTED_PRICE} 元 + {} + {}) {} 字节 → {} 块 {}, 内容密钥封装给加密证书 {}, 文件头由 {} 签名 (两次扫码) / bid package encrypted",
                manifest.pdf.name,
                manifest
                    .attachments
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" + "),
                report.content_size,
                report.chunks,
                match self.suite {
                    Suite::Gm => "SM4-GCM",
                    Suite::Nist => "AES-256-GCM",
                },
                report
                    .recipients
                    .first()
                    .map_or("—", |r| r.serial.as_str()),
                common_name(&report.signer)
            ),
            2,
        );
        Ok(report)
    }

    /// The signed submission receipt.
    fn submit(
        &mut self,
        bidder: &Party,
        encrypted: &EncryptReport,
        tender: &LoadedTender,
    ) -> Result<PathBuf, AppError> {
        let receipt = self.out.join("bids").join("bid-receipt.json");
        let mut opts = SubmitOptions::new(self.sign_options(), &encrypted.file, &receipt);
        opts.tender_name = Some(tender.package.project.name.clone());
        opts.project_code = Some(tender.package.project.number.clone());
        let (report, _) =
            self.with_phone(&bidder.phone, 1, async |s| submit_bid(&opts, s).await)?;
        self.keep("bids/bid-receipt.json");
        self.step(
            "submit",
            format!(
                "递交: 回执签名 {} (投标文件哈希 {}) / submission receipt signed by {}",
                bidkit_pki::fmt_time(report.at),
                short(&report.bid_file_hash),
                common_name(&report.signer)
            ),
            1,
        );
        Ok(receipt)
    }

    /// The agent's view of the bids before any decryption.
    fn opening_status(
        &mut self,
        bidder: &Party,
        encrypted: &EncryptReport,
        receipt: &Path,
    ) -> Result<BidStatus, AppError> {
        let status = load_bids(&OpeningOptions {
            inputs: vec![self.out.join("bids")],
            tender_id: Some(TENDER_ID.into()),
            trust: TrustRoots::HomeCa,
            home: self.home.clone(),
            now: OffsetDateTime::now_utc(),
        })?;
        write_atomically(
            &self.out.join("opening-status.json"),
            &serde_json::to_vec_pretty(&status).map_err(json_err("opening-status"))?,
        )?;
        self.keep("opening-status.json");
        let bid = status.decryptable(&bidder.uscc)?.clone();
        if !status.all_sound() || bid.file != encrypted.file || bid.submitted_at.is_none() {
            return Err(demo_err(
                "opening-status",
                format!(
                    "the bid is not sound before decryption ({}): {}",
                    bid.state(),
                    bid.problems.join("; ")
                ),
            ));
        }
        self.step(
            "opening-status",
            format!(
                "开标前: {} 份投标文件; {} 于 {} 递交 (回执 {}), 文件完整, 文件头签名与证书链有效 / before decryption: submitted, intact, signer verified",
                status.bids.len(),
                bid.bidder.as_ref().map_or("—", |b| b.name.as_str()),
                bid.submitted_at.as_deref().unwrap_or("—"),
                receipt
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            ),
            0,
        );
        Ok(bid)
    }

    /// The bidder decrypts by scanning the decrypt QR code; the bid package is checked
    /// and extracted into `opened/bid/`.
    fn decrypt(
        &mut self,
        bidder: &Party,
        bid: &BidStatus,
        encrypted: &EncryptReport,
        materials: &cast::Materials,
        sealed: &Path,
    ) -> Result<(DecryptReport, PackageManifest), AppError> {
        let opened = self.out.join("opened");
        std::fs::create_dir_all(&opened).map_err(io_err(&opened))?;
        let opts = DecryptOptions::new(
            self.sign_options(),
            &bid.file,
            self.out.join(OPENED_PACKAGE),
        );
        let (report, scanned) =
            self.with_phone(&bidder.phone, 1, async |s| decrypt_bid(&opts, s).await)?;
        self.keep_tree(OPENED_PACKAGE)?;
        let fail = |detail: String| Err(demo_err("decrypt", detail));
        let Some(manifest) = report.manifest.clone() else {
            return fail("the decrypted payload is not a bid package".into());
        };
        if report.content_hash != encrypted.content_hash || read(&report.pdf)? != read(sealed)? {
            return fail(format!(
                "the decrypted document {} differs from the sealed one",
                report.pdf.display()
            ));
        }
        if encrypted.manifest.as_ref() != Some(&manifest)
            || manifest.quoted_price() != Some(QUOTED_PRICE)
            || manifest.tender_id() != TENDER_ID
            || manifest.bidder().uscc != bidder.uscc
        {
            return fail(format!(
                "the decrypted manifest is not the one encrypted (tender {}, bidder {}, price {:?})",
                manifest.tender_id(),
                manifest.bidder().uscc,
                manifest.quoted_price()
            ));
        }
        for original in &materials.attachments {
            let name = original
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let extracted = report.output.join(ATTACHMENTS_DIR).join(&name);
            if read(&extracted)? != read(original)? {
                return fail(format!("the attachment {name} differs from the bidder's"));
            }
        }
        let purpose = scanned.first().and_then(|s| s.purpose);
        self.step(
            "decrypt",
            format!(
                "解密: 投标人扫描解密二维码 ({}), 只有封装的内容密钥端到端加密往返手机; {} 块全部认证; 投标包检查后解包到 {OPENED_PACKAGE}/: bid.pdf 与盖章文件逐字节相同, 清单报价 {} 元, {} 个附件与原件相同 / decrypted by scan, bid package checked and extracted",
                purpose.map_or_else(|| "—".to_owned(), |p| format!("{p:?}")),
                report.chunks,
                manifest.quoted_price().unwrap_or("—"),
                manifest.attachments.len()
            ),
            1,
        );
        Ok((report, manifest))
    }

    /// Every seal and signature of the decrypted bid.
    fn verify(&mut self, pdf: &Path) -> Result<VerificationReport, AppError> {
        let report = verify_file(pdf, &self.verify_options()?)?;
        write_atomically(
            &self.out.join("opened").join("bid-verification.json"),
            &serde_json::to_vec_pretty(&report).map_err(json_err("verify"))?,
        )?;
        self.keep("opened/bid-verification.json");
        if report.verdict != DocumentVerdict::Valid || report.signatures.len() != 3 {
            return Err(demo_err(
                "verify",
                format!(
                    "expected 3 valid signatures, found {} ({:?})",
                    report.signatures.len(),
                    report.verdict
                ),
            ));
        }
        let stamps: usize = report.signatures.iter().map(|s| s.stamps.len()).sum();
        self.step(
            "verify",
            format!(
                "验证: 3 个签名全部有效 (证书链至演示根证书, 覆盖各自修订版, 其后只有允许的签章), 共 {stamps} 个印章 / every seal and signature verifies"
            ),
            0,
        );
        Ok(report)
    }

    /// The opening record (开标记录), with the quoted price from the decrypted bid
    /// package's manifest, as `bidkit open record` writes it. Returns the record and
    /// the bidder's row.
    fn opening_record(
        &mut self,
        tender: &LoadedTender,
        agent: &Party,
        bid: &BidStatus,
        decrypted: &DecryptReport,
        manifest: &PackageManifest,
        verification: &VerificationReport,
    ) -> Result<(PathBuf, RecordBid), AppError> {
        let stamps: usize = verification.signatures.iter().map(|s| s.stamps.len()).sum();
        let signers: Vec<String> = verification
            .signatures
            .iter()
            .filter_map(|s| {
                s.signer
                    .as_ref()
                    .map(|g| common_name(&g.subject).to_owned())
            })
            .collect();
        let record = OpeningRecord {
            tender_id: TENDER_ID.into(),
            project_name: Some(tender.package.project.name.clone()),
            opened_at: bidkit_pki::fmt_time(OffsetDateTime::now_utc()),
            agent: Some(format!("{} ({})", agent.organisation, agent.person)),
            bids: vec![RecordBid {
                bidder_name: decrypted.bidder.name.clone(),
                bidder_uscc: decrypted.bidder.uscc.clone(),
                state: "已开启 / opened".into(),
                quoted_price: manifest.quoted_price().map(str::to_owned),
                submitted_at: bid.submitted_at.clone(),
                file_hash: bid.bid_file_hash.clone(),
                verification: vec![
                    format!(
                        "有效 / VALID — {n} of {n} signature(s) valid, {stamps} stamp(s), by {}",
                        signers.join("; "),
                        n = verification.signatures.len()
                    ),
                    format!(
                        "报价取自投标包清单，清单在投标人签名的密文内 / the quoted price is from the bid package's manifest, inside the payload the bidder signed (content hash in the signed header); manifest: {} ({}), tender {}, {} attachment(s)",
                        manifest.bidder().name,
                        manifest.bidder().uscc,
                        manifest.tender_id(),
                        manifest.attachments.len()
                    ),
                ],
            }],
            notes: Vec::new(),
        };
        let path = self.out.join(RECORD);
        let report =
            write_opening_record(&record, &path, None).map_err(tender_err("opening-record"))?;
        self.keep(RECORD);
        let [row] = <[RecordBid; 1]>::try_from(record.bids).map_err(|_| {
            demo_err(
                "opening-record",
                "the record does not hold exactly one bid".into(),
            )
        })?;
        self.step(
            "opening-record",
            format!(
                "开标记录: {} 页, 1 份投标, {} 投标报价 {} 元 (取自投标人签名的投标包清单) (SHA-256 {}) / opening record written with the quoted price",
                report.pages,
                row.bidder_name,
                row.quoted_price.as_deref().unwrap_or("—"),
                short(&report.sha256)
            ),
            0,
        );
        Ok((path, row))
    }

    /// The bidder confirms the opening record by scan, as `bidkit open confirm` does:
    /// the phone is shown the bidder's row and signs a confirmation of the record's
    /// exact bytes; the confirmation is then verified as `bidkit open verify-record`
    /// does.
    fn confirm_record(
        &mut self,
        bidder: &Party,
        record: &Path,
        row: &RecordBid,
    ) -> Result<ConfirmationReport, AppError> {
        let name = confirmation_name(&bidder.uscc);
        let output = self.out.join(&name);
        let mut opts = ConfirmOptions::new(
            self.sign_options(),
            record,
            TENDER_ID,
            &bidder.uscc,
            &output,
        );
        opts.lines = confirmation_lines(row, 1);
        let (report, scanned) =
            self.with_phone(&bidder.phone, 1, async |s| confirm_opening(&opts, s).await)?;
        self.keep(&name);
        let now = OffsetDateTime::now_utc();
        let trust = load_trust(&TrustRoots::HomeCa, &self.home, self.suite, now)?;
        let check = verify_confirmation(&output, Some(record), &trust, now)?;
        if check.statement != report.statement
            || check.statement.bidder.uscc != bidder.uscc
            || check.record_extended != Some(false)
        {
            return Err(demo_err(
                "confirm-record",
                format!(
                    "the confirmation {} is not the bidder's of {}",
                    output.display(),
                    record.display()
                ),
            ));
        }
        let purpose = scanned.first().and_then(|s| s.purpose);
        self.step(
            "confirm-record",
            format!(
                "投标人扫码确认开标记录 ({}): 手机显示本人一行 (投标报价 {} 元), 以 {} 签署记录 {} 字节的哈希 {}, 验证有效 / the bidder confirmed the opening record by scan",
                purpose.map_or_else(|| "—".to_owned(), |p| format!("{p:?}")),
                row.quoted_price.as_deref().unwrap_or("—"),
                common_name(&check.signer),
                check.statement.record_size,
                short(&check.statement.record_hash)
            ),
            1,
        );
        Ok(check)
    }

    /// The agent seals the confirmed opening record; it verifies, and the bidder's
    /// confirmation still holds for it (the seal is an incremental update).
    fn seal_record(
        &mut self,
        agent: &Party,
        record: &Path,
        confirmation: &Path,
    ) -> Result<(), AppError> {
        let sealed = self.out.join("opening-record-sealed.pdf");
        let report = self.seal(
            &agent.phone,
            agent.official_seal.id,
            Placement::Page { page: 1, at: None },
            record,
            &sealed,
        )?;
        self.keep("opening-record-sealed.pdf");
        let check = verify_file(&sealed, &self.verify_options()?)?;
        if check.verdict != DocumentVerdict::Valid {
            return Err(demo_err(
                "seal-record",
                format!(
                    "the sealed opening record does not verify: {:?}",
                    check.verdict
                ),
            ));
        }
        let now = OffsetDateTime::now_utc();
        let trust = load_trust(&TrustRoots::HomeCa, &self.home, self.suite, now)?;
        let confirmed = verify_confirmation(confirmation, Some(&sealed), &trust, now)?;
        if confirmed.record_extended != Some(true) {
            return Err(demo_err(
                "seal-record",
                "the sealed opening record does not extend the confirmed one".into(),
            ));
        }
        self.step(
            "seal-record",
            format!(
                "代理在已确认的开标记录上盖「{}」{}, 验证有效; 投标人的确认仍对应盖章后的记录 (增量更新保留已确认的字节) / agent sealed the confirmed opening record; the confirmation still holds",
                report.seal_name,
                signed_by(&report)
            ),
            1,
        );
        Ok(())
    }

    /// Usage records, certificates and the CA root.
    fn records(&mut self, parties: &[&Party]) -> Result<(), AppError> {
        let mut lines = Vec::new();
        let mut chain = None;
        for party in parties {
            let phone = &party.phone.phone;
            let role = party.phone.role;
            chain = Some(phone.service().verify_records()?);
            let records = phone.records(&RecordFilter::default())?;
            let name = format!("{role}-usage-records.json");
            write_atomically(
                &self.out.join(&name),
                bidkit_keystore::records::to_json(&records)?.as_bytes(),
            )?;
            self.keep(&name);
            self.export_certs(party)?;
            lines.push(format!("{role} {} 条", records.len()));
        }
        if let Some(check) = chain {
            lines.push(format!(
                "平台记录哈希链完整 ({} 条, head {})",
                check.count,
                short(&check.head)
            ));
        }
        let now = OffsetDateTime::now_utc();
        let ca = CertificateAuthority::open_or_create(
            &self.home.join("ca").join(self.suite.as_str()),
            self.suite,
            now,
        )?;
        write_atomically(&self.out.join("ca-root.pem"), ca.root().to_pem().as_bytes())?;
        self.keep("ca-root.pem");
        self.step(
            "records",
            format!(
                "使用记录: {}; 证书与根证书已导出 / usage records chained and intact; certificates exported",
                lines.join("; ")
            ),
            0,
        );
        Ok(())
    }

    // -----------------------------------------------------------------------------
    // Helpers

    fn sign_options(&self) -> SignOptions {
        let mut opts = SignOptions::new(&self.home, self.suite);
        opts.relay = RelayChoice::Remote {
            connect: self.relay.address().clone(),
            advertise: None,
        };
        opts.timeout = SESSION_TIMEOUT;
        opts.clock = self.clock.clone();
        opts
    }

    fn verify_options(&self) -> Result<VerifyOptions, AppError> {
        Ok(VerifyOptions::new(TrustChoice::from_home_and_pems(
            Some(&self.home),
            &[],
        )?))
    }

    /// Seal `input` into `output` with `seal_id`, `phone` approving.
    fn seal(
        &self,
        phone: &DemoPhone,
        seal_id: i64,
        placement: Placement,
        input: &Path,
        output: &Path,
    ) -> Result<SealReport, AppError> {
        let opts = SealOptions {
            sign: self.sign_options(),
            seal_id,
            placement,
            sub_filter: SubFilter::default(),
            documents: vec![SealDocument {
                input: input.to_path_buf(),
                output: output.to_path_buf(),
            }],
            ses: false,
            tsa_url: None,
        };
        let (report, _) = self.with_phone(phone, 1, async |s| seal_documents(&opts, s).await)?;
        Ok(report)
    }

    /// Run a use case on the tool while `phone` scans the next `sessions` QR codes the
    /// tool shows; both screens must have shown the same verification code.
    fn with_phone<T>(
        &self,
        phone: &DemoPhone,
        sessions: u32,
        work: impl AsyncFnOnce(&mut ToolScreen) -> Result<T, AppError>,
    ) -> Result<(T, Vec<Scanned>), AppError> {
        let (mut screen, camera) = ToolScreen::new();
        let scanning = phone.watch(camera, sessions);
        let result = self.runtime.block_on(work(&mut screen));
        let codes = std::mem::take(&mut screen.codes);
        drop(screen);
        let scanned = scanning.finish();
        let value = result?;
        let scanned = scanned?;
        let on_phone: Vec<String> = scanned
            .iter()
            .filter_map(|s| s.code_on_phone.clone())
            .collect();
        if codes != on_phone || codes.len() != scanned.len() {
            return Err(demo_err(
                phone.role,
                format!(
                    "the verification codes differ: tool showed {codes:?}, phone showed {on_phone:?}"
                ),
            ));
        }
        Ok((value, scanned))
    }

    fn export_certs(&mut self, party: &Party) -> Result<(), AppError> {
        let phone = &party.phone.phone;
        let role = party.phone.role;
        for (label, selector) in [
            ("person", CertSelector::Person),
            ("org", CertSelector::Organisation(party.uscc.clone())),
        ] {
            let sign = phone.signing_certificate(&selector, Some(self.suite))?;
            let enc = phone.encryption_certificate(&selector, Some(self.suite))?;
            for (kind, cert) in [("signing", sign), ("encryption", enc)] {
                let name = format!("{role}-{label}-{kind}.pem");
                write_atomically(&self.out.join(&name), cert.to_pem().as_bytes())?;
                self.keep(&name);
            }
        }
        Ok(())
    }

    /// Note a file written under the output directory.
    fn keep(&mut self, rel: &str) {
        self.pending.push(rel.to_owned());
    }

    /// Note every file under `rel` (sorted).
    fn keep_tree(&mut self, rel: &str) -> Result<(), AppError> {
        let mut found = Vec::new();
        let mut dirs = vec![self.out.join(rel)];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
                let path = entry.map_err(io_err(&dir))?.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(r) = path.strip_prefix(&self.out) {
                    found.push(r.to_string_lossy().into_owned());
                }
            }
        }
        found.sort();
        self.pending.extend(found);
        Ok(())
    }

    fn step(&mut self, id: &'static str, detail: String, scans: u32) {
        let artifacts = std::mem::take(&mut self.pending);
        self.artifacts.extend(artifacts.iter().cloned());
        let step = DemoStep {
            id,
            detail,
            artifacts,
            scans,
            millis: u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        (self.on_step)(&step);
        self.steps.push(step);
        self.since = Instant::now();
    }
}

fn stamps(report: &SealReport) -> usize {
    report.documents.iter().map(|d| d.stamps.len()).sum()
}

fn signed_by(report: &SealReport) -> String {
    format!(
        "(手机确认, 验证码 {}, 签名证书 {})",
        report.verification_code,
        common_name(&report.signer)
    )
}

/// The `CN` of a distinguished name as the certificates print it, else the whole name.
fn common_name(subject: &str) -> &str {
    subject
        .split(", ")
        .find_map(|part| part.strip_prefix("CN="))
        .unwrap_or(subject)
}

fn read(path: &Path) -> Result<Vec<u8>, AppError> {
    std::fs::read(path).map_err(io_err(path))
}

/// SHA-256 of a file, lowercase hex (what a package manifest records).
fn sha256_hex(path: &Path) -> Result<String, AppError> {
    Ok(hex::encode(bidkit_bidfile::hash_file(path, Suite::Nist)?))
}

/// The confirmation's name, as `bidkit open confirm` names it beside the record:
/// `opening-record.confirm-USCC.json`.
fn confirmation_name(uscc: &str) -> String {
    let stem = RECORD.strip_suffix(".pdf").unwrap_or(RECORD);
    let safe: String = uscc
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{stem}.confirm-{safe}.json")
}

/// What the bidder's phone shows of the record, as `bidkit open confirm` shows it:
/// the bidder's row (name, code, state, quoted price, bid-file hash) and how many bids
/// the record holds.
fn confirmation_lines(row: &RecordBid, bids: usize) -> Vec<String> {
    let mut lines = vec![
        format!("{BIDDER_LINE}{}", row.bidder_name),
        format!("统一社会信用代码 / USCC: {}", row.bidder_uscc),
        format!("状态 / state: {}", row.state),
        format!(
            "投标报价 / quoted price: {}",
            row.quoted_price.as_deref().unwrap_or("—")
        ),
    ];
    if let Some(hash) = &row.file_hash {
        lines.push(format!("文件哈希 / bid-file hash: {hash}"));
    }
    lines.push(format!("投标文件 / bids in the record: {bids}"));
    lines
}

fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

fn tender_err(step: &'static str) -> impl Fn(bidkit_tender::TenderError) -> AppError {
    move |e| demo_err(step, e.to_string())
}

fn json_err(step: &'static str) -> impl Fn(serde_json::Error) -> AppError {
    move |e| demo_err(step, format!("cannot write JSON: {e}"))
}
