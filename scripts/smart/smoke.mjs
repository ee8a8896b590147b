// A SMART backend service built on openid-client, used as its
// documentation shows: PrivateKeyJwt client authentication and the
// client_credentials grant. The only setting is openid-client's documented
// modifyAssertion hook: it writes the issuer into the assertion's aud,
// and SMART asks for the token URL.
import * as client from 'openid-client';
import { webcrypto as c } from 'node:crypto';
import fs from 'node:fs';
import assert from 'node:assert/strict';

const { GATEWAY_URL: base, CLIENT_ID: clientId, CLIENT_KID: kid, CLIENT_KEY: keyFile } = process.env;
const smart = await (await fetch(base + '/.well-known/smart-configuration')).json();
assert.ok(smart.token_endpoint_auth_signing_alg_values_supported.includes('ES384'));
const key = await c.subtle.importKey('jwk', JSON.parse(fs.readFileSync(keyFile)), { name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign']);
const config = (hook) => {
  const cfg = new client.Configuration({ issuer: base, token_endpoint: smart.token_endpoint }, clientId, {},
    client.PrivateKeyJwt({ key, kid }, hook ? { [client.modifyAssertion]: (_h, p) => { p.aud = smart.token_endpoint; } } : undefined));
  client.allowInsecureRequests(cfg); // the smoke test's gateway listens on loopback http
  return cfg;
};
const cfg = config(true);
const tok = await client.clientCredentialsGrant(cfg, { scope: 'system/Patient.rs' });
assert.equal(tok.token_type, 'bearer');
assert.equal(tok.scope, 'system/Patient.rs');
assert.ok(tok.expires_in <= 300);
const get = (path) => fetch(base + path, { headers: { authorization: 'Bearer ' + tok.access_token } });
const patients = await get('/Patient?_count=5&_elements=id');
const bundle = await patients.json();
assert.equal(patients.status, 200);
assert.ok(bundle.entry.length > 0, 'the GP practice system sees its patients');
const encounters = await get('/Encounter?_count=1');
assert.equal(encounters.status, 403, 'system/Patient.rs does not allow searching Encounter');
await assert.rejects(client.clientCredentialsGrant(cfg, { scope: 'system/*.cud' }), (e) => e.error === 'invalid_scope');
await assert.rejects(client.clientCredentialsGrant(config(false), { scope: 'system/*.rs' }), (e) => e.error === 'invalid_client' && e.status === 401);
console.log(`openid-client: token for ${tok.scope} (${tok.expires_in} s), ${bundle.entry.length} patients read, Encounter refused by scope, write scope and aud=issuer refused`);
