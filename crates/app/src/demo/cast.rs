//! Who takes part in the demo, and the papers they bring: the bidder (张三, admin of a
//! construction company, with its 公章 and his 法定代表人章) and the tender agent (王五,
//! of the agency, with its 公章); the tender document and the bidder's section files.

use std::path::{Path, PathBuf};

use bidkit_crypto::Suite;
use bidkit_keystore::{Home, NewSeal, PersonDetails, Seal, SealKind};
use bidkit_pdf::generate::{DocumentSpec, write_document};
use bidkit_seal::{NameSeal, RenderOptions, RoundSeal, SealFont, SealTemplate};

use super::devices::DemoPhone;
use super::{demo_err, io_err};
use crate::AppError;

/// One party: their phone, organisation and seals.
pub(super) struct Party {
    /// The phone, with the holder's PIN.
    pub(super) phone: DemoPhone,
    /// The holder's name.
    pub(super) person: String,
    /// The organisation's name.
    pub(super) organisation: String,
    /// The organisation's unified social credit code.
    pub(super) uscc: String,
    /// The organisation's 公章.
    pub(super) official_seal: Seal,
    /// The holder's 法定代表人章 (the bidder only).
    pub(super) legal_seal: Option<Seal>,
    /// Serials of the person's and the organisation's signing certificates.
    pub(super) serials: (String, String),
}

/// Who a party is.
pub(super) struct Who {
    pub(super) role: &'static str,
    pub(super) person: &'static str,
    pub(super) id17: &'static str,
    pub(super) mobile: &'static str,
    pub(super) pin: &'static str,
    pub(super) organisation: &'static str,
    pub(super) uscc17: &'static str,
    pub(super) legal_representative: bool,
}

/// The bidder.
pub(super) const BIDDER: Who = Who {
    role: "bidder",
    person: "张三",
    id17: "11010519491231002",
    mobile: "13800138000",
    pin: "246810",
    organisation: "示例建设工程有限公司",
    uscc17: "91110000MA0000001",
    legal_representative: true,
};

/// The tender agent.
pub(super) const AGENT: Who = Who {
    role: "agent",
    person: "王五",
    id17: "11010819700505003",
    mobile: "13700137000",
    pin: "135790",
    organisation: "某某招标代理有限公司",
    uscc17: "91110000MA0000002",
    legal_representative: false,
};

/// Enrol `who` on a new phone of `home`, create the organisation and make its seals
/// from templates.
pub(super) fn enrol(home: &Home, who: &Who, suite: Suite) -> Result<Party, AppError> {
    let phone = home.phone(who.role)?;
    let person = person(who.person, who.id17, who.mobile);
    let enrolment = phone.enrol(&person, who.pin, suite)?;
    let uscc = uscc(who.uscc17);
    let (org, org_cert) = phone.create_organisation(who.organisation, &uscc, who.pin, suite)?;
    let font = SealFont::discover(None).map_err(|e| demo_err(who.role, e.to_string()))?;

    let official = SealTemplate::Round(RoundSeal {
        kind: bidkit_seal::SealKind::Official,
        organisation: org.name.clone(),
        seal_name: None,
        code: None,
        diameter_mm: 42.0,
        star: true,
    });
    let official_seal = add_seal(
        &phone,
        &font,
        &official,
        SealKind::Official,
        format!("{}公章", org.name),
        Some(&uscc),
    )?;
    let legal_seal = if who.legal_representative {
        let template =
            SealTemplate::Name(NameSeal::legal_representative(who.person).with_side_mm(20.0));
        Some(add_seal(
            &phone,
            &font,
            &template,
            SealKind::LegalRepresentative,
            format!("{}法定代表人章", who.person),
            Some(&uscc),
        )?)
    } else {
        None
    };
    Ok(Party {
        phone: DemoPhone::new(who.role, phone, who.pin, &uscc),
        person: enrolment.account.name,
        organisation: org.name,
        uscc,
        official_seal,
        legal_seal,
        serials: (
            enrolment.certificate.signing_serial,
            org_cert.signing_serial,
        ),
    })
}

fn add_seal(
    phone: &bidkit_keystore::Phone,
    font: &SealFont,
    template: &SealTemplate,
    kind: SealKind,
    name: String,
    organisation: Option<&str>,
) -> Result<Seal, AppError> {
    let image = template
        .render(font, &RenderOptions::default())
        .map_err(|e| demo_err("seal", format!("cannot render {name}: {e}")))?;
    Ok(phone.add_seal(&NewSeal {
        kind,
        name,
        organisation: organisation.map(str::to_owned),
        image: image.png,
        valid_from: None,
        valid_until: None,
    })?)
}

/// The papers: the tender document and the bidder's section files, in `dir`.
pub(super) struct Materials {
    /// The tender document (招标文件).
    pub(super) tender_document: PathBuf,
    /// `(section id, file)` in the order they are added.
    pub(super) sections: Vec<(&'static str, PathBuf)>,
    /// Files that travel in the bid package beside the sealed PDF (under
    /// `attachments/`): the priced bill of quantities as a spreadsheet export.
    pub(super) attachments: Vec<PathBuf>,
}

const TECHNICAL_MD: &str = "# 技术标\n\n\
## 一、施工组织设计\n\n\
本工程为某市第一中学教学楼建设工程，总建筑面积约 12,000 平方米。\
我公司将组建项目经理部，按照质量、安全、工期三大目标组织施工。\n\n\
## 二、质量保证措施\n\n\
严格执行国家现行施工质量验收规范，关键工序实行样板引路制度。\n\n\
## 三、工期安排\n\n\
计划工期 365 日历天，分基础、主体、装饰装修、竣工验收四个阶段。\n";

/// The priced bill of quantities (工程量清单报价), attached to the bid package as the
/// spreadsheet export bidders hand in beside the PDF; its total is the quoted price.
const PRICE_BREAKDOWN_CSV: &str = "序号,项目名称,金额（元）\n\
1,土建工程,6543210.00\n\
2,安装工程,2345678.00\n\
3,措施项目费,987655.21\n\
,合计,9876543.21\n";

/// Write the papers into `dir`.
pub(super) fn materials(dir: &Path) -> Result<Materials, AppError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let pdf = |name: &str, pages: u32| -> Result<PathBuf, AppError> {
        let path = dir.join(name);
        write_document(&DocumentSpec::a4(pages), &path)?;
        Ok(path)
    };
    let tender_document = pdf("tender-document.pdf", 4)?;
    let business = pdf("business.pdf", 3)?;
    let price = pdf("price.pdf", 1)?;
    let technical = dir.join("technical.md");
    std::fs::write(&technical, TECHNICAL_MD).map_err(io_err(&technical))?;
    let breakdown = dir.join("price-breakdown.csv");
    std::fs::write(&breakdown, PRICE_BREAKDOWN_CSV).map_err(io_err(&breakdown))?;
    Ok(Materials {
        tender_document,
        sections: vec![
            ("business", business),
            ("technical", technical),
            ("price", price),
        ],
        attachments: vec![breakdown],
    })
}

fn person(name: &str, id17: &str, phone_number: &str) -> PersonDetails {
    let check = bidkit_keystore::ids::id_number_check_char(id17).unwrap_or('X');
    PersonDetails {
        name: name.to_owned(),
        id_number: format!("{id17}{check}"),
        phone_number: phone_number.to_owned(),
    }
}

fn uscc(first17: &str) -> String {
    let check = bidkit_keystore::ids::uscc_check_char(first17).unwrap_or('0');
    format!("{first17}{check}")
}
