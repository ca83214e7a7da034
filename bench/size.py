#!/usr/bin/env python3
"""What the release binary is made of, beside the floor's: `cargo bloat --crates` of each
(JSON, on unstripped builds with the release profile), grouped by what the code is for.
Run by bench/size.sh. Usage: size.py PIXIE.json FLOOR.json

cargo bloat attributes each function to one crate by its symbol; with fat LTO a generic
function lands in the crate that instantiated it, so the groups are close, not exact."""

import json
import sys

# What each crate is in Pixie for. A crate not named here is counted under "the rest".
GROUPS = [
    ("TLS (rustls, ring, webpki)", {"rustls", "ring", "webpki", "rustls_pki_types",
                                    "rustls_native_certs", "untrusted", "openssl_probe"}),
    ("HTTP client (reqwest, hyper)", {"reqwest", "hyper", "hyper_util", "http_body",
                                      "http_body_util", "ipnet", "tower", "tower_service",
                                      "want", "httparse", "try_lock"}),
    ("protocol core and its crypto (pixie-auth, openidconnect, RSA, P-256, Ed25519, SHA-2)",
     {"pixie_auth", "openidconnect", "oauth2", "rsa", "num_bigint_dig", "num_integer",
      "num_traits", "num_iter", "p256", "p384", "ecdsa", "elliptic_curve", "primeorder",
      "crypto_bigint", "sha2", "sha1", "hmac", "ed25519_dalek", "curve25519_dalek", "ed25519",
      "der", "spki", "pkcs1", "pkcs8", "sec1", "base16ct", "subtle", "serde_with", "chrono",
      "rand", "rand_core", "rand_chacha", "getrandom", "base64", "digest", "signature",
      "rfc6979", "dyn_clone", "serde_plain", "serde_path_to_error", "crypto_common",
      "block_buffer", "const_oid", "ff", "group", "zeroize", "typenum", "generic_array",
      "hybrid_array", "cpufeatures", "crypto_primes", "ppv_lite86"}),
    ("keyring (Secret Service over D-Bus, its session crypto)",
     {"keyring", "keyring_core", "secret_service", "zbus_secret_service_keyring_store",
      "aes", "cbc", "hkdf", "num_bigint", "cipher", "inout", "block_padding"}),
    ("profile pictures and QR codes (image, png, jpeg, gif, webp, qrcode)",
     {"image", "png", "zune_jpeg", "zune_core", "image_webp", "gif", "fdeflate", "weezl",
      "color_quant", "qrcode", "crc32fast", "byteorder_lite", "bytemuck", "moxcms",
      "pxfm", "simd_adler32"}),
    ("demo provider (pixie-dev-idp, axum)", {"pixie_dev_idp", "axum", "axum_core", "matchit",
                                             "serde_urlencoded", "sync_wrapper",
                                             "tower_layer", "mime"}),
    ("providers.toml (toml)", {"toml", "toml_parser", "toml_datetime", "serde_spanned",
                               "winnow", "toml_writer"}),
]
# With fat LTO a generic function of Tauri, serde or tokio is attributed to the crate that
# instantiates it (mostly the app's own), so the app and everything the floor also has are
# one row.
REST = "the app's own code with Tauri, the WebKit glue, std, tokio, serde (what the floor has too)"


def load(path):
    with open(path) as f:
        data = json.load(f)
    crates = {c["name"]: c["size"] for c in data["crates"]}
    return data["file-size"], data["text-section-size"], crates


def grouped(crates):
    out = {name: 0 for name, _ in GROUPS}
    out[REST] = 0
    for crate, size in crates.items():
        for name, members in GROUPS:
            if crate in members:
                out[name] += size
                break
        else:
            out[REST] += size
    return out


def kib(n):
    return f"{n / 1024:.0f} KiB" if n < 1024 * 1024 else f"{n / 1048576:.2f} MiB"


def main():
    _, p_text, p_crates = load(sys.argv[1])
    _, f_text, f_crates = load(sys.argv[2])
    p, f = grouped(p_crates), grouped(f_crates)
    print("| what the code is for | Pixie (.text) | floor (.text) | Pixie − floor |")
    print("| --- | --- | --- | --- |")
    for name in [g for g, _ in GROUPS] + [REST]:
        print(f"| {name} | {kib(p[name])} | {kib(f[name])} | {kib(p[name] - f[name])} |")
    print(f"| **.text in all** | **{kib(p_text)}** | **{kib(f_text)}** | **{kib(p_text - f_text)}** |")


if __name__ == "__main__":
    main()
