// Makes the client's ES384 (P-384) key pair, as a trust would before
// registering: the public JWK Set to give the gateway, the private JWK kept.
import { webcrypto as c } from 'node:crypto';
import fs from 'node:fs';
const [dir, kid] = process.argv.slice(2);
const kp = await c.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify']);
const pub = await c.subtle.exportKey('jwk', kp.publicKey);
delete pub.key_ops; delete pub.ext;
fs.writeFileSync(`${dir}/client-jwks.json`, JSON.stringify({ keys: [{ ...pub, kid, alg: 'ES384', use: 'sig' }] }));
fs.writeFileSync(`${dir}/client-private.jwk`, JSON.stringify(await c.subtle.exportKey('jwk', kp.privateKey)));
