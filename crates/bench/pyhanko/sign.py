"""Sign a PDF with pyHanko: one incremental update with a visible stamp drawn from a PNG.

The reference `bidkit bench seal` measures beside our sealing, on the same file, with a
comparable visible stamp (adapted from crates/pdf/tests/support/pyhanko_sign.py; the
benchmark embeds this file and writes it to its work directory).

Usage: sign.py IN.pdf OUT.pdf --key KEY.pem|der --cert CERT.pem --image STAMP.png
           [--page N (1-based, default 1)] [--box X0,Y0,X1,Y1 (points)]
           [--field Sig1] [--chain CA.pem ...] [--fsync]

Prints one JSON line on stdout:
  {"pyhanko": "0.38.0", "seconds": 1.23, "out": "OUT.pdf", "bytes": 12345,
   "rss_before_mib": 60.1, "peak_rss_mib": 250.3}
"seconds" is the time pyHanko spent signing (reading IN, stamping, hashing, writing OUT and,
with --fsync, syncing it as Bidkit does), not Python's start-up and imports.
"rss_before_mib" is the resident memory just before signing (interpreter and imports),
"peak_rss_mib" the process's high-water mark (VmHWM, else ru_maxrss) once signing is done.
"""

import argparse
import json
import os
import sys
import time


def _status_kib(field):
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--page", type=int, default=1)
    ap.add_argument("--box", default="400,100,520,220")
    ap.add_argument("--field", default="Sig1")
    ap.add_argument("--chain", action="append", default=[])
    ap.add_argument("--fsync", action="store_true")
    a = ap.parse_args()

    import logging
    from importlib.metadata import version

    logging.basicConfig(level=logging.ERROR)
    from pyhanko import stamp
    from pyhanko.pdf_utils import images
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    box = tuple(float(v) for v in a.box.split(","))
    if len(box) != 4:
        print("--box needs four numbers", file=sys.stderr)
        return 2
    signer = signers.SimpleSigner.load(a.key, a.cert, ca_chain_files=tuple(a.chain) or None)
    if signer is None:
        print("could not load the key and certificate", file=sys.stderr)
        return 1
    style = stamp.StaticStampStyle(
        background=images.PdfImage(a.image), background_opacity=1.0, border_width=0
    )
    meta = signers.PdfSignatureMetadata(field_name=a.field)
    spec = fields.SigFieldSpec(a.field, on_page=a.page - 1, box=box)
    rss_before = _status_kib("VmRSS")
    t0 = time.perf_counter()
    with open(a.input, "rb") as inf:
        w = IncrementalPdfFileWriter(inf, strict=False)
        pdf_signer = signers.PdfSigner(
            meta, signer=signer, stamp_style=style, new_field_spec=spec
        )
        with open(a.output, "wb") as outf:
            pdf_signer.sign_pdf(w, output=outf)
            if a.fsync:
                outf.flush()
                os.fsync(outf.fileno())
    seconds = time.perf_counter() - t0
    peak = _status_kib("VmHWM")
    if peak is None:
        import resource

        peak = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    print(json.dumps({
        "pyhanko": version("pyhanko"),
        "seconds": round(seconds, 4),
        "out": a.output,
        "bytes": os.path.getsize(a.output),
        "rss_before_mib": None if rss_before is None else round(rss_before / 1024, 1),
        "peak_rss_mib": round(peak / 1024, 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
