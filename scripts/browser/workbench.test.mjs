// The IG workbench end to end in Debian's headless Chromium (issue 12's
// "Done when"): an IG lead proposes taking medication records away from
// the care role class, tests it, sees the impact preview list the carer's
// recent reads that would be refused, cannot approve it, a Caldicott
// Guardian approves, the IG lead activates, the gateway refuses the carer
// at once, the IG lead explains that refusal in plain English, the public
// rights page says carers no longer see medication, a rollback lets them
// read again. Before approval the change also runs in shadow beside the
// active version and counts the carer's read it would refuse. Run by run.sh, which starts
// the gateway and makes the carer's reads first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const base = process.env.GATEWAY_URL;
const carer = process.env.CARER_TOKEN;
const igToken = process.env.IG_TOKEN;
const profile = process.env.BROWSER_PROFILE;
const medIDs = (process.env.MED_IDS || '').split(' ').filter(Boolean);
const carerReads = Number(process.env.CARER_READS || '0');
assert.ok(base && carer && igToken && profile && medIDs.length > 0 && carerReads > 0, 'run.sh sets GATEWAY_URL, CARER_TOKEN, BROWSER_PROFILE, MED_IDS and CARER_READS');

async function carerReads1() {
  const r = await fetch(`${base}/MedicationAdministration/${medIDs[0]}`, {
    headers: { Authorization: `Bearer ${carer}`, Accept: 'application/fhir+json' },
  });
  return { status: r.status, body: await r.json() };
}

// click submits a form and returns the status of the page it lands on.
async function submit(page, selector) {
  const [resp] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return resp.status();
}

// shot saves a screenshot when SCREENSHOT_DIR is set (to look at the pages).
async function shot(page, name) {
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/${name}.png`, fullPage: true });
}

// rightsRow is the rights page's row for medication records: who sees them.
async function rightsRow() {
  const html = await (await fetch(`${base}/rights`)).text();
  const rows = [...html.matchAll(/<tr><td>([^<]*)<\/td><td>([^<]*)<\/td><\/tr>/g)];
  const row = rows.find((m) => /medic/i.test(m[1]));
  assert.ok(row, 'the rights page has a row for medication records');
  return row[2];
}

async function text(page, selector = 'main') {
  return (await page.locator(selector).innerText()).replace(/\s+/g, ' ');
}

async function signIn(page, who) {
  await page.goto(`${base}/ig/`);
  assert.match(page.url(), /\/ig\/sign-in/, 'a browser without a session is sent to the sign-in page');
  assert.match(await text(page), /Development sign-in/);
  assert.equal(await submit(page, `#as-${who}`), 200);
  assert.match(await text(page, 'header'), new RegExp(`Signed in as u-${who === 'ig-lead' ? 'ig' : 'cg'}`));
}

test('the IG workbench takes a policy change from proposal to enforcement and back', async (t) => {
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  t.after(() => ctx.close());
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(90_000); // $test and the impact replay take seconds on a busy machine
  let version, seed, rightsBefore, failed = false;
  // step runs one step of the scenario; after a failure the rest are
  // skipped (each depends on the one before).
  const step = (name, fn) => t.test(name, { skip: failed && 'an earlier step failed' }, async () => {
    try { await fn(); } catch (e) { failed = true; throw e; }
  });

  await step('before: the carer reads medication records', async () => {
    assert.equal((await carerReads1()).status, 200);
    rightsBefore = await rightsRow();
  });

  await step('the IG lead signs in and sees the versions, the active one marked', async () => {
    await signIn(page, 'ig-lead');
    const rows = page.locator('table.versions tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /active\s*◀ enforced now/);
    seed = await rows.first().getAttribute('data-version');
    assert.match(seed, /^[0-9a-f]{16,}$/);
  });

  await step('the IG lead proposes taking medication records from the care role class', async () => {
    await page.click('text=Propose a change >> nth=0');
    const area = page.locator('textarea[name="file:data.json"]');
    const data = await area.inputValue();
    const care = data.indexOf('"care": {');
    assert.ok(care > 0, 'data.json has the care role class');
    const med = data.indexOf('"medication",', care);
    assert.ok(med > care && med < data.indexOf('}', care), 'the care class sees medication today');
    const lineStart = data.lastIndexOf('\n', med);
    const edited = data.slice(0, lineStart) + data.slice(data.indexOf('\n', med));
    assert.doesNotThrow(() => JSON.parse(edited));
    await area.fill(edited);
    await page.fill('#note', 'care workers stop seeing medication administration records');
    assert.equal(await submit(page, '#propose'), 200);
    assert.match(await text(page), /Your draft is stored/);
    assert.equal(await page.locator('#state').innerText(), 'draft');
    version = await page.locator('#version-id').innerText();
    const removed = await page.locator('pre.diff .del').allInnerTexts();
    assert.deepEqual(removed.filter((l) => !l.startsWith('---')).map((l) => l.trim()), ['-          "medication",'.trim()],
      'the diff against the parent removes exactly the carers\' medication');
  });

  await step('its tests pass, with coverage per rule', async () => {
    assert.equal(await submit(page, '#test'), 200);
    assert.match(await text(page), /Tested: the checks passed/);
    assert.equal(await page.locator('#state').innerText(), 'tested');
    assert.match(await page.locator('#report-outcome').innerText(), /^Passed: overall coverage \d+%/);
    assert.ok(await page.locator('table.coverage tbody tr').count() > 10, 'coverage is listed per rule');
    await shot(page, 'version-tested');
  });

  await step('the impact preview lists the carer\'s recent reads that would be refused', async () => {
    await page.click('#impact');
    const flips = page.locator('#flips-0');
    assert.match(await flips.locator('h2').innerText(), /Allowed then, refused now: \d+/);
    const refused = Number(await flips.locator('.count').innerText());
    assert.ok(refused >= carerReads, `${refused} flips, want at least the carer's ${carerReads} reads`);
    const byRole = flips.locator('table.groups', { hasText: 'by role' });
    assert.match(await byRole.innerText(), new RegExp(`R1460\\s+${refused}`), 'every flip is the care worker role\'s');
    const byCategory = flips.locator('table.groups', { hasText: 'by record category' });
    assert.match(await byCategory.innerText(), /medication/);
    assert.ok(await flips.locator('code.audit-id').count() > 0, 'examples are audit record ids');
    assert.equal(await page.locator('#flips-1 .count').innerText(), '0', 'nothing refused becomes allowed');
    await shot(page, 'impact');
    await page.selectOption('#since', '1h');
    assert.equal(await submit(page, '#run'), 200);
    assert.equal(Number(await page.locator('#flips-0 .count').innerText()), refused, 'the last hour holds the same reads');
  });

  await step('it runs in shadow and counts the carer\'s read it would refuse, enforcing nothing', async () => {
    await page.goto(`${base}/ig/versions/${version}`);
    assert.equal(await submit(page, '#shadow'), 200);
    assert.match(await text(page), /In shadow/);
    assert.equal((await carerReads1()).status, 200, 'the shadow enforces nothing');
    let refused = 0;
    for (let i = 0; i < 50 && refused < 1; i++) { // the shadow compares off the request's path
      await page.goto(`${base}/ig/versions/${version}`);
      refused = Number(await page.locator('#shadow-refused').innerText());
      if (refused < 1) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(refused, 1, 'the shadow counts the carer\'s one read since it began');
    assert.match(await text(page, '#shadow-report'), /REL-3|NTK-4/, 'the rules that would refuse it are named');
    await shot(page, 'shadow');
  });

  await step('the IG lead cannot approve it', async () => {
    await page.goto(`${base}/ig/versions/${version}`);
    await page.fill('#note', 'I approve my own change');
    assert.equal(await submit(page, '#approve'), 403);
    const problem = await text(page, '.problem');
    assert.match(problem, /Not allowed \(HTTP 403\)/);
    assert.match(problem, /approver role/);
    assert.match(problem, /POLICY-11-approve/);
    await shot(page, 'approve-refused');
    assert.equal(await page.locator('#state').innerText(), 'tested');
    assert.equal(await page.locator('#activate').count(), 0, 'no Activate button before approval');
  });

  await step('the Caldicott Guardian approves', async () => {
    assert.equal(await submit(page, 'header button:has-text("Sign out")'), 200);
    await signIn(page, 'caldicott');
    await page.goto(`${base}/ig/versions/${version}`);
    await page.fill('#note', 'agreed at the IG board');
    assert.equal(await submit(page, '#approve'), 200);
    assert.match(await text(page), /Approved\. It can now be activated/);
    assert.equal(await page.locator('#state').innerText(), 'approved');
    assert.match(await text(page, 'table.history'), /approve u-cg · SYN01 · R5105 agreed at the IG board/);
  });

  await step('the IG lead activates it and the gateway enforces it at once', async () => {
    assert.equal(await submit(page, 'header button:has-text("Sign out")'), 200);
    await signIn(page, 'ig-lead');
    await page.goto(`${base}/ig/versions/${version}`);
    assert.equal(await submit(page, '#activate'), 200);
    assert.match(await text(page), /Activated: the gateway enforces this version now/);
    assert.equal(await page.locator('#state').innerText(), 'active');
    const r = await carerReads1();
    assert.equal(r.status, 403, 'the carer\'s read is refused under the new version');
    assert.equal(r.body.resourceType, 'OperationOutcome');
    assert.match(r.body.issue[0].diagnostics, new RegExp(`sha256:${version}`));
  });

  await step('the IG lead explains the refused read in plain English', async () => {
    const r = await fetch(`${base}/AuditEvent?allowed=false&_count=1`, { headers: { Authorization: `Bearer ${igToken}`, Accept: 'application/fhir+json' } });
    assert.equal(r.status, 200);
    const refusedRead = (await r.json()).entry?.[0]?.resource;
    assert.ok(refusedRead, 'the refused read is in the audit trail');
    await page.click('text=Explain a decision');
    await page.fill('#audit', refusedRead.id);
    assert.equal(await submit(page, '#explain'), 200);
    const body = (await page.locator('body').innerText()).replace(/\s+/g, ' ');
    assert.match(body, /refused/i, 'the explanation says the read was refused');
    assert.match(body, /NTK-4/, 'it names the need-to-know rule that refused it');
    assert.match(body, new RegExp(version.slice(0, 12)), 'under the version that made the decision');
    await shot(page, 'explain');
  });

  await step('the public rights page says carers no longer see medication', async () => {
    assert.notEqual(await rightsRow(), rightsBefore, 'who sees medication records changed with the activation');
    assert.ok((await rightsRow()).length < rightsBefore.length, 'fewer people see them');
  });

  await step('a rollback to the earlier version lets the carer read again', async () => {
    await page.goto(`${base}/ig/`);
    assert.match(await page.locator(`tr[data-version="${seed}"]`).innerText(), /retired/);
    await page.click(`tr[data-version="${seed}"] a`);
    assert.equal(await submit(page, '#rollback'), 200);
    assert.match(await text(page), /Rolled back: this version is active again/);
    assert.equal((await carerReads1()).status, 200);
    assert.equal(await rightsRow(), rightsBefore, 'the rights page is as it was');
    await page.goto(`${base}/ig/`);
    assert.match(await page.locator(`tr[data-version="${seed}"]`).innerText(), /active/);
    assert.match(await page.locator(`tr[data-version="${version}"]`).innerText(), /retired/);
  });
});
