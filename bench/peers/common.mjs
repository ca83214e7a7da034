// Shared by the peers: arguments, timing, the untimed browser hop, the summary JSON.
export function args() {
  const [issuer, clientId, redirectUri, n, warmup] = process.argv.slice(2);
  if (!warmup) {
    console.error("usage: node PEER.mjs ISSUER CLIENT_ID REDIRECT_URI N WARMUP");
    process.exit(2);
  }
  return { issuer, clientId, redirectUri, n: Math.max(1, Number(n)), warmup: Number(warmup) };
}

// The browser's hop (not timed): GET the authorization URL, read the redirect.
export async function browserHop(url) {
  const resp = await fetch(url, { redirect: "manual" });
  const location = resp.headers.get("location");
  if (!location) throw new Error(`the authorization endpoint answered ${resp.status} without a redirect`);
  return location;
}

// The same limits Pixie applies to a picture: at most 2 MiB, a raster image by its bytes.
export async function picture(url) {
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(`picture: HTTP ${resp.status}`);
  const bytes = new Uint8Array(await resp.arrayBuffer());
  if (bytes.length > 2 * 1024 * 1024) throw new Error("picture too large");
  const png = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!png && !jpeg) throw new Error("not an image");
  return bytes.length;
}

function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.round((s.length - 1) * q)];
  const r = (v) => Math.round(v * 1000) / 1000;
  return { median_ms: r(at(0.5)), p95_ms: r(at(0.95)), min_ms: r(at(0)), max_ms: r(at(1)) };
}

export async function run(peer, versions, a, once) {
  const steps = { callback: [], userinfo: [], picture: [], total: [] };
  for (let i = 0; i < a.warmup + a.n; i++) {
    const t = await once();
    if (i >= a.warmup) {
      steps.callback.push(t[0]);
      steps.userinfo.push(t[1]);
      steps.picture.push(t[2]);
      steps.total.push(t[0] + t[1] + t[2]);
    }
  }
  const out = { peer, issuer: a.issuer, n: a.n, warmup: a.warmup, steps: {}, versions };
  for (const [k, v] of Object.entries(steps)) out.steps[k] = summary(v);
  console.log(JSON.stringify(out));
}

export const now = () => performance.now();
