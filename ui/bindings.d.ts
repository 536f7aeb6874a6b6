// Generated from src-tauri/src/ipc.rs by ts-rs: do not edit by hand.
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
