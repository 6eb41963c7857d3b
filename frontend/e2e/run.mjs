// End-to-end tests in real Chromium against the real server (fresh in-memory database, offline
// triage engine). Prints `N passed, N failed` last and exits non-zero when anything failed.
/* global document, window -- used in page.evaluate callbacks, which run in the browser */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  buildFrontend,
  frontendDir,
  launchBrowser,
  repoRoot,
  serveUi,
  startServer,
} from './harness.mjs';

const SCREENSHOTS = join(repoRoot, 'docs', 'screenshots');
const LAST_SCREENS = join(frontendDir, 'e2e', '.tmp');
let contexts = 0;
const LAPTOP = { width: 1440, height: 900 };
const TIMEOUT = 20_000;

const PASSWORD = 'correct-horse-battery';
const admin = { workspace: 'Northwind Studio', name: 'Nora Admin', email: 'nora@northwind.test' };
const state = { ticketId: null, ticketNumber: null, ticketSubject: null };
/** Content-Security-Policy violations the pages reported (the browser logs each one). */
const cspViolations = [];

/** A new browser context (its own storage) with a page on the app. */
async function newPage(browser, base, viewport = LAPTOP) {
  const context = await browser.newContext({ baseURL: base, viewport });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`  [page error] ${error.message}`));
  // The app must run under its own Content-Security-Policy: any violation fails the test.
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  // Keep what the page showed last, to see why a test failed (e2e/.tmp is git-ignored).
  const close = context.close.bind(context);
  const shot = join(LAST_SCREENS, `context-${++contexts}.png`);
  context.close = async () => {
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    await close();
  };
  return { context, page };
}

async function signUp(page, { workspace, name, email }) {
  await page.goto('/signup');
  await page.getByLabel('Workspace name').fill(workspace);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create workspace' }).click();
  await page.getByRole('heading', { name: 'Tickets' }).waitFor();
}

async function logIn(page, email, password) {
  await page.getByLabel('Email').fill(email);
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Opens the login page and signs in, landing on the tickets list. */
async function logInAt(page, email, password) {
  await page.goto('/login');
  await logIn(page, email, password);
  await page.getByRole('heading', { name: 'Tickets' }).waitFor();
}

async function logOut(page) {
  await page.getByRole('button', { name: 'User menu' }).click();
  await page.getByRole('menuitem', { name: 'Log out', exact: true }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
}

/** Calls the API with the page's stored token (for setting up data, not for assertions). */
async function apiAs(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const token = localStorage.getItem('opsflow.access_token');
      const response = await fetch(path, {
        method,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    },
    { method, path, body },
  );
}

/** One of the editable fields in the ticket's header. */
function ticketField(page, name) {
  return page
    .getByRole('group', { name: 'Ticket fields' })
    .getByRole('combobox', { name, exact: true });
}

/** Waits until an input shows the given value (controlled inputs do not update the attribute). */
async function waitForValue(locator, value, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await locator.inputValue().catch(() => undefined);
    if (last === value) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`expected ${locator} to show "${value}", it shows "${last}"`);
}

/** A local port nothing listens on (bound, then released). */
function unusedPort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function selectOption(page, labelText, option) {
  await page.getByRole('combobox', { name: labelText, exact: true }).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

const MORE_TICKETS = [
  {
    subject: 'Checkout page shows a blank screen on Safari',
    body: 'Since this morning our customers on Safari 17 see a white page after clicking "Pay now". Chrome works. We are losing orders.',
    channel: 'email',
    customer_name: 'Priya Shah',
    customer_email: 'priya@bloomfloristry.example',
  },
  {
    subject: 'Can we export the monthly analytics report to CSV?',
    body: 'It would save my team hours if the monthly analytics report could be downloaded as a CSV file.',
    channel: 'web',
    customer_name: 'Marcus Lee',
    customer_email: 'marcus@leeandco.example',
  },
  {
    subject: 'How do I add a second admin to our account?',
    body: 'Our office manager needs access to the dashboard too. Where do I invite her?',
    channel: 'chat',
    customer_name: 'Elena García',
    customer_email: 'elena@garciaarchitects.example',
  },
];

const tests = [
  {
    name: 'sign up, create a ticket, triage it, override priority, edit and send the draft, open history',
    async run({ browser, base }) {
      const { context, page } = await newPage(browser, base);
      try {
        await signUp(page, admin);
        await page.getByTestId('workspace-name').getByText(admin.workspace).waitFor();

        // A few more tickets so the list looks like a working day.
        const others = [];
        for (const ticket of MORE_TICKETS) {
          const created = await apiAs(page, 'POST', '/api/tickets', ticket);
          assert.equal(created.status, 201, JSON.stringify(created.body));
          others.push(created.body.id);
        }

        // Create the ticket through the form.
        await page.getByRole('button', { name: 'New ticket' }).click();
        const dialog = page.getByRole('dialog', { name: 'New ticket' });
        state.ticketSubject = 'Charged twice for our November invoice';
        await dialog.getByLabel('Customer name').fill('Carla Mendes');
        await dialog.getByLabel('Customer email').fill('carla@mendesbakery.example');
        await dialog.getByLabel('Subject').fill(state.ticketSubject);
        await dialog
          .getByLabel('Message')
          .fill(
            'Hello, our card was charged twice for the November invoice (INV-2211). Can you check and fix the duplicate payment? Thanks, Carla',
          );
        await dialog.getByRole('button', { name: 'Create ticket' }).click();
        await page.getByRole('heading', { name: state.ticketSubject }).waitFor();
        // A new ticket opens under its workspace number; the API resolves it to the id.
        state.ticketNumber = page.url().split('/tickets/')[1];
        assert.equal(state.ticketNumber, String(MORE_TICKETS.length + 1));
        await page.getByText(`Ticket #${state.ticketNumber}`).waitFor();
        const byNumber = await apiAs(page, 'GET', `/api/tickets/${state.ticketNumber}`);
        assert.equal(byNumber.status, 200, JSON.stringify(byNumber.body));
        state.ticketId = byNumber.body.ticket.id;
        assert.match(state.ticketId, /^[0-9a-f-]{36}$/);
        await page.getByText('Let the AI classify this ticket').waitFor();
        await page.screenshot({
          path: join(SCREENSHOTS, 'ticket-before-triage.png'),
          fullPage: true,
        });

        // The list shows it with the others.
        await page.getByRole('link', { name: 'Tickets', exact: true }).first().click();
        await page.getByRole('link', { name: state.ticketSubject }).waitFor();
        assert.equal(await page.getByTestId('ticket-row').count(), 4);
        await page.getByText('4 tickets').waitFor();
        await page.getByRole('link', { name: state.ticketSubject }).click();
        await page.getByRole('heading', { name: state.ticketSubject }).waitFor();

        // Run triage and wait for the suggestions.
        await page.getByRole('button', { name: 'Run AI Triage' }).click();
        const priority = page.getByTestId('suggestion-priority');
        await priority.waitFor({ timeout: 60_000 });
        await page.getByTestId('suggestion-category').waitFor();
        await page.getByTestId('suggestion-assignee').waitFor();
        const draftBox = page.getByLabel('AI draft reply');
        await draftBox.waitFor();
        assert.ok((await draftBox.inputValue()).length > 20, 'the AI draft has text');
        await page.getByText("You're responsible for final approval of AI replies.").waitFor();
        await page.getByTestId('suggestion-category').getByRole('button', { name: 'Why?' }).click();
        await page.getByRole('button', { name: 'Hide reasoning' }).waitFor();
        await page.screenshot({
          path: join(SCREENSHOTS, 'ticket-after-triage.png'),
          fullPage: true,
        });

        // Override the priority with one click.
        const suggested = (await priority.getByText(/^AI: /).textContent()).replace('AI: ', '');
        const override = suggested === 'Low' ? 'Urgent' : 'Low';
        await priority.getByText(override, { exact: true }).click();
        await priority.getByText('Overridden').waitFor();
        await waitForValue(ticketField(page, 'Priority'), override);

        // Edit the draft and send it.
        const marker = 'We have refunded the duplicate charge to your card.';
        const draft = await draftBox.inputValue();
        await draftBox.fill(`${draft}\n\n${marker}`);
        // Save Draft keeps it unsent, and the edit survives a reload.
        await page.getByRole('button', { name: 'Save Draft' }).click();
        await page.getByText('Draft saved').waitFor();
        await page.reload();
        await waitForValue(page.getByLabel('AI draft reply'), `${draft}\n\n${marker}`);
        assert.equal(await page.getByTestId('message-draft').count(), 1, 'still an unsent draft');
        await page.getByRole('button', { name: 'Save & Mark Replied' }).click();
        await waitForValue(ticketField(page, 'Status'), 'Replied');
        await page.getByTestId('message-agent').filter({ hasText: marker }).waitFor();
        await page.getByTestId('no-draft').waitFor();
        assert.equal(await page.getByTestId('message-draft').count(), 0, 'the draft is gone');

        // The status survives a reload (it came from the server).
        await page.reload();
        await waitForValue(ticketField(page, 'Status'), 'Replied');

        // Workflow history.
        await page.getByRole('link', { name: 'View Workflow History' }).click();
        await page.getByRole('heading', { name: 'Workflow history' }).waitFor();
        await page.getByTestId('run-view').waitFor();
        await page.getByTestId('run-status').getByText('Succeeded').waitFor();
        const steps = page.getByTestId('run-step');
        await steps.nth(4).waitFor();
        assert.equal(await steps.count(), 5);
        assert.match(await steps.nth(0).textContent(), /Category: /);
        assert.match(await steps.nth(1).textContent(), /Priority: /);
        assert.match(await steps.nth(2).textContent(), /Assignee: /);
        assert.match(await steps.nth(3).textContent(), /Reply: /);
        await steps.nth(0).getByRole('button', { name: 'Show raw snapshots' }).click();
        await steps.nth(0).getByTestId('raw-output').waitFor();
        await page.screenshot({
          path: join(SCREENSHOTS, 'workflow-history.png'),
          fullPage: true,
        });

        // Triage the others too (synchronous API), so the list shows a triaged inbox.
        for (const id of others) {
          const triaged = await apiAs(page, 'POST', `/api/tickets/${id}/workflows/triage`);
          assert.equal(triaged.status, 200, JSON.stringify(triaged.body));
          assert.equal(triaged.body.workflow_run.status, 'succeeded');
        }

        // The list, then filter state in the URL that survives a reload.
        await page.getByRole('link', { name: 'Tickets', exact: true }).first().click();
        await page.getByRole('link', { name: state.ticketSubject }).waitFor();
        await page.screenshot({
          path: join(SCREENSHOTS, 'ticket-list.png'),
          fullPage: true,
        });
        await selectOption(page, 'Status', 'Replied');
        await page.waitForURL(/status=replied/);
        await page.getByText('1 ticket', { exact: true }).waitFor();
        await page.reload();
        await page.getByText('1 ticket', { exact: true }).waitFor();
        await page.getByRole('link', { name: state.ticketSubject }).waitFor();
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'log out and log back in, landing on the page asked for',
    async run({ browser, base }) {
      const { context, page } = await newPage(browser, base);
      try {
        await logInAt(page, admin.email, PASSWORD);
        await logOut(page);
        await page.getByText('You have been logged out.').waitFor();

        // A deep link while logged out goes to login, then back to the ticket.
        await page.goto(`/tickets/${state.ticketId}`);
        await page.getByRole('heading', { name: 'Log in' }).waitFor();
        await logIn(page, admin.email, PASSWORD);
        await page.getByRole('heading', { name: state.ticketSubject }).waitFor();
        assert.ok(page.url().endsWith(`/tickets/${state.ticketId}`));

        // Wrong password is refused.
        await logOut(page);
        await logIn(page, admin.email, 'not-the-password');
        await page.getByText('Incorrect email or password.').waitFor();
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'edit a ticket subject and customer in its header; search follows the new words',
    async run({ browser, base }) {
      const { context, page } = await newPage(browser, base);
      try {
        await logInAt(page, admin.email, PASSWORD);
        const created = await apiAs(page, 'POST', '/api/tickets', {
          subject: 'Logo looks blurry',
          body: 'The logo in the email footer is pixelated on retina screens.',
          customer_name: 'Tomas Novak',
          customer_email: 'tomas@novakdesign.example',
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        await page.goto(`/tickets/${created.body.id}`);
        await page.getByRole('heading', { name: 'Logo looks blurry' }).waitFor();

        await page.getByRole('button', { name: 'Edit subject and customer' }).click();
        const form = page.getByRole('form', { name: 'Edit subject and customer' });
        // A bad email is caught before anything is sent.
        await form.getByLabel('Customer email').fill('tomas@');
        await form.getByRole('button', { name: 'Save' }).click();
        await form.getByText('Enter a valid email address').waitFor();
        await form.getByLabel('Subject').fill('Footer logo pixelated on retina displays');
        await form.getByLabel('Customer name').fill('Tomáš Novák');
        await form.getByLabel('Customer email').fill('Tomas.Novak@NovakDesign.example');
        await form.getByRole('button', { name: 'Save' }).click();
        await page
          .getByRole('heading', { name: 'Footer logo pixelated on retina displays' })
          .waitFor();
        await page.getByText('tomas.novak@novakdesign.example', { exact: false }).waitFor();

        // The edit came from the server: it survives a reload.
        await page.reload();
        await page
          .getByRole('heading', { name: 'Footer logo pixelated on retina displays' })
          .waitFor();
        await page.getByTestId('message-customer').getByText('Tomáš Novák').waitFor();

        // The list search finds the ticket by its new subject and not by the old one.
        await page.goto('/tickets?q=pixelated');
        await page
          .getByRole('link', { name: 'Footer logo pixelated on retina displays' })
          .waitFor();
        await page.getByText('1 ticket', { exact: true }).waitFor();
        await page.goto('/tickets?q=blurry');
        await page.getByText('No tickets match these filters').waitFor();
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'an agent added through Team logs in with the temporary password, must choose their own, and cannot open Team',
    async run({ browser, base }) {
      const adminSession = await newPage(browser, base);
      let temporaryPassword;
      const agentEmail = 'omar@northwind.test';
      try {
        const page = adminSession.page;
        await page.goto('/login');
        await logIn(page, admin.email, PASSWORD);
        await page.getByRole('link', { name: 'Team' }).click();
        await page.getByRole('heading', { name: 'Team' }).waitFor();
        await page.getByRole('button', { name: 'Add user' }).click();
        const dialog = page.getByRole('dialog', { name: 'Add user' });
        await dialog.getByLabel('Name').fill('Omar Agent');
        await dialog.getByLabel('Email').fill(agentEmail);
        await dialog.getByRole('button', { name: 'Add user' }).click();
        temporaryPassword = (await dialog.getByTestId('temporary-password').textContent()).trim();
        assert.ok(temporaryPassword.length >= 8, 'a temporary password is shown');
        await dialog.getByRole('button', { name: 'Copy password' }).waitFor();
        await dialog.getByRole('button', { name: 'Done' }).click();
        await page.getByTestId('team-row').filter({ hasText: agentEmail }).waitFor();
      } finally {
        await adminSession.context.close();
      }

      const { context, page } = await newPage(browser, base);
      try {
        await page.goto('/login');
        await logIn(page, agentEmail, temporaryPassword);
        // A temporary password must be replaced before anything else.
        await page.getByRole('heading', { name: 'Choose your own password' }).waitFor();
        const field = (name) => page.getByRole('textbox', { name, exact: true });
        await field('Current password').fill(temporaryPassword);
        await field('New password').fill('Copper-Meadow-Lantern-83');
        await field('Repeat the new password').fill('Copper-Meadow-Lantern-83');
        await page.getByRole('button', { name: 'Change password' }).click();
        const nav = page.getByRole('navigation', { name: 'Main navigation' });
        await nav.getByRole('link', { name: 'Tickets' }).waitFor();
        assert.equal(await nav.getByRole('link', { name: 'Team' }).count(), 0);
        assert.equal(await nav.getByRole('link', { name: 'Settings' }).count(), 0);

        await page.goto('/team');
        await page.getByRole('heading', { name: 'Tickets' }).waitFor();
        assert.ok(new URL(page.url()).pathname === '/tickets', `redirected, at ${page.url()}`);
        await page.goto('/settings');
        await page.getByRole('heading', { name: 'Tickets' }).waitFor();
        assert.equal(await page.getByRole('heading', { name: 'Team' }).count(), 0);
        await page.goto('/settings/audit');
        await page.getByRole('heading', { name: 'Tickets' }).waitFor();
        assert.equal(await page.getByRole('table', { name: 'Audit log' }).count(), 0);
        // The agent sees the workspace's tickets, and can hand one to a colleague by name.
        await page.getByRole('link', { name: state.ticketSubject }).click();
        await page.getByRole('heading', { name: state.ticketSubject }).waitFor();
        const assignee = ticketField(page, 'Assignee');
        await assignee.click();
        await page.getByRole('option', { name: 'Unassigned', exact: true }).click();
        await waitForValue(assignee, 'Unassigned');
        await assignee.click();
        await page.getByRole('option', { name: admin.name, exact: true }).click();
        await waitForValue(ticketField(page, 'Assignee'), admin.name);
        await page.reload();
        await waitForValue(ticketField(page, 'Assignee'), admin.name);
      } finally {
        await context.close();
      }
    },
  },
  {
    name: "an admin resets a forgotten password: the agent's sessions end, the old password stops working, the temporary one leads to a new one",
    async run({ browser, base }) {
      const agentEmail = 'omar@northwind.test';
      const oldPassword = 'Copper-Meadow-Lantern-83';
      const agent = await newPage(browser, base);
      const adminSession = await newPage(browser, base);
      try {
        await logInAt(agent.page, agentEmail, oldPassword);

        const page = adminSession.page;
        await logInAt(page, admin.email, PASSWORD);
        await page.getByRole('link', { name: 'Team' }).click();
        await page.getByRole('button', { name: 'Reset password of Omar Agent' }).click();
        const dialog = page.getByRole('dialog', { name: 'Reset the password of Omar Agent?' });
        await dialog.getByRole('button', { name: 'Reset password' }).click();
        const temporary = (await dialog.getByTestId('temporary-password').textContent()).trim();
        assert.ok(temporary.length >= 12, 'a temporary password is shown');
        await dialog.getByRole('button', { name: 'Done' }).click();
        assert.equal(await page.getByTestId('temporary-password').count(), 0, 'shown once');

        // The agent's open tab is signed out at its next request.
        await agent.page.reload();
        await agent.page.getByRole('heading', { name: 'Log in' }).waitFor();
        await logIn(agent.page, agentEmail, oldPassword);
        await agent.page
          .getByRole('alert')
          .filter({ hasText: /incorrect|invalid/i })
          .waitFor();
        await logIn(agent.page, agentEmail, temporary);
        await agent.page.getByRole('heading', { name: 'Choose your own password' }).waitFor();
        const field = (name) => agent.page.getByRole('textbox', { name, exact: true });
        await field('Current password').fill(temporary);
        await field('New password').fill('Velvet-Harbor-Compass-61');
        await field('Repeat the new password').fill('Velvet-Harbor-Compass-61');
        await agent.page.getByRole('button', { name: 'Change password' }).click();
        await agent.page.getByRole('heading', { name: 'Tickets' }).waitFor();
      } finally {
        await agent.context.close();
        await adminSession.context.close();
      }
    },
  },
  {
    name: 'the Content-Security-Policy is enforced: an injected inline script does not run',
    async run({ browser, serverBase }) {
      // Against the real server (the policy is its header), whatever serves the UI.
      const { context, page } = await newPage(browser, serverBase);
      try {
        const response = await page.goto('/login');
        const policy = response.headers()['content-security-policy'] ?? '';
        assert.match(policy, /script-src 'self'/, `policy: ${policy}`);
        const outcome = await page.evaluate(
          () =>
            new Promise((resolve) => {
              document.addEventListener('securitypolicyviolation', (event) =>
                resolve({ blocked: event.violatedDirective, ran: Boolean(window.__injected) }),
              );
              const script = document.createElement('script');
              script.textContent = 'window.__injected = true';
              document.body.append(script);
              setTimeout(() => resolve({ blocked: null, ran: Boolean(window.__injected) }), 2000);
            }),
        );
        assert.equal(outcome.ran, false, 'the inline script ran');
        assert.match(outcome.blocked ?? '', /script-src/, 'a violation was reported');
        // The violation also reached the console watch that fails every other test.
        for (let i = 0; i < 20 && !cspViolations.length; i += 1) await page.waitForTimeout(100);
        assert.equal(cspViolations.length, 1, 'the console watch saw the violation');
        // This test provoked the one violation on purpose.
        cspViolations.length = 0;
      } finally {
        await context.close();
      }
    },
  },
  {
    name: "a second workspace cannot see the first workspace's tickets, even by URL",
    async run({ browser, base }) {
      const { context, page } = await newPage(browser, base);
      try {
        await signUp(page, {
          workspace: 'Southwind Media',
          name: 'Sam Other',
          email: 'sam@southwind.test',
        });
        await page.getByText('No tickets yet').waitFor();
        await page.goto(`/tickets/${state.ticketId}`);
        await page.getByRole('alert').getByText('Not found').first().waitFor();
        assert.equal(await page.getByRole('heading', { name: state.ticketSubject }).count(), 0);
        await page.goto(`/tickets/${state.ticketNumber}`);
        await page.getByRole('alert').getByText('Not found').first().waitFor();
        assert.equal(await page.getByRole('heading', { name: state.ticketSubject }).count(), 0);
        await page.goto(`/tickets/${state.ticketId}/workflows`);
        await page.getByRole('alert').first().waitFor();
        assert.equal(await page.getByTestId('run-view').count(), 0);
        await page.goto('/tickets?q=November');
        await page.getByText('No tickets match these filters').waitFor();
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'deep links load the app and unknown API paths answer JSON 404',
    async run({ serverBase: base }) {
      const page = await fetch(`${base}/tickets/${state.ticketId ?? 'x'}/workflows`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<div id="root">/);
      const api = await fetch(`${base}/api/no-such-endpoint`);
      assert.equal(api.status, 404);
      assert.match(api.headers.get('content-type') ?? '', /json/);
    },
  },
  {
    name: 'at 1366 px the views show counts, a view opens from the sidebar and no badge is cut',
    async run({ browser, base }) {
      const { context, page } = await newPage(browser, base, { width: 1366, height: 768 });
      try {
        await logInAt(page, admin.email, PASSWORD);
        const views = page.getByRole('navigation', { name: 'Views' });
        const allOpen = await apiAs(page, 'GET', '/api/tickets?view=all_open&page_size=100');
        await views.getByTestId('view-all_open').getByText(String(allOpen.body.total)).waitFor();
        await views.getByTestId('view-urgent_high').click();
        await page.getByRole('heading', { name: 'Urgent & high' }).waitFor();
        assert.ok(page.url().endsWith('/tickets?view=urgent_high'), page.url());
        await page.getByRole('link', { name: 'All tickets' }).click();
        await page.getByTestId('ticket-row').first().waitFor();
        // Every status and priority badge shows its whole label (no "MEDI…").
        const cut = await page
          .locator('[data-testid="ticket-row"] .mantine-Badge-label')
          .evaluateAll((labels) =>
            labels
              .filter((label) => label.scrollWidth > label.clientWidth + 1)
              .map((label) => label.textContent),
          );
        assert.deepEqual(cut, []);
        await page.getByRole('columnheader', { name: 'Updated' }).waitFor();
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'at 800 px the table and at 390 px the cards show every badge whole',
    async run({ browser, base }) {
      for (const [width, item] of [
        [800, 'ticket-row'],
        [390, 'ticket-card'],
      ]) {
        const { context, page } = await newPage(browser, base, { width, height: 900 });
        try {
          await logInAt(page, admin.email, PASSWORD);
          await page.getByTestId(item).first().waitFor();
          const badges = page.locator(`[data-testid="${item}"] .mantine-Badge-label`);
          const found = await badges.evaluateAll((labels) =>
            labels.map((label) => ({
              text: label.textContent,
              cut: label.scrollWidth > label.clientWidth + 1,
              visible: label.getBoundingClientRect().width > 0,
            })),
          );
          const rows = await page.getByTestId(item).count();
          // A status and a priority badge per ticket, all visible and none cut.
          assert.ok(found.length >= 2 * rows, `${width} px: ${found.length} badges for ${rows}`);
          assert.deepEqual(
            found.filter((b) => b.cut || !b.visible).map((b) => b.text),
            [],
            `${width} px`,
          );
          const overflow = await page.evaluate(
            () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
          );
          if (width === 390) assert.ok(overflow <= 1, `no sideways scroll on a phone: ${overflow}`);
        } finally {
          await context.close();
        }
      }
    },
  },
  {
    name: 'tablet width: the sidebar opens from the menu button',
    async run({ browser, base }) {
      const { context, page } = await newPage(browser, base, { width: 768, height: 1024 });
      try {
        await logInAt(page, admin.email, PASSWORD);
        await page.getByRole('button', { name: 'Toggle navigation' }).click();
        await page.getByRole('link', { name: 'Settings' }).click();
        await page.getByRole('heading', { name: 'Settings' }).waitFor();
        const policies = page.getByLabel('Policies');
        await policies.fill('Never promise refunds; billing questions go to the finance team.');
        await page.getByRole('button', { name: 'Save settings' }).click();
        await page.getByText('Settings saved').waitFor();
        await page.reload();
        assert.equal(
          await page.getByLabel('Policies').inputValue(),
          'Never promise refunds; billing questions go to the finance team.',
        );
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'an admin connects the support mailbox: passwords are write-only, the test says what failed',
    async run({ browser, base }) {
      // Tall enough for the whole form and the test result in one screenshot.
      const { context, page } = await newPage(browser, base, { width: 1440, height: 1500 });
      const closedPort = await unusedPort();
      const secret = 'app-password-e2e-7731';
      try {
        await logInAt(page, admin.email, PASSWORD);
        await page.getByRole('link', { name: 'Settings' }).click();
        await page.getByRole('tab', { name: 'Email' }).click();
        await page.getByRole('heading', { name: 'Incoming mail (IMAP)' }).waitFor();
        await page.getByText('Mail is off').waitFor();
        await page.getByLabel('IMAP server').fill('127.0.0.1');
        await page.getByLabel('IMAP port').fill(String(closedPort));
        await page.getByLabel('IMAP username').fill('support@northwind.test');
        await page.getByLabel('IMAP password').fill(secret);
        await page.getByLabel('SMTP server').fill('127.0.0.1');
        await page.getByLabel('SMTP port').fill(String(closedPort));
        await page.getByLabel('From address').fill('support@northwind.test');
        await page.getByLabel('Sender name').fill('Northwind Support');
        await page.getByRole('button', { name: 'Save', exact: true }).click();
        await page.getByText('Email settings saved').waitFor();

        // After a reload the password is only "set": no field or text holds it.
        await page.reload();
        await page.getByText('Password set').first().waitFor();
        const html = await page.content();
        assert.ok(!html.includes(secret), 'the password is never sent back to the page');

        await page.getByRole('button', { name: 'Test connection' }).click();
        const result = page.getByRole('status', { name: 'Connection test result' });
        await result.getByText('Incoming mail (IMAP): failed').waitFor();
        await result.getByText('Outgoing mail (SMTP): failed').waitFor();
        await result.getByText('The server could not be reached.').first().waitFor();
        await page.screenshot({ path: join(SCREENSHOTS, 'email-settings.png') });
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'an admin reads the audit log and narrows it to one kind of event',
    async run({ browser, base }) {
      const { context, page } = await newPage(browser, base);
      try {
        await logInAt(page, admin.email, PASSWORD);
        await page.getByRole('link', { name: 'Settings' }).click();
        await page.getByRole('tab', { name: 'Audit log' }).click();
        const log = page.getByRole('table', { name: 'Audit log' });
        await log.waitFor();
        // Newest first: this sign-in, and earlier the policies saved at tablet width.
        const rows = log.getByTestId('audit-row');
        await rows.first().getByText('Signed in').waitFor();
        await log.getByText('Changed the workspace reply policies').first().waitFor();
        await log.getByText(`Created the workspace “${admin.workspace}”`).waitFor();
        await log.getByText('Added the user as Agent').first().waitFor();
        assert.ok((await rows.first().textContent()).includes('127.0.0.1'), 'the address is shown');

        await page.screenshot({ path: join(SCREENSHOTS, 'audit-log.png') });

        await page.getByRole('combobox', { name: 'Show only' }).click();
        await page.getByRole('option', { name: 'Settings changed', exact: true }).click();
        await page.keyboard.press('Escape');
        await rows.first().getByText('Changed the workspace reply policies').waitFor();
        const deadline = Date.now() + TIMEOUT;
        let kinds = [];
        while (Date.now() < deadline) {
          kinds = await rows.allTextContents();
          if (kinds.length && kinds.every((t) => t.includes('Changed the workspace'))) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(
          kinds.length && kinds.every((t) => t.includes('Changed the workspace')),
          `only settings changes are listed: ${kinds.join(' | ')}`,
        );
      } finally {
        await context.close();
      }
    },
  },
  {
    name: 'an email in two workspaces picks the workspace at login',
    async run({ browser, base }) {
      const { context, page } = await newPage(browser, base);
      try {
        // The email already owns a workspace: a second one needs an explicit yes.
        await page.goto('/signup');
        await page.getByLabel('Workspace name').fill('Northwind Labs');
        await page.getByLabel('Your name').fill(admin.name);
        await page.getByLabel('Email').fill(admin.email);
        await page.getByRole('textbox', { name: 'Password', exact: true }).fill(PASSWORD);
        await page.getByRole('button', { name: 'Create workspace' }).click();
        await page
          .getByText(/already/i)
          .first()
          .waitFor();
        await page.getByLabel('Yes, create another workspace for this email').check();
        await page.getByRole('button', { name: 'Create workspace' }).click();
        await page.getByRole('heading', { name: 'Tickets' }).waitFor();
        await logOut(page);
        await logIn(page, admin.email, PASSWORD);
        await page.getByText('Choose a workspace').first().waitFor();
        await page.getByRole('radio', { name: /Northwind Studio/ }).check();
        await page.getByRole('button', { name: 'Continue to workspace' }).click();
        await page.getByRole('heading', { name: 'Tickets' }).waitFor();
        await page.getByTestId('workspace-name').getByText('Northwind Studio').waitFor();
        await page.getByRole('link', { name: state.ticketSubject }).waitFor();
      } finally {
        await context.close();
      }
    },
  },
];

async function main() {
  mkdirSync(SCREENSHOTS, { recursive: true });
  mkdirSync(LAST_SCREENS, { recursive: true });
  let passed = 0;
  let failed = 0;
  let server;
  let browser;
  let ui;
  try {
    buildFrontend();
    server = await startServer();
    if (process.env.E2E_SERVE_UI === '1') ui = await serveUi(server.base);
    else {
      const home = await (await fetch(`${server.base}/`)).text();
      if (!home.includes('<div id="root">'))
        console.log(
          'e2e: WARNING: the server does not serve the built UI at / (it answered ' +
            `${JSON.stringify(home.slice(0, 120))}); browser tests will fail. ` +
            'E2E_SERVE_UI=1 serves frontend/dist from the harness instead.',
        );
    }
    const base = ui?.base ?? server.base;
    browser = await launchBrowser();
    console.log(
      `e2e: server at ${server.base}${ui ? `, UI served by the harness at ${base}` : ''}`,
    );
    for (const test of tests) {
      const started = Date.now();
      try {
        cspViolations.length = 0;
        await test.run({ browser, base, serverBase: server.base });
        assert.deepEqual(cspViolations, [], 'the page broke its Content-Security-Policy');
        passed += 1;
        console.log(`  ✔ ${test.name} (${Date.now() - started} ms)`);
      } catch (error) {
        failed += 1;
        console.log(`  ✖ ${test.name} (${Date.now() - started} ms)`);
        console.log(
          `    ${String(error?.stack ?? error)
            .split('\n')
            .slice(0, 8)
            .join('\n    ')}`,
        );
      }
    }
  } catch (error) {
    failed += tests.length - passed - failed || 1;
    console.error(`e2e setup failed: ${error?.stack ?? error}`);
  } finally {
    await browser?.close().catch(() => {});
    await ui?.stop();
    if (server) {
      if (failed && server.logs.length) {
        console.log('--- server log (last 40 lines) ---');
        console.log(server.logs.join('').split('\n').slice(-40).join('\n'));
      }
      await server.stop();
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

await main();
