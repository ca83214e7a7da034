// A real, certified OpenID Provider (oidc-provider, pinned in package.json)
// on loopback, for Pixie's interop tests.
//
//   node provider.mjs [--port N] [--verbose]
//
// --port 0 (the default) picks a free port. Once listening, exactly one line
// of JSON goes to stdout:  {"issuer":"http://127.0.0.1:PORT"}
// Everything else (oidc-provider's notices included) goes to stderr.
// --verbose (or PIXIE_INTEROP_VERBOSE=1) also logs one line per request.
//
// The configuration is ordinary oidc-provider configuration for one public
// native client; nothing in it special-cases the app under test.

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import { parseArgs } from 'node:util';

// oidc-provider prints its NOTICE lines with console.info, which is stdout.
// stdout is reserved for the single issuer line, so send all console output
// to stderr before the library is loaded.
const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;

const { default: Provider } = await import('oidc-provider');

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    verbose: { type: 'boolean', default: false },
  },
  strict: true,
});

const port = Number(opts.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`provider: invalid --port ${JSON.stringify(opts.port)}`);
  process.exit(2);
}
const verbose = opts.verbose || ['1', 'true', 'yes'].includes(process.env.PIXIE_INTEROP_VERBOSE ?? '');
const HOST = '127.0.0.1';

// ---------------------------------------------------------------- signing key

function rsaSigningJwk() {
  const started = Date.now();
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  console.error(`provider: RSA key generated in ${Date.now() - started} ms`);
  const jwk = privateKey.export({ format: 'jwk' });
  // RFC 7638 thumbprint as the key id.
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  const kid = crypto.createHash('sha256').update(canonical).digest('base64url');
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
}

// ---------------------------------------------------------------- avatars

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

// A 64x64 solid-colour RGB PNG; the colour is derived from the subject.
function avatarPng(sub, size = 64) {
  const [r, g, b] = crypto.createHash('sha256').update(sub).digest();
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter
  ihdr[12] = 0; // interlace
  const row = Buffer.alloc(1 + size * 3); // filter byte 0, then RGB triples
  for (let x = 0; x < size; x += 1) row.set([r, g, b], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: size }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---------------------------------------------------------------- accounts

const KNOWN_NAMES = new Map([
  ['ada', 'Ada Lovelace'],
  ['grace', 'Grace Hopper'],
]);

function displayName(login) {
  return KNOWN_NAMES.get(login) ?? (login.charAt(0).toUpperCase() + login.slice(1));
}

// ---------------------------------------------------------------- pages

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

function page(title, body) {
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}

// ---------------------------------------------------------------- server

// Listen first: with --port 0 the issuer (which contains the port) is only
// known once the socket is bound. Requests are delegated to the provider.
let handler = (_req, res) => {
  res.statusCode = 503;
  res.end('starting\n');
};
const server = http.createServer((req, res) => handler(req, res));

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, HOST, () => {
    server.off('error', reject);
    resolve();
  });
});

const issuer = `http://${HOST}:${server.address().port}`;
console.error(`provider: bound ${issuer}`);

// The provider ids Pixie is configured with against this provider (see redirect_uris).
const PROVIDER_IDS = ['interop', 'op-link', 'op-loopback', 'op-norefresh'];

// RFC 8628: the device authorization grant's grant_type.
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const nativeClient = {
  client_id: 'pixie-interop',
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
  response_types: ['code'],
  // For application_type "native", oidc-provider matches http loopback
  // redirect URIs (127.0.0.1, [::1], localhost) on any port (RFC 8252 §7.3)
  // without further configuration.
  // Pixie gives each configured provider a callback of its own (RFC 9700 §4.4 mix-up
  // defence): `…/oauth/callback/<provider id>`. These are the ids the suites configure:
  // `interop` (crates/pixie-auth/tests/interop.rs) and the e2e suite's `op-*`.
  redirect_uris: PROVIDER_IDS.flatMap((id) => [
    `dev.pixie.app:/oauth/callback/${id}`,
    `http://127.0.0.1/oauth/callback/${id}`,
  ]),
  post_logout_redirect_uris: ['dev.pixie.app:/oauth/logout'],
  id_token_signed_response_alg: 'RS256',
};

// ---------------------------------------------------------------- device pages
// oidc-provider's own pages for the device flow (RFC 8628 §3.3), written plainly: no
// fonts or styles from elsewhere. `form` is the provider's form; the buttons name it.

async function userCodeInputSource(ctx, form, _out, err) {
  let message = 'Enter the code displayed on your device.';
  if (err && (err.userCode || err.name === 'NoCodeError')) {
    message = 'The code you entered is incorrect. Try again.';
  } else if (err && err.name === 'AbortedError') {
    message = 'The sign-in request was interrupted.';
  } else if (err) {
    message = 'There was an error processing your request.';
  }
  ctx.type = 'html';
  ctx.body = page('Sign in on another device', `<p id="message" class="${err ? 'error' : 'prompt'}">${escapeHtml(message)}</p>
${form}
<button type="submit" form="op.deviceInputForm">Continue</button>`);
}

async function userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
  const who = client.clientName || client.clientId;
  ctx.type = 'html';
  ctx.body = page('Confirm the device', `<p><strong>${escapeHtml(who)}</strong> asks to sign you in.</p>
<p>Check that your device shows this code: <code>${escapeHtml(userCode)}</code></p>
${form}
<button autofocus type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>`);
}

async function successSource(ctx) {
  ctx.type = 'html';
  ctx.body = page('Sign-in Success', '<p>Your sign-in was successful. You can now close this page and go back to your device.</p>');
}

// ---------------------------------------------------------------- configuration

// Two providers answer on this port:
//   `${issuer}`         the usual one: PAR (RFC 9126) and DPoP (RFC 9449) offered, neither
//                       required (oidc-provider's defaults), and the device flow (RFC 8628);
//   `${issuer}/strict`  the same, but it requires pushed requests (RFC 9126 §5
//                       `require_pushed_authorization_requests`), DPoP-bound tokens for its
//                       client (RFC 9449 §5.2 `dpop_bound_access_tokens`) and a server nonce
//                       in every DPoP proof (RFC 9449 §8, §9: `use_dpop_nonce` first).
const STRICT_PATH = '/strict';

const signingKey = rsaSigningJwk();

function configurationFor({ strict }) {
  const client = strict ? { ...nativeClient, dpop_bound_access_tokens: true } : nativeClient;
  return {
    jwks: { keys: [signingKey] },

    clients: [
      client,
      // The same client without the refresh_token grant: a provider that issues no refresh
      // token (Auth0 or Okta without offline_access), for sign-out without one.
      { ...client, client_id: 'pixie-interop-norefresh', grant_types: ['authorization_code'] },
    ],

    // Public clients (token_endpoint_auth_method "none") must use PKCE; this is
    // also the default. oidc-provider only implements S256 ("plain" is refused).
    pkce: {
      required: (_ctx, c) => c.clientAuthMethod === 'none',
    },

    claims: {
      openid: ['sub'],
      profile: ['name', 'picture'],
      email: ['email', 'email_verified'],
    },

    async findAccount(_ctx, id) {
      const sub = String(id);
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            name: displayName(sub),
            picture: `${issuer}/avatars/${encodeURIComponent(sub)}.png`,
            email: `${sub}@example.org`,
            email_verified: true,
          };
        },
      };
    },

    // Refresh tokens whenever the client may use the refresh_token grant, not
    // only when offline_access was granted (the default), so that a desktop
    // sign-in can be kept.
    async issueRefreshToken(_ctx, c) {
      return c.grantTypeAllowed('refresh_token');
    },

    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 60 * 60,
      Interaction: 60 * 60,
      Session: 14 * 24 * 60 * 60,
      Grant: 14 * 24 * 60 * 60,
    },

    cookies: {
      keys: [crypto.randomBytes(32).toString('base64url')],
    },

    // Only the token endpoint / userinfo / revocation see cross-origin requests
    // from browsers; the desktop client is not a browser, so no CORS origins.
    clientBasedCORS: () => false,

    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('oops! something went wrong', Object.entries(out)
        .map(([k, v]) => `<pre><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</pre>`)
        .join('\n'));
    },

    features: {
      devInteractions: { enabled: true },
      userinfo: { enabled: true },
      revocation: {
        enabled: true,
        async allowedPolicy(_ctx, c, token) {
          return token.clientId === c.clientId;
        },
      },
      // RFC 8628, for public clients allowed its grant.
      deviceFlow: {
        enabled: true,
        userCodeInputSource,
        userCodeConfirmSource,
        successSource,
      },
      // RFC 9126 (on by default in oidc-provider 9; said here so the suite does not
      // depend on the default).
      pushedAuthorizationRequests: {
        enabled: true,
        requirePushedAuthorizationRequests: strict,
      },
      // RFC 9449 (on by default too). The strict provider hands out nonces and requires them.
      dPoP: strict
        ? { enabled: true, nonceSecret: crypto.randomBytes(32), requireNonce: () => true }
        : { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = page(`Do you want to sign-out from ${ctx.host}?`, `${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = page('Sign-out Success', '<p>Your sign-out was successful.</p>');
        },
      },
    },
  };
}

const provider = new Provider(issuer, configurationFor({ strict: false }));
const strict = new Provider(`${issuer}${STRICT_PATH}`, configurationFor({ strict: true }));

for (const [name, op] of [['provider', provider], ['strict', strict]]) {
  if (verbose) {
    op.use(async (ctx, next) => {
      const started = Date.now();
      try {
        await next();
      } finally {
        const location = ctx.response.get('location');
        console.error(`${name}: ${ctx.method} ${ctx.req.originalUrl ?? ctx.url} -> ${ctx.status}${location ? ` ${location}` : ''} (${Date.now() - started} ms)`);
      }
    });
  }

  for (const event of [
    'server_error', 'authorization.error', 'grant.error', 'userinfo.error', 'revocation.error',
    'end_session.error', 'discovery.error', 'jwks.error', 'introspection.error',
    'pushed_authorization_request.error', 'interaction.error', 'code_verification.error',
    'device_authorization.error',
  ]) {
    op.on(event, (ctx, err) => {
      // error_detail / cause say why (e.g. "PKCE verification failed"); the
      // client only ever sees the generic error_description.
      const reasons = [err?.error_description, err?.error_detail, err?.cause?.message].filter(Boolean);
      const detail = reasons.length ? ` (${[...new Set(reasons)].join('; ')})` : '';
      console.error(`${name}: ${event} ${ctx?.method ?? ''} ${ctx?.path ?? ''}: ${err?.error ?? err?.message ?? err}${detail}`);
      if (event === 'server_error' && err?.stack) console.error(err.stack);
    });
  }
}

// GET /avatars/<sub>.png  -- the `picture` claim points here.
provider.use(async (ctx, next) => {
  const m = /^\/avatars\/([^/]+)\.png$/.exec(ctx.path);
  if (!m || !['GET', 'HEAD'].includes(ctx.method)) {
    await next();
    return;
  }
  let sub;
  try {
    sub = decodeURIComponent(m[1]);
  } catch {
    ctx.status = 400;
    return;
  }
  ctx.type = 'image/png';
  ctx.set('cache-control', 'public, max-age=3600');
  ctx.body = avatarPng(sub);
});

const main = provider.callback();
const strictCallback = strict.callback();
// The strict provider is mounted under its issuer's path, as a framework's mount would:
// `req.url` without the prefix, `req.originalUrl` with it (oidc-provider builds its URLs
// from the difference).
handler = (req, res) => {
  const url = req.url ?? '/';
  if (url === STRICT_PATH || url.startsWith(`${STRICT_PATH}/`) || url.startsWith(`${STRICT_PATH}?`)) {
    req.originalUrl = url;
    const rest = url.slice(STRICT_PATH.length);
    req.url = rest.startsWith('/') ? rest : `/${rest}`;
    strictCallback(req, res);
    return;
  }
  main(req, res);
};

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.error(`provider: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
console.error(`provider: listening, issuer ${issuer}`);
