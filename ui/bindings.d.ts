// Generated from src-tauri/src/ipc.rs (and ipc/*.rs) by ts-rs: do not edit by hand.
// Regenerate: BIDKIT_UPDATE_BINDINGS=1 cargo test -p bidkit-desktop bindings
// (the test `bindings_are_up_to_date` fails when this file is stale).

export type IpcError = { 
/**
 * Stable identifier the UI can branch on and translate (e.g. `no_home`).
 */
code: string, 
/**
 * What went wrong and where, in plain words.
 */
message: string, };

export type AppInfoView = { 
/**
 * Bidkit's version (`0.1.0`).
 */
version: string, 
/**
 * The data directory in use.
 */
home: string, 
/**
 * The default emulated phone.
 */
phone: PhoneView, };

export type PhoneView = { 
/**
 * Whether an account is enrolled on the phone.
 */
enrolled: boolean, 
/**
 * The enrolled person's name.
 */
person: string | null, 
/**
 * The first organisation the person belongs to.
 */
organisation: string | null, 
/**
 * Certificates installed on the phone.
 */
certificates: number, 
/**
 * Whether any certificate's PIN is locked.
 */
pin_locked: boolean, 
/**
 * Why the phone could not be read, if it could not.
 */
error: string | null, };

export type VerifyRequest = { 
/**
 * The PDF to verify (read only), an absolute path.
 */
path: string, };

export type DocumentStatus = "valid" | "no_signatures" | "not_valid";

export type SignatureStatus = "valid" | "invalid" | "modified_after" | "untrusted";

export type ChainState = "trusted" | "untrusted" | "not_checked";

export type VerifyResult = { 
/**
 * The file verified.
 */
file: string, 
/**
 * Its size, bytes.
 */
file_size: number, 
/**
 * Revisions in the file (1 for a document never updated).
 */
revisions: number, 
/**
 * The document verdict.
 */
status: DocumentStatus, 
/**
 * One line per problem (empty when valid).
 */
problems: Array<string>, 
/**
 * Whether the data directory held an emulated root to validate chains against.
 */
has_trust_roots: boolean, 
/**
 * Every signature, oldest first.
 */
signatures: Array<SignatureView>, 
/**
 * Pages in the document.
 */
page_count: number, 
/**
 * The first pages, rendered, with the stamps located on them.
 */
pages: Array<PageImage>, 
/**
 * Why no page could be rendered (the report is still complete).
 */
render_error: string | null, };

export type SignatureView = { 
/**
 * The signature field's name.
 */
field: string, 
/**
 * The revision that added it (0 = the original document).
 */
revision: number, 
/**
 * The signer's certificate subject.
 */
signer: string | null, 
/**
 * Its serial number (hex).
 */
serial: string | null, 
/**
 * Its issuer.
 */
issuer: string | null, 
/**
 * The signing time claimed in the signature (RFC 3339), else the `/M` date as written.
 */
signing_time: string | null, 
/**
 * The time-stamp's time (RFC 3339), when the signature carries one.
 */
timestamp_time: string | null, 
/**
 * Signature algorithm (`SM2-with-SM3`, `ECDSA-with-SHA256` …).
 */
algorithm: string | null, 
/**
 * Digest algorithm.
 */
digest_algorithm: string | null, 
/**
 * `/SubFilter`.
 */
sub_filter: string | null, 
/**
 * The byte ranges cover the whole revision that added the signature.
 */
covers_whole_revision: boolean, 
/**
 * The byte ranges reach the end of the file.
 */
covers_whole_file: boolean, 
/**
 * The chain's state.
 */
chain: ChainState, 
/**
 * Why the chain is untrusted, or the path when trusted (leaf first).
 */
chain_detail: Array<string>, 
/**
 * The verdict.
 */
status: SignatureStatus, 
/**
 * Why it is not valid (empty when valid).
 */
details: Array<string>, 
/**
 * Its stamps.
 */
stamps: Array<StampView>, 
/**
 * The changes of every later revision.
 */
changes_after: Array<ChangeView>, };

export type StampView = { 
/**
 * 1-based page (`null`: on no page).
 */
page: number | null, 
/**
 * The box in millimetres from the page's lower-left corner: `[x0, y0, x1, y1]`.
 */
rect_mm: Array<number> | null, 
/**
 * Whether it draws an image (the seal picture).
 */
image: boolean, };

export type ChangeView = { 
/**
 * The revision.
 */
revision: number, 
/**
 * The object (`12 0 R`, or `trailer`).
 */
object: string, 
/**
 * `added`, `redefined`, `deleted` or `trailer`.
 */
kind: string, 
/**
 * Whether it belongs to a later signature (allowed).
 */
allowed: boolean, 
/**
 * What it is.
 */
description: string, };

export type PageImage = { 
/**
 * 1-based page number.
 */
page: number, 
/**
 * The page as a `data:image/png;base64,…` URL.
 */
image: string, 
/**
 * The stamps on it.
 */
stamps: Array<StampBoxView>, };

export type StampBoxView = { 
/**
 * Index in [`VerifyResult::signatures`].
 */
signature: number, 
/**
 * Index in that signature's `stamps`.
 */
stamp: number, 
/**
 * Left edge.
 */
left: number, 
/**
 * Top edge.
 */
top: number, 
/**
 * Width.
 */
width: number, 
/**
 * Height.
 */
height: number, };

export type LoginStarted = { 
/**
 * The login's number, carried by its events.
 */
login: number, };

export type LoginEvent = { "kind": "qr", 
/**
 * The login.
 */
login: number, 
/**
 * The QR code as a `data:image/png;base64,…` URL.
 */
image: string, 
/**
 * Milliseconds between frames.
 */
step_ms: number, 
/**
 * When the code stops working, Unix time in milliseconds.
 */
expires_at_ms: number, } | { "kind": "rejected", 
/**
 * The login.
 */
login: number, 
/**
 * The relay's code (`qr-stale`, `already-joined` …).
 */
code: string, 
/**
 * Phones turned away so far.
 */
total: number, } | { "kind": "joined", 
/**
 * The login.
 */
login: number, 
/**
 * The six digits the holder compares with the phone.
 */
code: string, } | { "kind": "done", 
/**
 * The login.
 */
login: number, 
/**
 * Who logged in.
 */
identity: IdentityView, } | { "kind": "failed", 
/**
 * The login.
 */
login: number, 
/**
 * Why.
 */
error: IpcError, };

export type IdentityView = { 
/**
 * The person's name, for a personal certificate.
 */
person: string | null, 
/**
 * The person's ID number.
 */
id_number: string | null, 
/**
 * The organisation's name, for an organisation certificate.
 */
organisation: string | null, 
/**
 * Its unified social credit code.
 */
uscc: string | null, 
/**
 * The certificate's subject.
 */
subject: string, 
/**
 * Its serial number (hex).
 */
certificate_serial: string, 
/**
 * Its issuer.
 */
issuer: string, 
/**
 * End of its validity.
 */
certificate_not_after: string, 
/**
 * The suite (`gm`, `nist`).
 */
suite: string, 
/**
 * The verification code both screens showed.
 */
verification_code: string, };

export type SealOpenRequest = { 
/**
 * The PDF to seal (read only), an absolute path.
 */
path: string, };

export type SealDocumentInfo = { 
/**
 * The document.
 */
path: string, 
/**
 * `<stem>-sealed.pdf` next to it.
 */
default_output: string, 
/**
 * Pages in the document.
 */
page_count: number, 
/**
 * Every page's displayed size in points, `[width, height]`, in order.
 */
page_sizes: Array<Array<number>>, 
/**
 * The first pages, rendered.
 */
pages: Array<SealPageImage>, };

export type SealPageImage = { 
/**
 * 1-based page number.
 */
page: number, 
/**
 * Displayed width, points (the seal's mm × 72 / 25.4 over this is its share of the width).
 */
width_pt: number, 
/**
 * Displayed height, points.
 */
height_pt: number, 
/**
 * The page as a `data:image/png;base64,…` URL.
 */
image: string, };

export type SealPick = { 
/**
 * Platform id.
 */
id: number, 
/**
 * Name.
 */
name: string, 
/**
 * Kind (`official`, `finance`, `contract`, `legal-representative`, `personal-name`, `handwritten`).
 */
kind: string, 
/**
 * Kind in Chinese.
 */
kind_zh: string, 
/**
 * Owning organisation.
 */
organisation: string | null, 
/**
 * Whether the holder may apply it now.
 */
usable: boolean, 
/**
 * Why not.
 */
reason: string | null, 
/**
 * The picture as a `data:` URL (`null` when none).
 */
image: string | null, 
/**
 * Physical width, mm.
 */
width_mm: number, 
/**
 * Physical height, mm.
 */
height_mm: number, };

export type OccurrenceKind = "all" | "first" | "last" | "nth";

export type SealKeywordRequest = { 
/**
 * The PDF.
 */
path: string, 
/**
 * The keyword.
 */
keyword: string, 
/**
 * Which occurrences.
 */
occurrence: OccurrenceKind, 
/**
 * For `nth`: which (1-based).
 */
n: number | null, };

export type KeywordHitBox = { 
/**
 * 1-based page.
 */
page: number, 
/**
 * The box on the displayed page, fractions from the top-left (`signature`/`stamp` are 0).
 */
area: StampBoxView, 
/**
 * The matched text.
 */
text: string, 
/**
 * Whether the occurrence choice seals it.
 */
chosen: boolean, };

export type DropAt = { 
/**
 * 1-based page.
 */
page: number, 
/**
 * Across (0..1).
 */
x: number, 
/**
 * Down (0..1).
 */
y: number, };

export type SealModeRequest = { "mode": "page", 
/**
 * The drop.
 */
at: DropAt, } | { "mode": "all", 
/**
 * The drop (its position in mm is used on every page).
 */
at: DropAt, } | { "mode": "range", 
/**
 * First page.
 */
first: number, 
/**
 * Last page.
 */
last: number, 
/**
 * The drop.
 */
at: DropAt, } | { "mode": "seam", 
/**
 * First page (`null` with `last` null: every page).
 */
first: number | null, 
/**
 * Last page.
 */
last: number | null, 
/**
 * `all`, `odd` or `even`.
 */
parity: string, 
/**
 * Vertical centre, fraction of the height (`null`: the middle).
 */
y: number | null, } | { "mode": "keyword", 
/**
 * The keyword.
 */
keyword: string, 
/**
 * Which occurrences.
 */
occurrence: OccurrenceKind, 
/**
 * For `nth`.
 */
n: number | null, };

export type SealStartRequest = { 
/**
 * The PDF to seal (never modified).
 */
path: string, 
/**
 * Where the sealed copy goes.
 */
output: string, 
/**
 * The seal's platform id.
 */
seal_id: number, 
/**
 * Where the stamps go.
 */
placement: SealModeRequest, };

export type SealStarted = { 
/**
 * The run's number, carried by its events.
 */
run: number, };

export type SealEvent = { "kind": "qr", 
/**
 * The run.
 */
run: number, 
/**
 * The QR code as a `data:image/png;base64,…` URL.
 */
image: string, 
/**
 * The text it encodes (`BK1:…`).
 */
text: string, 
/**
 * Milliseconds between frames.
 */
step_ms: number, 
/**
 * When the code stops working, Unix time in milliseconds.
 */
expires_at_ms: number, } | { "kind": "rejected", 
/**
 * The run.
 */
run: number, 
/**
 * The relay's code.
 */
code: string, 
/**
 * Phones turned away so far.
 */
total: number, } | { "kind": "joined", 
/**
 * The run.
 */
run: number, 
/**
 * The six digits.
 */
code: string, } | { "kind": "sent", 
/**
 * The run.
 */
run: number, 
/**
 * What the phone shows.
 */
summary: Array<string>, } | { "kind": "done", 
/**
 * The run.
 */
run: number, 
/**
 * The result (boxed: far larger than the other events).
 */
result: SealResultView, } | { "kind": "failed", 
/**
 * The run.
 */
run: number, 
/**
 * Why.
 */
error: IpcError, };

export type SealResultView = { 
/**
 * The sealed copy.
 */
output: string, 
/**
 * The seal's name.
 */
seal_name: string, 
/**
 * The signer, as its certificate names it.
 */
signer: string, 
/**
 * The signer certificate's serial (hex).
 */
signer_serial: string, 
/**
 * The verification code both screens showed.
 */
verification_code: string, 
/**
 * Stamps placed.
 */
stamps: number, 
/**
 * The verifier's report of the output, with its pages and stamps.
 */
verify: VerifyResult, };

export type SectionReqView = { 
/**
 * Its id (`business` …).
 */
id: string, 
/**
 * Its title (商务标 …).
 */
title: string, 
/**
 * Whether a bid must have it.
 */
required: boolean, 
/**
 * Accepted file types (`pdf`, `jpeg`, `png`, `txt`, `md`).
 */
accept: Array<string>, };

export type SealReqView = { 
/**
 * Its id.
 */
id: string, 
/**
 * Kind, in Chinese (公章 …).
 */
kind: string, 
/**
 * Where it goes.
 */
at: string, 
/**
 * Whether it is required.
 */
required: boolean, 
/**
 * The agent's note.
 */
note: string | null, };

export type TenderView = { 
/**
 * The package directory.
 */
dir: string, 
/**
 * SHA-256 of tender.json.
 */
sha256: string, 
/**
 * 招标编号.
 */
tender_id: string, 
/**
 * 项目名称.
 */
project_name: string, 
/**
 * 项目编号.
 */
project_number: string, 
/**
 * 招标代理.
 */
agent: string, 
/**
 * Deadline (RFC 3339).
 */
deadline: string, 
/**
 * Opening time (RFC 3339).
 */
opening: string, 
/**
 * `gm` or `nist`.
 */
suite: string, 
/**
 * Sections.
 */
sections: Array<SectionReqView>, 
/**
 * Seals.
 */
seals: Array<SealReqView>, 
/**
 * Whether a quoted price is required.
 */
price_required: boolean, 
/**
 * Currency.
 */
currency: string, 
/**
 * Ceiling price.
 */
max_price: string | null, };

export type ProjectFileView = { 
/**
 * Name it was added under.
 */
name: string, 
/**
 * Type (`pdf` …).
 */
file_type: string, 
/**
 * Size in bytes.
 */
size: number, };

export type ProjectSectionView = { 
/**
 * The requirement.
 */
requirement: SectionReqView, 
/**
 * Whether it has files.
 */
present: boolean, 
/**
 * The files.
 */
files: Array<ProjectFileView>, };

export type ProjectInfo = { 
/**
 * The project directory.
 */
dir: string, 
/**
 * The tender it follows.
 */
tender: TenderView, 
/**
 * Bidder name.
 */
bidder: string, 
/**
 * Bidder USCC.
 */
uscc: string, 
/**
 * Quoted price.
 */
quoted_price: string | null, 
/**
 * Sections.
 */
sections: Array<ProjectSectionView>, 
/**
 * Last build file.
 */
built_file: string | null, 
/**
 * Last build pages.
 */
built_pages: number | null, };

export type ProjectInitRequest = { 
/**
 * The tender package (directory or tender.json).
 */
tender: string, 
/**
 * The project directory to create.
 */
dir: string, 
/**
 * Bidder name.
 */
bidder: string, 
/**
 * Bidder USCC.
 */
uscc: string, 
/**
 * Quoted price.
 */
quoted_price: string | null, };

export type AddFileRequest = { 
/**
 * The project directory.
 */
dir: string, 
/**
 * The section id.
 */
section: string, 
/**
 * The file to add.
 */
file: string, };

export type BuildRequest = { 
/**
 * The project directory.
 */
dir: string, 
/**
 * The PDF to write (default DIR/bid.pdf).
 */
out: string | null, };

export type BuildEvent = { 
/**
 * `planning`, `writing`, `finishing`, `done`.
 */
stage: string, 
/**
 * Pages written.
 */
pages_done: number, 
/**
 * Pages in all.
 */
pages_total: number, 
/**
 * The file being processed.
 */
file: string | null, };

export type BuiltSectionInfo = { 
/**
 * Id.
 */
id: string, 
/**
 * Title.
 */
title: string, 
/**
 * First page.
 */
first_page: number, 
/**
 * Pages.
 */
pages: number, 
/**
 * Files in it.
 */
files: Array<string>, };

export type PreviewPage = { 
/**
 * 1-based page.
 */
page: number, 
/**
 * PNG `data:` URL.
 */
image: string, };

export type BuildResult = { 
/**
 * The PDF written.
 */
output: string, 
/**
 * Pages.
 */
pages: number, 
/**
 * Table-of-contents pages.
 */
toc_pages: number, 
/**
 * Bookmarks.
 */
bookmarks: number, 
/**
 * Sections.
 */
sections: Array<BuiltSectionInfo>, 
/**
 * Font family.
 */
font_family: string, 
/**
 * Size in bytes.
 */
size: number, 
/**
 * SHA-256.
 */
sha256: string, 
/**
 * The first pages drawn by pdfium.
 */
previews: Array<PreviewPage>, 
/**
 * Why no preview, if none.
 */
preview_error: string | null, };

export type CheckRequest = { 
/**
 * The project directory.
 */
dir: string, 
/**
 * The sealed PDF (default: the last build).
 */
sealed: string | null, 
/**
 * Go on despite failures, for this reason (recorded).
 */
override_reason: string | null, 
/**
 * Who overrides (default: the bidder).
 */
by: string | null, 
/**
 * Don't judge certificate chains.
 */
integrity_only: boolean, };

export type CheckItem = { 
/**
 * `section`, `seal`, `quoted_price`, `document`.
 */
kind: string, 
/**
 * Id.
 */
id: string, 
/**
 * Title.
 */
title: string, 
/**
 * Required.
 */
required: boolean, 
/**
 * `ok`, `missing`, `invalid`.
 */
status: string, 
/**
 * Why not ok.
 */
reasons: Array<string>, };

export type OverrideView = { 
/**
 * Who.
 */
who: string, 
/**
 * Why.
 */
why: string, 
/**
 * When (RFC 3339).
 */
at: string, };

export type CheckResult = { 
/**
 * Items.
 */
items: Array<CheckItem>, 
/**
 * Every required item ok.
 */
passed: boolean, 
/**
 * Passed or overridden.
 */
may_proceed: boolean, 
/**
 * The override.
 */
override_record: OverrideView | null, 
/**
 * The PDF checked.
 */
pdf: string | null, 
/**
 * Chains not judged.
 */
integrity_only: boolean, 
/**
 * Where it was recorded.
 */
saved: string, };

export type EncryptRequest = { 
/**
 * The sealed PDF.
 */
pdf: string, 
/**
 * The project (its bid.json makes the payload a bid package).
 */
project: string | null, 
/**
 * The bid file to write (default: beside the PDF, .bid).
 */
output: string | null, 
/**
 * The tender id (default: the project's).
 */
tender_id: string | null, };

export type StatementRequest = { 
/**
 * The bid file.
 */
bid_file: string, 
/**
 * Where the statement goes (default: beside the bid file).
 */
output: string | null, 
/**
 * Why (withdrawal only).
 */
reason: string | null, };

export type BidEvent = { "kind": "step", 
/**
 * `encrypt`, `submit`, `withdraw`.
 */
op: string, 
/**
 * The step (`fetch-encryption-certificate` …).
 */
step: string, 
/**
 * For people.
 */
detail: string, } | { "kind": "qr", 
/**
 * The operation.
 */
op: string, 
/**
 * The QR text.
 */
text: string, 
/**
 * PNG `data:` URL.
 */
image: string, } | { "kind": "joined", 
/**
 * The operation.
 */
op: string, 
/**
 * The code.
 */
code: string, } | { "kind": "waiting", 
/**
 * The operation.
 */
op: string, 
/**
 * What the phone shows.
 */
summary: Array<string>, } | { "kind": "bytes", 
/**
 * The operation.
 */
op: string, 
/**
 * Done.
 */
done: number, 
/**
 * Total.
 */
total: number, };

export type RecipientInfo = { 
/**
 * `bidder` or `extra`.
 */
role: string, 
/**
 * Serial (hex).
 */
serial: string, 
/**
 * Subject.
 */
subject: string, };

export type InspectResult = { 
/**
 * The file.
 */
path: string, 
/**
 * `intact`, `damaged`, `unreadable`.
 */
verdict: string, 
/**
 * Problems.
 */
problems: Array<string>, 
/**
 * Tender id.
 */
tender_id: string | null, 
/**
 * Bidder name.
 */
bidder: string | null, 
/**
 * Bidder USCC.
 */
uscc: string | null, 
/**
 * Suite.
 */
suite: string | null, 
/**
 * Recipients.
 */
recipients: Array<RecipientInfo>, 
/**
 * Plaintext bytes.
 */
content_size: number | null, 
/**
 * Chunks.
 */
chunks: number | null, 
/**
 * Header signer.
 */
signer: string | null, 
/**
 * Header signature valid.
 */
signature_valid: boolean | null, 
/**
 * Ciphertext hash matches.
 */
ciphertext_hash_ok: boolean | null, };

export type EncryptResult = { 
/**
 * The bid file.
 */
file: string, 
/**
 * Its length.
 */
file_len: number, 
/**
 * Tender id.
 */
tender_id: string, 
/**
 * File id (hex).
 */
file_id: string, 
/**
 * Plaintext bytes.
 */
content_size: number, 
/**
 * Chunks.
 */
chunks: number, 
/**
 * Header signer.
 */
signer: string, 
/**
 * Whether the payload is a bid package (with the manifest).
 */
package: boolean, 
/**
 * Verification codes of the two scans.
 */
codes: Array<string>, 
/**
 * `bid inspect` of the file.
 */
inspect: InspectResult, };

export type StatementResult = { 
/**
 * The statement file.
 */
file: string, 
/**
 * `submission-receipt` or `withdrawal`.
 */
kind: string, 
/**
 * The bid file.
 */
bid_file: string, 
/**
 * Its hash (hex).
 */
bid_file_hash: string, 
/**
 * Tender id.
 */
tender_id: string, 
/**
 * Bidder name.
 */
bidder: string, 
/**
 * Bidder USCC.
 */
uscc: string, 
/**
 * When (RFC 3339).
 */
at: string, 
/**
 * Signer subject.
 */
signer: string, 
/**
 * Signer serial.
 */
signer_serial: string, 
/**
 * Verification code.
 */
code: string, };

export type PathRequest = { 
/**
 * The path.
 */
path: string, };

export type OpeningLoadRequest = { 
/**
 * The tender package (directory or `tender.json`); empty: the bid files' tender.
 */
tender: string | null, 
/**
 * The directory of bid files (`*.bid`, receipts and withdrawals as `*.json`).
 */
bids_dir: string, 
/**
 * Where decrypted bids go; empty: `BIDS/opened`.
 */
out_dir: string | null, };

export type OpeningStatusView = { 
/**
 * The tender opened (the package's, else the first bid file's).
 */
tender_id: string | null, 
/**
 * The project's name (from the package).
 */
project_name: string | null, 
/**
 * The tender agent (from the package).
 */
agent: string | null, 
/**
 * The bid directory.
 */
bids_dir: string, 
/**
 * Where decrypted bids go.
 */
out_dir: string, 
/**
 * Where the opening record goes by default.
 */
record_path: string, 
/**
 * When the chains were judged (RFC 3339).
 */
checked_at: string, 
/**
 * Every bid not withdrawn is intact, signed and for the tender.
 */
all_sound: boolean, 
/**
 * Every bid file, in file-name order.
 */
bids: Array<BidRow>, 
/**
 * Statement files about none of the bid files.
 */
unmatched_statements: Array<StatementRow>, };

export type BidRow = { 
/**
 * The bid file.
 */
file: string, 
/**
 * Its name.
 */
file_name: string, 
/**
 * Bytes (`null`: unreadable).
 */
file_len: number | null, 
/**
 * The bidder's name (from the signed header).
 */
bidder_name: string | null, 
/**
 * The bidder's code (统一社会信用代码).
 */
bidder_uscc: string | null, 
/**
 * `gm` or `nist`.
 */
suite: string | null, 
/**
 * The tender in its header.
 */
tender_id: string | null, 
/**
 * It is for the tender opened.
 */
tender_matches: boolean, 
/**
 * When the header says it was made (RFC 3339).
 */
created_at: string | null, 
/**
 * When it was submitted (the earliest valid receipt).
 */
submitted_at: string | null, 
/**
 * `intact`, `damaged` or `unreadable` (header signature, payload hashes).
 */
integrity: string, 
/**
 * The header signer.
 */
signer: string | null, 
/**
 * The header signature verifies.
 */
signature_valid: boolean, 
/**
 * The signer's chain, signer first (when verified).
 */
signer_chain: Array<string>, 
/**
 * Why the chain did not verify.
 */
chain_problem: string | null, 
/**
 * A valid withdrawal names it.
 */
withdrawn: boolean, 
/**
 * `ok`, `withdrawn`, `problem`, or `opened` when already decrypted.
 */
state: string, 
/**
 * Whole-file hash (hex).
 */
bid_file_hash: string | null, 
/**
 * Plaintext bytes (header).
 */
content_size: number | null, 
/**
 * A bid package (manifest with the quoted price) rather than a bare PDF.
 */
is_package: boolean, 
/**
 * Receipts and withdrawals about it.
 */
statements: Array<StatementRow>, 
/**
 * Everything wrong, one sentence each.
 */
problems: Array<string>, 
/**
 * When it was already opened into the output directory.
 */
opened: OpenedView | null, };

export type StatementRow = { 
/**
 * The file's name.
 */
file: string, 
/**
 * `submission-receipt` or `withdrawal`.
 */
kind: string, 
/**
 * When, as stated.
 */
at: string | null, 
/**
 * It verified.
 */
valid: boolean, 
/**
 * The signer, when it verified.
 */
signer: string | null, 
/**
 * Why not valid.
 */
problem: string | null, };

export type OpenedView = { 
/**
 * The decrypted PDF.
 */
pdf: string, 
/**
 * When it was opened (RFC 3339).
 */
opened_at: string, 
/**
 * The quoted price from the package's manifest.
 */
quoted_price: string | null, 
/**
 * Its verification at the opening.
 */
summary: SummaryView, };

export type SummaryView = { 
/**
 * Every signature valid.
 */
valid: boolean, 
/**
 * Signatures.
 */
signatures: number, 
/**
 * Valid ones.
 */
valid_signatures: number, 
/**
 * Stamps.
 */
stamps: number, 
/**
 * Signers.
 */
signers: Array<string>, 
/**
 * Problems.
 */
problems: Array<string>, };

export type DecryptBidRequest = { 
/**
 * The directory of bid files.
 */
bids_dir: string, 
/**
 * The tender opened (`null`: the bid files').
 */
tender_id: string | null, 
/**
 * The bidder whose bid is opened (统一社会信用代码).
 */
bidder: string, 
/**
 * Where the decrypted bid goes (`null`: `BIDS/opened`).
 */
out_dir: string | null, };

export type RecordRequest = { 
/**
 * The directory of bid files.
 */
bids_dir: string, 
/**
 * Where the bids were opened (`null`: `BIDS/opened`).
 */
out_dir: string | null, 
/**
 * The tender package (project, agent), when chosen.
 */
tender: string | null, 
/**
 * The PDF to write (`null`: `OUT/opening-record.pdf`).
 */
output: string | null, };

export type SealRecordRequest = { 
/**
 * The opening record.
 */
record: string, 
/**
 * The agent's seal (platform id).
 */
seal_id: number, 
/**
 * The sealed copy (`null`: `NAME-sealed.pdf` beside it).
 */
output: string | null, };

export type ConfirmRequest = { 
/**
 * The opening record (as written, before sealing).
 */
record: string, 
/**
 * The confirming bidder (统一社会信用代码).
 */
bidder: string, };

export type CheckRecordRequest = { 
/**
 * The opening record (sealed or not).
 */
record: string, };

export type OpeningJob = { 
/**
 * The job.
 */
job: number, };

export type DecryptedView = { 
/**
 * The bidder's name.
 */
bidder_name: string, 
/**
 * The bidder's code.
 */
bidder_uscc: string, 
/**
 * The bid file.
 */
bid_file: string, 
/**
 * The decrypted PDF.
 */
pdf: string, 
/**
 * The output (the PDF, or the extracted package's directory).
 */
output: string, 
/**
 * The record kept beside it (`USCC.opened.json`).
 */
record: string, 
/**
 * Suite hash of the plaintext (equal to the signed header's).
 */
content_hash: string, 
/**
 * Plaintext bytes.
 */
content_size: number, 
/**
 * Chunks authenticated.
 */
chunks: number, 
/**
 * The header signer.
 */
signer: string, 
/**
 * The verification code of the unwrap scan.
 */
verification_code: string, 
/**
 * The quoted price from the manifest.
 */
quoted_price: string | null, 
/**
 * The manifest, for a bid package.
 */
manifest: ManifestView | null, 
/**
 * The verification in short.
 */
summary: SummaryView, 
/**
 * The verifier's report with the first pages (`null`: not a readable PDF).
 */
verify: VerifyResult | null, };

export type ManifestView = { 
/**
 * The tender it names.
 */
tender_id: string, 
/**
 * The bidder it names.
 */
bidder_name: string, 
/**
 * Their code.
 */
bidder_uscc: string, 
/**
 * SHA-256 of bid.pdf.
 */
pdf_sha256: string, 
/**
 * Attachments' names.
 */
attachments: Array<string>, 
/**
 * Where it disagrees with the signed header.
 */
problems: Array<string>, };

export type RecordRowView = { 
/**
 * The bidder's name.
 */
bidder_name: string, 
/**
 * The bidder's code.
 */
bidder_uscc: string, 
/**
 * `已开启 / opened`, `已撤标 / withdrawn`, `未开启 / not opened`.
 */
state: string, 
/**
 * The quoted price.
 */
quoted_price: string | null, 
/**
 * When submitted.
 */
submitted_at: string | null, 
/**
 * The bid file's hash.
 */
file_hash: string | null, 
/**
 * The verification lines.
 */
verification: Array<string>, };

export type ConfirmationView = { 
/**
 * The file.
 */
file: string, 
/**
 * It verified.
 */
valid: boolean, 
/**
 * The bidder's code.
 */
bidder_uscc: string | null, 
/**
 * The bidder's name.
 */
bidder_name: string | null, 
/**
 * The signer.
 */
signer: string | null, 
/**
 * When.
 */
confirmed_at: string | null, 
/**
 * Why not valid.
 */
problem: string | null, };

export type RecordView = { 
/**
 * The PDF.
 */
path: string, 
/**
 * Its SHA-256 (hex).
 */
sha256: string, 
/**
 * Its size.
 */
size: number, 
/**
 * Pages (0 when unknown).
 */
pages: number, 
/**
 * `written` (as made, confirmable) or `sealed` (by the agent).
 */
kind: string, 
/**
 * Every opened bid valid and none left unopened (for a written record).
 */
all_valid: boolean, 
/**
 * The tender.
 */
tender_id: string, 
/**
 * Its rows.
 */
rows: Array<RecordRowView>, 
/**
 * The record as written (the one bidders confirm).
 */
written: string, 
/**
 * The verifier's report and preview (`null`: could not be read).
 */
verify: VerifyResult | null, 
/**
 * Confirmations beside it, checked against this file.
 */
confirmations: Array<ConfirmationView>, 
/**
 * The seal session's verification code (for a sealed record).
 */
verification_code: string | null, };

export type SealChoiceView = { 
/**
 * Its platform id.
 */
id: number, 
/**
 * Its name.
 */
name: string, 
/**
 * The phone whose holder sees it.
 */
phone: string, 
/**
 * Usable now by that holder.
 */
usable: boolean, };

export type OpeningEvent = { "kind": "step", 
/**
 * The job.
 */
job: number, 
/**
 * What it does.
 */
task: string, 
/**
 * The step's name (`opening`, `unwrapping`, `decrypting` …).
 */
step: string, 
/**
 * For people.
 */
detail: string, } | { "kind": "qr", 
/**
 * The job.
 */
job: number, 
/**
 * What it does.
 */
task: string, 
/**
 * The QR code as a `data:image/png;base64,…` URL.
 */
image: string, 
/**
 * The text it encodes.
 */
text: string, } | { "kind": "joined", 
/**
 * The job.
 */
job: number, 
/**
 * What it does.
 */
task: string, 
/**
 * The six digits.
 */
code: string, } | { "kind": "waiting", 
/**
 * The job.
 */
job: number, 
/**
 * What it does.
 */
task: string, 
/**
 * What the phone shows.
 */
summary: Array<string>, } | { "kind": "bytes", 
/**
 * The job.
 */
job: number, 
/**
 * What it does.
 */
task: string, 
/**
 * Done.
 */
done: number, 
/**
 * In all.
 */
total: number, } | { "kind": "decrypted", 
/**
 * The job.
 */
job: number, 
/**
 * What it does.
 */
task: string, 
/**
 * The result.
 */
result: DecryptedView, } | { "kind": "confirmed", 
/**
 * The job.
 */
job: number, 
/**
 * What it does.
 */
task: string, 
/**
 * The record with every confirmation.
 */
record: RecordView, } | { "kind": "sealed", 
/**
 * The job.
 */
job: number, 
/**
 * What it does.
 */
task: string, 
/**
 * The sealed record.
 */
record: RecordView, } | { "kind": "failed", 
/**
 * The job.
 */
job: number, 
/**
 * What it does.
 */
task: string, 
/**
 * Why.
 */
error: IpcError, };

export type PhonePerson = { 
/**
 * Full name.
 */
name: string, 
/**
 * Resident identity card number.
 */
id_number: string, 
/**
 * Mobile number.
 */
phone_number: string, 
/**
 * Organisations, as `name (USCC) role`.
 */
organisations: Array<string>, };

export type PhoneCert = { 
/**
 * Certificate id.
 */
id: number, 
/**
 * Subject.
 */
subject: string, 
/**
 * Organisation of an organisation certificate.
 */
organisation: string | null, 
/**
 * `person`, `organisation` or `organisation-copy`.
 */
purpose: string, 
/**
 * `gm` or `nist`.
 */
suite: string, 
/**
 * Signing certificate serial.
 */
signing_serial: string, 
/**
 * Encryption certificate serial.
 */
encryption_serial: string, 
/**
 * Valid from (RFC 3339).
 */
not_before: string, 
/**
 * Valid until (RFC 3339).
 */
not_after: string, 
/**
 * State on this phone.
 */
state: string, 
/**
 * PIN tries left.
 */
tries_left: number, 
/**
 * PIN tries allowed.
 */
max_tries: number, 
/**
 * Whether the PIN is locked.
 */
locked: boolean, };

export type PhoneSeal = { 
/**
 * Seal id.
 */
id: number, 
/**
 * Name.
 */
name: string, 
/**
 * Kind (`official` …).
 */
kind: string, 
/**
 * Kind in Chinese.
 */
kind_zh: string, 
/**
 * Organisation of an organisation seal.
 */
organisation: string | null, 
/**
 * `active` or `voided`.
 */
status: string, 
/**
 * Whether it can be applied now.
 */
usable: boolean, 
/**
 * Why not.
 */
reason: string | null, 
/**
 * The picture as a `data:image/png` URL (empty when none).
 */
image: string, };

export type PhoneGrant = { 
/**
 * Grant id.
 */
id: number, 
/**
 * Organisation.
 */
organisation: string, 
/**
 * Who may use it.
 */
grantee: string, 
/**
 * What.
 */
target: string, 
/**
 * From (RFC 3339).
 */
valid_from: string, 
/**
 * Until (RFC 3339).
 */
valid_until: string, 
/**
 * `active`, `expired`, `not-yet-valid`, `withdrawn`.
 */
state: string, };

export type PhoneRecord = { 
/**
 * Sequence number.
 */
seq: number, 
/**
 * When (RFC 3339).
 */
at: string, 
/**
 * Operation (`login` …).
 */
operation: string, 
/**
 * Operation in Chinese.
 */
operation_zh: string, 
/**
 * Certificate serial used.
 */
cert_serial: string | null, 
/**
 * Seal applied.
 */
seal_id: number | null, 
/**
 * Platform.
 */
platform: string, 
/**
 * `ok` or the error code.
 */
result: string, 
/**
 * Detail.
 */
detail: string, };

export type PhoneOverviewView = { 
/**
 * Phone name.
 */
phone: string, 
/**
 * Device id.
 */
device_id: string, 
/**
 * The person, if enrolled.
 */
person: PhonePerson | null, 
/**
 * Certificates.
 */
certificates: Array<PhoneCert>, 
/**
 * Seals.
 */
seals: Array<PhoneSeal>, 
/**
 * Authorisations.
 */
grants: Array<PhoneGrant>, 
/**
 * Usage records, newest first.
 */
records: Array<PhoneRecord>, 
/**
 * Whether continuous mode (连续签章) is on, and its uses left.
 */
continuous: number | null, };

export type PhoneEnrolRequest = { 
/**
 * Full name.
 */
name: string, 
/**
 * Resident identity card number (18 characters).
 */
id_number: string, 
/**
 * Mobile number.
 */
phone_number: string, 
/**
 * Six-digit PIN.
 */
pin: string, };

export type PhoneMakeSealRequest = { 
/**
 * A template: `official`, `contract`, `finance` or `personal-name`.
 */
template: string | null, 
/**
 * A photo or scan of a seal (PNG or JPEG path).
 */
scan_path: string | null, 
/**
 * Handwriting: strokes of `[x_mm, y_mm, pressure]` points.
 */
strokes: Array<Array<Array<number>>> | null, };

export type PhoneReadQrRequest = { 
/**
 * The `data:image/png;base64,…` URL of the QR image the tool window shows.
 */
data_url: string | null, 
/**
 * A PNG file holding the QR code.
 */
path: string | null, };

export type PhoneQrView = { 
/**
 * The QR text (`BK1:…`).
 */
qr_text: string, 
/**
 * Purpose (`login`, `sign` …).
 */
purpose: string, 
/**
 * Suite.
 */
suite: string, 
/**
 * Relay.
 */
relay: string, 
/**
 * PIN tries left of the person certificate (for the prompt).
 */
tries_left: number | null, 
/**
 * PIN tries allowed.
 */
max_tries: number | null, };

export type PhoneScanRequest = { 
/**
 * The QR text from `phone_read_qr`.
 */
qr_text: string, };

export type PhoneScanConfirm = { 
/**
 * The scan (from `phone_scan_start`).
 */
scan: number, 
/**
 * The phone's code is the one on the tool's screen (`false`: refused with
 * `code-mismatch`).
 */
matches: boolean, 
/**
 * Approve (`false`: refuse; no key is used).
 */
approve: boolean, 
/**
 * The certificate PIN to approve with (not needed in continuous mode or to refuse).
 */
pin: string | null, };

export type PhoneScanStarted = { 
/**
 * The scan's number; its events carry it.
 */
scan: number, };

export type PhoneScanReport = { 
/**
 * `approved`, `refused` or `no-answer`.
 */
outcome: string, 
/**
 * Purpose.
 */
purpose: string, 
/**
 * The verification code shown.
 */
verification_code: string, 
/**
 * The request as shown.
 */
request: Array<string>, 
/**
 * What the phone did.
 */
detail: string, 
/**
 * Certificate used.
 */
certificate_serial: string | null, 
/**
 * The tool's final word.
 */
tool_message: string | null, };

export type PhoneScanEvent = { "kind": "joined", 
/**
 * The scan.
 */
scan: number, 
/**
 * Purpose.
 */
purpose: string, 
/**
 * Six digits.
 */
code: string, } | { "kind": "request", 
/**
 * The scan.
 */
scan: number, 
/**
 * One line each.
 */
summary: Array<string>, } | { "kind": "confirm", 
/**
 * The scan.
 */
scan: number, } | { "kind": "done", 
/**
 * The scan.
 */
scan: number, 
/**
 * The report.
 */
report: PhoneScanReport, } | { "kind": "failed", 
/**
 * The scan.
 */
scan: number, 
/**
 * The error.
 */
error: IpcError, 
/**
 * PIN tries left afterwards, when known.
 */
tries_left: number | null, };

export type PhoneContinuousRequest = { 
/**
 * On or off.
 */
on: boolean, 
/**
 * The PIN, to turn it on.
 */
pin: string | null, };

export type HistoryItem = { 
/**
 * When it ended (RFC 3339, UTC; the screen shows it in local time).
 */
at: string, 
/**
 * `login`, `seal`, `build`, `encrypt`, `submit`, `withdraw`, `open`, `decrypt` …
 */
kind: string, 
/**
 * What was done to what.
 */
summary: string, 
/**
 * The files it wrote (or read).
 */
files: Array<string>, 
/**
 * Whether it succeeded.
 */
ok: boolean, 
/**
 * The error code when it did not.
 */
error: string | null, };

export type HistoryView = { 
/**
 * The newest entries, newest first.
 */
entries: Array<HistoryItem>, 
/**
 * The history file.
 */
path: string, };

export type SettingsView = { 
/**
 * A relay server's base URL; `null`: the embedded relay.
 */
relay: string | null, 
/**
 * `gm` (SM2/SM3/SM4) or `nist` (P-256).
 */
suite: string, 
/**
 * `zh-CN` or `en`.
 */
language: string, 
/**
 * Whether `settings.json` exists (false: these are the defaults).
 */
saved: boolean, 
/**
 * The settings file.
 */
path: string, };

export type SettingsRequest = { 
/**
 * A relay server's base URL (`http://host:port`); `null` or empty: the embedded relay.
 */
relay: string | null, 
/**
 * `gm` or `nist`.
 */
suite: string, 
/**
 * `zh-CN` or `en`.
 */
language: string, };

export type RelayCheck = { 
/**
 * The URL asked (`…/healthz`).
 */
url: string, 
/**
 * How long the answer took, milliseconds.
 */
ms: number, };

export type LogFolder = { 
/**
 * The log directory.
 */
path: string, 
/**
 * Its log files, newest first (names only).
 */
files: Array<string>, };

export type DiagnosticsRequest = { 
/**
 * Where to write the archive (an absolute path; `.tar.gz` is added when missing).
 */
path: string, };

export type DiagnosticsResult = { 
/**
 * The archive written.
 */
path: string, 
/**
 * Its size, bytes.
 */
size: number, 
/**
 * Its members.
 */
members: Array<string>, 
/**
 * Personal values replaced in the logs.
 */
redactions: number, };

export type PickKind = "open" | "folder" | "save";

export type PickFilter = "pdf" | "bid_file" | "tender" | "section" | "image" | "archive";

export type PickRequest = { 
/**
 * Open a file, choose a folder, or save.
 */
kind: PickKind, 
/**
 * Which files to list; all when absent.
 */
filter: PickFilter | null, 
/**
 * The dialog's title, in the UI's language.
 */
title: string | null, 
/**
 * The field's current value: the picker starts in its folder (and, when saving,
 * offers its file name).
 */
current: string | null, };
