// The floor the provider sets: the same three requests with a bare HTTP client and no
// validation at all (no state, iss, signature, nonce or sub check). Not a way to sign in.
import { args, browserHop, now, picture, run } from "./common.mjs";

const a = args();
const meta = await (await fetch(new URL(".well-known/openid-configuration", a.issuer + "/"))).json();
const b64url = (buf) => Buffer.from(buf).toString("base64url");

await run("bare-http", { node: process.version }, a, async () => {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const url = new URL(meta.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: "code", client_id: a.clientId, redirect_uri: a.redirectUri,
    scope: "openid profile email", code_challenge: challenge, code_challenge_method: "S256",
    state: "s", nonce: "n",
  })) url.searchParams.set(k, v);
  const location = new URL(await browserHop(url));
  const t0 = now();
  const token = await (await fetch(meta.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", code: location.searchParams.get("code"),
      redirect_uri: a.redirectUri, client_id: a.clientId, code_verifier: verifier,
    }),
  })).json();
  const t1 = now();
  const info = await (await fetch(meta.userinfo_endpoint, {
    headers: { authorization: `Bearer ${token.access_token}` },
  })).json();
  const t2 = now();
  await picture(info.picture);
  const t3 = now();
  return [t1 - t0, t2 - t1, t3 - t2];
});
