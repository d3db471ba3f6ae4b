// An independent OIDC provider on loopback for jwtguard's tests: axa-group's oauth2-mock-server
// (discovery, JWKS, /token, keys and signatures made by panva's jose), plus three test-only
// endpoints that a real provider does through its admin console:
//   POST /mint    JSON claims merged over the defaults -> {"access_token": "..."}
//   POST /rotate  a new RS256 key signs from now on; the old one stays published (Keycloak)
//   POST /retire  every key but the signing one leaves the JWKS
// Usage: node provider.mjs <port|0>; the first stdout line is `listening <port>`.
import { createRequire } from 'node:module';

// The package is CommonJS: require it, whatever Node's ESM interop detects.
const { OAuth2Server } = createRequire(import.meta.url)('oauth2-mock-server');

const port = Number(process.argv[2] ?? 0);
const server = new OAuth2Server();
const keys = server.issuer.keys;

// Sequential kids (key-1, key-2, ...): a test knows them in advance, and two providers publish
// the same kid under two issuers, a collision a verifier must survive.
let generation = 0;
let current;
const retired = new Set();
async function addKey() {
  generation += 1;
  const jwk = await keys.generate('RS256', { kid: `key-${generation}` });
  current = jwk.kid;
  return current;
}

// The library picks keys round-robin when no kid is asked for, and cannot remove a key. A real
// provider signs with its active key only and drops retired ones from its JWKS: ask for the
// current kid, and leave retired kids out of what is published (and of what may sign). Each
// use also moves a key to the end of the library's list: publish in kid order, so the JWKS
// (and its ETag) changes only when a key is added or retired.
const pick = keys.get.bind(keys);
const publish = keys.toJSON.bind(keys);
keys.get = (kid) => {
  const wanted = kid ?? current;
  return retired.has(wanted) ? undefined : pick(wanted);
};
keys.toJSON = (privateFields) =>
  publish(privateFields)
    .filter((k) => !retired.has(k.kid))
    .sort((a, b) => a.kid.localeCompare(b.kid, 'en', { numeric: true }));

await addKey();

// The library's express app: test routes go after its own (express.json() already applies).
const app = server.service.requestHandler;
const handle = (fn) => async (req, res) => {
  try {
    res.set('Cache-Control', 'no-store');
    res.json(await fn(req));
  } catch (e) {
    // An error answer, not a crash: the test sees what went wrong.
    res.status(500).json({ error: String(e?.stack ?? e) });
  }
};

app.post(
  '/mint',
  handle(async (req) => {
    const claims = req.body && typeof req.body === 'object' ? req.body : {};
    const token = await server.issuer.buildToken({
      // buildToken sets iss, iat, nbf (iat - 10) and exp (iat + 3600) first; the defaults and
      // the caller's claims come over them. A null claim is removed (Cognito has no aud).
      scopesOrTransform: (_header, payload) => {
        Object.assign(payload, { sub: 'user-1', aud: 'jwtguard', scope: 'openid' }, claims);
        for (const [name, value] of Object.entries(payload)) {
          if (value === null) delete payload[name];
        }
      },
    });
    return { access_token: token, token_type: 'Bearer', kid: current };
  }),
);

app.post(
  '/rotate',
  handle(async () => {
    const previous = current;
    return { kid: await addKey(), previous };
  }),
);

app.post(
  '/retire',
  handle(async () => {
    const gone = publish(false)
      .map((k) => k.kid)
      .filter((kid) => kid !== current && !retired.has(kid));
    gone.forEach((kid) => retired.add(kid));
    return { kid: current, retired: gone };
  }),
);

await server.start(port, '127.0.0.1');
const actual = server.address().port;
// The library would say http://localhost:<port>; tokens and discovery must carry the exact
// address the tests connect to.
server.issuer.url = `http://127.0.0.1:${actual}`;
console.log(`listening ${actual}`);

// Exit with the test process: the harness holds our stdin, and a test killed before its Drop
// ran closes it, so no provider outlives the tests.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
