"""Validate every signature of a PDF with pyHanko; print one JSON document on stdout.

Usage: pyhanko_validate.py FILE.pdf [--trust ROOT.pem ...]

Output:
  {"pyhanko": "0.38.0", "file": ..., "signatures": [
     {"field": "Sig1", "intact": true, "valid": true, "trusted": false,
      "coverage": "ENTIRE_FILE" | "ENTIRE_REVISION" | "CONTIGUOUS_BLOCK_FROM_START" | "UNCLEAR",
      "modification_level": "NONE" | "LTA_UPDATES" | "FORM_FILLING" | "ANNOTATIONS" | "OTHER",
      "docmdp_ok": true, "bottom_line": false, "md_algorithm": "sha256",
      "mechanism": "ecdsa", "signer": "CN=...", "summary": "...",
      "diff": null | {"level": ..., "changed_form_fields": [...]} | {"suspicious": "..."},
      "error": null | "why validation raised"}, ...],
   "error": null | "the file could not be read: ..."}

"trusted" means the certificate chain reached one of the --trust roots (no fetching of
CRLs/OCSP, no system roots). "bottom_line" is pyHanko's own verdict: intact, valid,
trusted and no illegal modification. Exit status: 0 when the JSON was printed (whatever the
verdicts), 2 on a usage error.
"""

import json
import sys
import traceback


def enum_name(v):
    if v is None:
        return None
    return getattr(v, "name", str(v))


def describe_diff(diff):
    if diff is None:
        return None
    from pyhanko.sign.diff_analysis import SuspiciousModification

    if isinstance(diff, SuspiciousModification):
        return {"suspicious": str(diff)}
    out = {"level": enum_name(getattr(diff, "modification_level", None))}
    fields = getattr(diff, "changed_form_fields", None)
    if fields is not None:
        out["changed_form_fields"] = sorted(str(f) for f in fields)
    return out


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    path = argv[1]
    roots = []
    rest = argv[2:]
    while rest:
        if rest[0] == "--trust" and len(rest) >= 2:
            roots.append(rest[1])
            rest = rest[2:]
        else:
            print(f"unknown argument {rest[0]!r}", file=sys.stderr)
            return 2

    import logging
    from importlib.metadata import version

    logging.basicConfig(level=logging.ERROR)
    from asn1crypto import pem, x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    result = {"pyhanko": version("pyhanko"), "file": path, "signatures": [], "error": None}
    certs = []
    for r in roots:
        with open(r, "rb") as f:
            data = f.read()
        if pem.detect(data):
            for _, _, der in pem.unarmor(data, multiple=True):
                certs.append(x509.Certificate.load(der))
        else:
            certs.append(x509.Certificate.load(data))
    try:
        f = open(path, "rb")
        reader = PdfFileReader(f, strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as e:  # the file itself is unreadable
        result["error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(result, indent=1))
        return 0
    for sig in embedded:
        entry = {"field": sig.field_name, "error": None}
        try:
            vc = ValidationContext(trust_roots=certs, allow_fetching=False)
            st = validate_pdf_signature(sig, vc)
            signer = None
            try:
                signer = st.signing_cert.subject.human_friendly
            except Exception:
                pass
            entry.update(
                intact=bool(st.intact),
                valid=bool(st.valid),
                trusted=bool(st.trusted),
                coverage=enum_name(st.coverage),
                modification_level=enum_name(st.modification_level),
                docmdp_ok=st.docmdp_ok,
                bottom_line=bool(st.bottom_line),
                md_algorithm=st.md_algorithm,
                mechanism=st.pkcs7_signature_mechanism,
                signer=signer,
                summary=st.summary(),
                diff=describe_diff(st.diff_result),
            )
        except Exception as e:
            entry.update(
                intact=False, valid=False, trusted=False, coverage=None,
                modification_level=None, docmdp_ok=None, bottom_line=False,
                error=f"{type(e).__name__}: {e}",
                traceback=traceback.format_exc(limit=3),
            )
        result["signatures"].append(entry)
    print(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
