// A council data lead's case-file audit in Debian's headless Chromium
// (issue 13's "Done when": samples five case files and records the
// audit): signs in with the development sign-in, draws a sample of five
// from the form, opens one case file from the sample's page, saves an
// unfinished review, then answers the whole checklist and submits it,
// and sees it counted in the results; the API then holds the review as a
// completed QuestionnaireResponse in the case file's Task. Run by run.sh,
// which starts the gateway in demo mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const base = process.env.GATEWAY_URL;
const leadToken = process.env.LEAD_TOKEN;
const profile = process.env.BROWSER_PROFILE;
assert.ok(base && leadToken && profile, 'run.sh sets GATEWAY_URL, LEAD_TOKEN and BROWSER_PROFILE');

async function submit(page, selector) {
  const [resp] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return resp.status();
}

async function text(page, selector = 'main') {
  return (await page.locator(selector).innerText()).replace(/\s+/g, ' ');
}

async function shot(page, name) {
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/${name}.png`, fullPage: true });
}

async function api(path) {
  const r = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${leadToken}`, Accept: 'application/fhir+json' } });
  assert.equal(r.status, 200, `GET ${path}`);
  return r.json();
}

test('a data lead samples five case files and records a review in the browser', async (t) => {
  const ctx = await chromium.launchPersistentContext(`${profile}-casefile`, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  t.after(() => ctx.close());
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(90_000);
  let sample, task, failed = false;
  const step = (name, fn) => t.test(name, { skip: failed && 'an earlier step failed' }, async () => {
    try { await fn(); } catch (e) { failed = true; throw e; }
  });

  await step('the data lead signs in and comes back to the case-file audit', async () => {
    await page.goto(`${base}/ig/case-files`);
    assert.match(page.url(), /\/ig\/sign-in\?next=%2Fig%2Fcase-files/);
    assert.equal(await submit(page, '#as-data-lead'), 200);
    assert.match(page.url(), /\/ig\/case-files$/);
    assert.match(await text(page, 'header'), /Signed in as u-data-lead/);
    assert.match(await text(page), /Draw a sample/);
  });

  await step('draws a sample of five stratified by service', async () => {
    await page.fill('#size', '5');
    await page.selectOption('#stratify-by', 'service');
    await page.fill('#seed', 'browser-2026-q4');
    assert.equal(await submit(page, '#draw'), 200);
    assert.match(await text(page), /The sample is drawn and stored/);
    sample = await page.locator('#sample-id').innerText();
    assert.equal(await page.locator('table.case-files tbody tr').count(), 5, 'five case files drawn');
    assert.equal(await page.locator('#reviewed').innerText(), '0 of 5');
    await shot(page, 'case-file-sample');
  });

  await step('opens the first case file and saves an unfinished review', async () => {
    const row = page.locator('table.case-files tbody tr').first();
    task = await row.getAttribute('data-task');
    await row.locator('a.review').click();
    await page.waitForURL(`**/ig/case-file-review/${task}`);
    assert.match(await text(page), /Is there a current care and support plan on file\?/);
    assert.match(await text(page), /The case file as you may read it/);
    await page.check('#q-plan-current-yes');
    assert.equal(await submit(page, '#save-review'), 200);
    assert.match(await text(page), /saved unfinished/);
    assert.equal(await page.locator('#review-status').innerText(), 'in-progress');
    assert.ok(await page.isChecked('#q-plan-current-yes'), 'the saved answer is on the form');
  });

  await step('answers the whole checklist and submits it', async () => {
    for (const q of ['plan-reviewed', 'persons-views', 'risk-assessment', 'consent-sharing', 'nhs-number-verified',
      'entries-signed-dated', 'outcomes-recorded']) {
      await page.check(`#q-${q}-yes`);
    }
    await page.check('#q-safeguarding-followed-up-not-applicable');
    await page.check('#q-plan-reviewed-no');
    await page.fill('#q-comments', 'The review date passed in October.');
    assert.equal(await submit(page, '#submit-review'), 200);
    assert.match(await text(page), /Your review is stored/);
    assert.equal(await page.locator('#review-status').innerText(), 'completed');
    assert.ok(await page.isChecked('#q-plan-reviewed-no'));
    await shot(page, 'case-file-review');
  });

  await step('the results count the review', async () => {
    await page.goto(`${base}/ig/case-files/${sample}`);
    assert.equal(await page.locator('#reviewed').innerText(), '1 of 5');
    await page.click('#report');
    await page.waitForURL(`**/ig/case-files/${sample}/report`);
    assert.match(await text(page), /1 of 5 case files reviewed/);
    const row = await page.locator('table.results tr[data-question="plan-reviewed"]').first().innerText();
    assert.match(row.replace(/\s+/g, ' '), /\(plan-reviewed\) 0 1 0 0/, 'one no for plan-reviewed');
    await shot(page, 'case-file-report');
  });

  await step('the API holds the review as a completed QuestionnaireResponse', async () => {
    const tk = await api(`/Task/${task}`);
    assert.equal(tk.status, 'completed');
    const qr = tk.contained?.[0];
    assert.equal(qr?.resourceType, 'QuestionnaireResponse');
    assert.equal(qr.status, 'completed');
    assert.equal(qr.author.identifier.value, 'u-data-lead');
    const answer = (id) => qr.item.find((i) => i.linkId === id)?.answer?.[0];
    assert.equal(answer('plan-reviewed').valueCoding.code, 'no');
    assert.equal(answer('comments').valueString, 'The review date passed in October.');
  });
});
