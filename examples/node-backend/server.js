// An app's own API in Node that verifies the kakaoauth stack's Cognito
// tokens itself, with aws-jwt-verify: GET /profile answers who is
// calling. Send the pool's ID token (what the Kakao login gave the app,
// or a refreshed one) as `Authorization: Bearer <ID token>` (or the token
// alone, as API Gateway's Cognito authorizer takes it).
//
//   USER_POOL_ID=ap-northeast-2_xxxx USER_POOL_CLIENT_ID=yyyy node server.js
//
// On the local stack (make run) the pool's keys are at moto, not at AWS:
// COGNITO_JWKS_URL=http://127.0.0.1:5000/<pool id>/.well-known/jwks.json.
import { createServer } from 'node:http';

import { CognitoJwtVerifier } from 'aws-jwt-verify';

const { USER_POOL_ID, USER_POOL_CLIENT_ID, COGNITO_JWKS_URL, PORT = '8090' } = process.env;

// Checks the signature against the pool's JWKS (cached), the issuer,
// token_use "id", the app client (aud) and expiry.
const verifier = CognitoJwtVerifier.create({ userPoolId: USER_POOL_ID, clientId: USER_POOL_CLIENT_ID, tokenUse: 'id' });
if (COGNITO_JWKS_URL) {
  verifier.cacheJwks(await (await fetch(COGNITO_JWKS_URL)).json());
}

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = createServer(async (req, res) => {
  if (req.method !== 'GET' || req.url !== '/profile') {
    send(res, 404, { error: 'NotFound', message: 'No such route.' });
    return;
  }
  const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  let claims;
  try {
    claims = await verifier.verify(token);
  } catch {
    send(res, 401, { error: 'Unauthorized', message: 'Sign in again: the ID token is missing, invalid or expired.' });
    return;
  }
  send(res, 200, { sub: claims.sub, kakao_id: claims['custom:kakao_id'] ?? null });
});

server.listen(Number(PORT), '127.0.0.1', () => {
  // The address, for whoever started it (PORT=0 picks a free port).
  console.log(JSON.stringify({ listening: `http://127.0.0.1:${server.address().port}` }));
});
