// Drives a running gateway with fhir-kit-client, a FHIR client written by
// someone else, the way an NHS trust system would: read the
// CapabilityStatement, create, read, update with If-Match, search and walk
// every page, and get OperationOutcomes for mistakes.
//
// Usage: GATEWAY_URL=http://127.0.0.1:8080 GATEWAY_TOKEN=... node smoke.mjs
import { Client } from 'fhir-kit-client';
import assert from 'node:assert/strict';

const baseUrl = process.env.GATEWAY_URL;
const token = process.env.GATEWAY_TOKEN;
assert.ok(baseUrl && token, 'set GATEWAY_URL and GATEWAY_TOKEN');
const client = new Client({ baseUrl, bearerToken: token });
let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err.message}`);
  }
}

async function expectOutcome(status, fn) {
  try {
    await fn();
  } catch (err) {
    assert.equal(err.response?.status, status);
    const data = typeof err.response.data === 'string' ? JSON.parse(err.response.data) : err.response.data;
    assert.equal(data.resourceType, 'OperationOutcome');
    assert.ok(data.issue[0].diagnostics, 'the OperationOutcome explains itself');
    return;
  }
  assert.fail(`expected HTTP ${status}`);
}

const family = `Smoke${Date.now()}`;
let patient;
let council;

// The council is known to the gateway from the demo data. A person is
// visible to council staff once the council is involved in their care, so
// each person created here gets an EpisodeOfCare managed by the council,
// as the council's own system would record.
async function involve(p) {
  await client.create({
    resourceType: 'EpisodeOfCare',
    body: {
      resourceType: 'EpisodeOfCare', status: 'active',
      patient: { reference: `Patient/${p.id}` },
      managingOrganization: { reference: `Organization/${council.id}` },
    },
  });
}

await check('CapabilityStatement', async () => {
  const cs = await client.capabilityStatement();
  assert.equal(cs.resourceType, 'CapabilityStatement');
  assert.equal(cs.fhirVersion, '4.0.1');
  const types = cs.rest[0].resource.map((r) => r.type);
  assert.ok(types.includes('Patient') && types.includes('CarePlan'));
});

await check('find the council by ODS code', async () => {
  const b = await client.search({ resourceType: 'Organization', searchParams: { identifier: 'https://fhir.nhs.uk/Id/ods-organization-code|SYN01' } });
  assert.equal(b.entry?.length, 1);
  council = b.entry[0].resource;
});

await check('create', async () => {
  patient = await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family }], gender: 'female' } });
  assert.ok(patient.id);
  assert.equal(patient.meta.versionId, '1');
  await involve(patient);
});

await check('read', async () => {
  const p = await client.read({ resourceType: 'Patient', id: patient.id });
  assert.equal(p.name[0].family, family);
});

await check('update with If-Match', async () => {
  const body = { ...patient, gender: 'other' };
  const p = await client.update({ resourceType: 'Patient', id: patient.id, body, options: { headers: { 'If-Match': 'W/"1"' } } });
  assert.equal(p.meta.versionId, '2');
});

await check('stale If-Match is 412', async () => {
  await expectOutcome(412, () => client.update({ resourceType: 'Patient', id: patient.id, body: { ...patient, gender: 'male' }, options: { headers: { 'If-Match': 'W/"1"' } } }));
});

await check('search and walk every page', async () => {
  for (let i = 0; i < 11; i++) {
    await involve(await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family, given: [`G${i}`] }] } }));
  }
  const seen = new Set();
  let bundle = await client.search({ resourceType: 'Patient', searchParams: { family, _count: 4 } });
  let pages = 0;
  while (bundle) {
    pages++;
    for (const e of bundle.entry ?? []) {
      assert.ok(!seen.has(e.resource.id), 'each match once');
      seen.add(e.resource.id);
    }
    bundle = await client.nextPage({ bundle });
  }
  assert.equal(seen.size, 12);
  assert.equal(pages, 3);
});

await check('bad search parameter is a 400 OperationOutcome', async () => {
  await expectOutcome(400, () => client.search({ resourceType: 'Patient', searchParams: { birthdate: 'banana' } }));
});

await check('invalid resource is a 422 OperationOutcome', async () => {
  await expectOutcome(422, () => client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', gender: 'man' } }));
});

await check('missing resource is a 404 OperationOutcome', async () => {
  await expectOutcome(404, () => client.read({ resourceType: 'Patient', id: 'does-not-exist' }));
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
