// A Bulk Data export by a client written by someone else: Medplum's
// MedplumClient.bulkExport (@medplum/core), used as its documentation
// shows: a POST kick-off with Prefer: respond-async, the status URL polled
// until the manifest, each file downloaded with the same token. The token
// comes from SMART Backend Services through openid-client (private_key_jwt,
// client_credentials), as in scripts/smart: MedplumClient's own JWT
// assertion login sends no scope, which SMART requires and the gateway
// refuses (invalid_scope).
//
// What is checked, and fails the run when it does not hold: every NDJSON
// line is a resource of its file's type with an id; the files of one type
// hold no id twice; the resources exported per type are exactly those the
// gateway's own search returns to the same client (so nobody outside the
// client's relationships, and every type the client may search and holds
// records of is exported); a Patient-level export holds the same Patients;
// a token for system/Patient.rs exports Patients and nothing else. Then the
// demo trust's system (RJ1) finds its cohort, a Group of the demo data, by
// identifier and exports it with bulkExport('Group/<id>'): every line is a
// resource its own Patient-level export holds (so of a type a Group export
// may hold, and one the trust may see), every resource is about a member
// of the group, every member the trust sees is there with the whole of
// what its Patient-level export holds about them, the member the trust
// may not see (an objection to sharing) and the people it sees outside the
// group are absent, and every file's count is the manifest's.
import * as client from 'openid-client';
import { MedplumClient } from '@medplum/core';
import { webcrypto as c } from 'node:crypto';
import fs from 'node:fs';
import assert from 'node:assert/strict';

const { GATEWAY_URL: base, OUT_DIR: outDir } = process.env;
const smart = await (await fetch(base + '/.well-known/smart-configuration')).json();

// clientConfig is openid-client's configuration of a registered client
// signing its assertions with its own key.
async function clientConfig(clientId, kid, keyFile) {
  const key = await c.subtle.importKey('jwk', JSON.parse(fs.readFileSync(keyFile)), { name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign']);
  const cfg = new client.Configuration({ issuer: base, token_endpoint: smart.token_endpoint }, clientId, {},
    client.PrivateKeyJwt({ key, kid }, { [client.modifyAssertion]: (_h, p) => { p.aud = smart.token_endpoint; } }));
  client.allowInsecureRequests(cfg); // the smoke test's gateway listens on loopback http
  return cfg;
}
const gpClient = await clientConfig(process.env.CLIENT_ID, process.env.CLIENT_KID, process.env.CLIENT_KEY);
const trustClient = await clientConfig(process.env.TRUST_CLIENT_ID, process.env.TRUST_CLIENT_KID, process.env.TRUST_CLIENT_KEY);

// medplumFor is a MedplumClient on the gateway (its FHIR base is the
// server root, not Medplum's fhir/R4) holding a token for scope.
async function medplumFor(scope, cfg = gpClient) {
  const tok = await client.clientCredentialsGrant(cfg, { scope });
  assert.equal(tok.scope, scope);
  const medplum = new MedplumClient({ baseUrl: base, fhirUrlPath: '', tokenUrl: smart.token_endpoint });
  medplum.setAccessToken(tok.access_token);
  return { medplum, token: tok.access_token };
}

// exportWith runs one export with MedplumClient and downloads its files
// with it: resource ids by type, the resources ("Type/id" -> resource),
// and the manifest.
async function exportWith(medplum, level, label) {
  const manifest = await medplum.bulkExport(level, undefined, undefined, { pollStatusOnAccepted: true, pollStatusPeriod: 200 });
  assert.ok(Array.isArray(manifest.output), `${label}: the manifest has an output array: ${JSON.stringify(manifest)}`);
  assert.ok(manifest.transactionTime, `${label}: the manifest has a transactionTime`);
  const byType = new Map();
  const resources = new Map();
  for (const [i, item] of manifest.output.entries()) {
    const text = await (await medplum.download(item.url)).text();
    if (outDir) fs.writeFileSync(`${outDir}/${label}-${i + 1}-${item.type}.ndjson`, text);
    const lines = text.split('\n').filter((l) => l !== '');
    const ids = byType.get(item.type) ?? new Set();
    for (const [n, line] of lines.entries()) {
      let r;
      assert.doesNotThrow(() => { r = JSON.parse(line); }, `${label}: ${item.url} line ${n + 1} is not JSON`);
      assert.equal(r.resourceType, item.type, `${label}: ${item.url} line ${n + 1} is a ${r.resourceType} in a ${item.type} file`);
      assert.ok(typeof r.id === 'string' && r.id !== '', `${label}: ${item.url} line ${n + 1} has no id`);
      assert.ok(!ids.has(r.id), `${label}: ${item.type}/${r.id} exported twice`);
      ids.add(r.id);
      resources.set(`${r.resourceType}/${r.id}`, r);
    }
    assert.equal(lines.length, item.count, `${label}: ${item.url} has ${lines.length} lines, the manifest says ${item.count}`);
    byType.set(item.type, ids);
  }
  assert.deepEqual(manifest.error ?? [], [], `${label}: the manifest reports errors`);
  return { manifest, byType, resources };
}

// searchIds pages through the gateway's own search for the same client.
async function searchIds(token, type) {
  const ids = new Set();
  for (let url = `${base}/${type}?_count=200&_elements=id`; url;) {
    const res = await fetch(url, { headers: { authorization: 'Bearer ' + token, accept: 'application/fhir+json' } });
    const text = await res.clone().text();
    // The policy refusing the whole search means the client sees none of the type.
    if (res.status === 403 && text.includes('refused by the data sharing policy')) return ids;
    assert.equal(res.status, 200, `search ${url}: ${res.status} ${text}`);
    const b = await res.json();
    for (const e of b.entry ?? []) if (e.resource?.resourceType === type) ids.add(e.resource.id);
    url = b.link?.find((l) => l.relation === 'next')?.url;
  }
  return ids;
}

const sorted = (s) => [...(s ?? [])].sort();

// A system-level export with every read scope the client is registered for.
const all = await medplumFor('system/*.rs');
const sys = await exportWith(all.medplum, '', 'system');
const capability = await (await fetch(base + '/metadata', { headers: { accept: 'application/fhir+json' } })).json();
const searchable = capability.rest[0].resource.filter((r) => (r.interaction ?? []).some((i) => i.code === 'search-type')).map((r) => r.type);
const counts = [];
for (const type of new Set([...searchable, ...sys.byType.keys()])) {
  const seen = await searchIds(all.token, type);
  const exported = sys.byType.get(type);
  assert.deepEqual(sorted(exported), sorted(seen), `system export of ${type}: exported ids differ from what the same client's search returns`);
  if (seen.size) counts.push(`${type} ${seen.size}`);
}
assert.ok(sys.byType.get('Patient')?.size > 0, 'the GP practice system exports its patients');
// The council holds every record: people it sees and the practice may not
// are left out of the practice's export.
const councilPatients = await searchIds(process.env.COUNCIL_TOKEN, 'Patient');
for (const id of sys.byType.get('Patient')) assert.ok(councilPatients.has(id), `Patient/${id} exported is not one of the council's records`);
const left = [...councilPatients].filter((id) => !sys.byType.get('Patient').has(id));
assert.ok(left.length > 0, 'the demo records hold people outside the practice\'s relationships (else this run proves no filtering)');

// A Patient-level export holds the same Patients, and no type the system export lacks.
const pat = await exportWith(all.medplum, 'Patient', 'patient');
assert.deepEqual(sorted(pat.byType.get('Patient')), sorted(sys.byType.get('Patient')), 'Patient/$export exports the Patients the system export does');
for (const [type, ids] of pat.byType) {
  for (const id of ids) assert.ok(sys.byType.get(type)?.has(id), `Patient/$export has ${type}/${id}, which the client's search does not return`);
}

// A token for Patients only exports Patients only.
const narrow = await medplumFor('system/Patient.rs');
const only = await exportWith(narrow.medplum, '', 'patient-scope');
assert.deepEqual([...only.byType.keys()], ['Patient'], `a system/Patient.rs token exported ${[...only.byType.keys()].join(', ')}`);
assert.deepEqual(sorted(only.byType.get('Patient')), sorted(sys.byType.get('Patient')));

// The demo trust exports its cohort. Its Patient-level export is what it
// may see of everyone; the Group export must be that, limited to the
// group's members.
const trust = await medplumFor('system/*.rs', trustClient);
const cohortId = 'https://socialcare-fhir.example.org/Id/cohort|rj1-active-episodes';
const found = await trust.medplum.search('Group', { identifier: cohortId });
assert.equal(found.entry?.length, 1, `the trust finds its cohort Group by identifier ${cohortId}: ${JSON.stringify(found)}`);
const group = found.entry[0].resource;
const members = new Set(group.member.map((m) => m.entity.reference));
assert.ok(members.size > 1, `the cohort has members: ${JSON.stringify(group.member)}`);
const trustAll = await exportWith(trust.medplum, 'Patient', 'trust-patient');
const grp = await exportWith(trust.medplum, `Group/${group.id}`, 'group');
assert.ok(!grp.byType.has('Group'), 'the Group itself is not exported');
// patientsOf are the Patient references a resource holds (or it is).
const patientsOf = (ref, r) => ref.startsWith('Patient/') ? [ref] : [...new Set(JSON.stringify(r).match(/"Patient\/[A-Za-z0-9.-]+"/g) ?? [])].map((p) => p.slice(1, -1));
for (const [ref, r] of grp.resources) {
  assert.ok(trustAll.resources.has(ref), `the Group export holds ${ref}, which the trust's Patient/$export does not (a type or a record it may not have)`);
  const about = patientsOf(ref, r);
  assert.ok(about.length > 0 && about.every((p) => members.has(p)), `the Group export holds ${ref}, about ${about.join(', ') || 'nobody'}: not only members of the group`);
}
const seen = new Set(trustAll.byType.get('Patient') ?? []);
const visible = [...members].filter((m) => seen.has(m.slice('Patient/'.length)));
const hidden = [...members].filter((m) => !seen.has(m.slice('Patient/'.length)));
assert.ok(visible.length > 0, 'the trust sees some members of its cohort (else this run proves nothing)');
assert.ok(hidden.length > 0, 'a member the trust may not see (the demo person who objected) is in the cohort (else this run proves no filtering)');
let expected = 0;
for (const [ref, r] of trustAll.resources) {
  const about = patientsOf(ref, r);
  if (about.length > 0 && about.every((p) => members.has(p))) {
    expected++;
    assert.ok(grp.resources.has(ref), `the Group export lacks ${ref}, about members the trust sees`);
  }
}
assert.equal(grp.resources.size, expected, 'the Group export holds exactly the members\' records of the trust\'s Patient-level export');
for (const m of hidden) assert.ok(!grp.resources.has(m), `${m}, a member the trust may not see, was exported`);
const outside = [...seen].map((id) => `Patient/${id}`).filter((p) => !members.has(p));
assert.ok(outside.length > 0, 'the trust sees someone outside its cohort (the demo person it was referred; else this run proves nothing)');
for (const p of outside) {
  assert.ok(![...grp.resources].some(([ref, r]) => patientsOf(ref, r).includes(p)), `${p}, outside the group, has records in the Group export`);
}

console.log(`MedplumClient.bulkExport: system export of ${sys.manifest.output.length} files (${counts.join(', ')}) equals the client's own search type by type, ${left.length} of the council's ${councilPatients.size} people left out; ` +
  `Patient/$export ${pat.manifest.output.length} files within it; a system/Patient.rs token exported Patients only; ` +
  `the trust's Group/${group.id}/$export held ${grp.resources.size} resources of its ${visible.length} visible members, none of the ${hidden.length} it may not see nor of the ${outside.length} it sees outside the group`);
