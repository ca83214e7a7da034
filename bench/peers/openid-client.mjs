// openid-client (pinned in package.json) doing Pixie's steps, with its ID-token signature
// check turned on (enableNonRepudiationChecks) so the work is the same: PKCE, state, nonce,
// RFC 9207 iss, ID token signature and claims, userinfo with the sub check, the picture.
import * as client from "openid-client";
import { createRequire } from "node:module";
import { args, browserHop, now, picture, run } from "./common.mjs";

const a = args();
const version = createRequire(import.meta.url)("openid-client/package.json").version;
const config = await client.discovery(new URL(a.issuer), a.clientId, undefined, client.None(), {
  execute: [client.allowInsecureRequests], // the demo provider is on loopback http
});
client.enableNonRepudiationChecks(config);

await run("openid-client", { "openid-client": version, node: process.version }, a, async () => {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: a.redirectUri,
    scope: "openid profile email",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  const location = await browserHop(url);
  const t0 = now();
  const tokens = await client.authorizationCodeGrant(config, new URL(location), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const t1 = now();
  const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
  const t2 = now();
  await picture(info.picture);
  const t3 = now();
  return [t1 - t0, t2 - t1, t3 - t2];
});
