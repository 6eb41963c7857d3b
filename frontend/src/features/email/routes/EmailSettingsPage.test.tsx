import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { EmailSettings, MailboxStatus } from '@/lib/api/types';
import { apiError, json, mockApi } from '@/test/api';
import { renderWithApp } from '@/test/render';
import { EmailSettingsPage } from './EmailSettingsPage';

const noStatus: MailboxStatus = {
  last_fetch_at: null,
  last_error: null,
  last_error_at: null,
  next_retry_at: null,
  consecutive_failures: 0,
} as unknown as MailboxStatus;

/** Types by pasting: one change event instead of one per character (much faster under load). */
async function fill(user: ReturnType<typeof userEvent.setup>, field: HTMLElement, text: string) {
  await user.click(field);
  await user.paste(text);
}

const saved = {
  configured: true,
  enabled: true,
  imap: {
    host: 'imap.gmail.com',
    port: 993,
    security: 'tls',
    username: 'support@acme.test',
    password_set: true,
    folder: 'INBOX',
  },
  smtp: {
    host: 'smtp.gmail.com',
    port: 465,
    security: 'tls',
    username: 'support@acme.test',
    password_set: true,
  },
  from_address: 'support@acme.test',
  from_name: 'Acme Support',
  updated_at: '2026-12-02T08:00:00Z',
  status: noStatus,
} as EmailSettings;

const blank = {
  ...saved,
  configured: false,
  enabled: false,
  imap: { ...saved.imap, host: '', username: '', password_set: false },
  smtp: { ...saved.smtp, host: '', username: '', password_set: false },
  from_address: '',
  from_name: '',
  updated_at: null,
} as unknown as EmailSettings;

describe('EmailSettingsPage', () => {
  it('never shows a stored password and keeps it unless changed', async () => {
    const api = mockApi({
      'GET /api/settings/email': () => json(saved),
      'GET /api/settings/email/status': () => json(noStatus),
      'PUT /api/settings/email': () => json(saved),
    });
    const { user, container } = renderWithApp(<EmailSettingsPage />);
    expect(await screen.findByLabelText(/IMAP server/)).toHaveValue('imap.gmail.com');
    // Both passwords are set: shown as such, with no input holding them.
    expect(screen.getAllByText('Password set')).toHaveLength(2);
    expect(container.querySelectorAll('input[type="password"]')).toHaveLength(0);

    // A change elsewhere is saved without any password field: the stored ones are kept.
    await user.clear(screen.getByLabelText(/Sender name/));
    await fill(user, screen.getByLabelText(/Sender name/), 'Acme Help');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Email settings saved')).toBeInTheDocument();
    const body = api.find('PUT', '/api/settings/email')[0]?.body as Record<string, never>;
    expect(body).toMatchObject({ from_name: 'Acme Help', imap: { host: 'imap.gmail.com' } });
    expect(body['imap']).not.toHaveProperty('password');
    expect(body['smtp']).not.toHaveProperty('password');
  });

  it('sends a new password and an empty one to remove a password', async () => {
    const api = mockApi({
      'GET /api/settings/email': () => json(saved),
      'GET /api/settings/email/status': () => json(noStatus),
      'PUT /api/settings/email': () => json(saved),
    });
    const { user } = renderWithApp(<EmailSettingsPage />);
    await screen.findByLabelText(/IMAP server/);
    const [changeImap] = screen.getAllByRole('button', { name: 'Change' });
    await user.click(changeImap!);
    await fill(user, screen.getByLabelText('IMAP password'), 'new-app-password');
    // IMAP now shows its input; the one Remove button left is the SMTP password's.
    await user.click(screen.getByRole('button', { name: 'Remove' }));
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.find('PUT', '/api/settings/email')).toHaveLength(1));
    const body = api.find('PUT', '/api/settings/email')[0]?.body as {
      imap: { password?: string };
      smtp: { password?: string };
    };
    expect(body.imap.password).toBe('new-app-password');
    expect(body.smtp.password).toBe('');
  });

  it('validates fields before saving and shows the server’s field errors', async () => {
    const api = mockApi({
      'GET /api/settings/email': () => json(blank),
      'GET /api/settings/email/status': () => json(noStatus),
      'PUT /api/settings/email': () =>
        apiError(422, 'validation_failed', 'Invalid', {
          'imap.host': 'must be a host name or address without spaces',
        }),
    });
    const { user } = renderWithApp(<EmailSettingsPage />);
    await screen.findByLabelText(/IMAP server/);
    expect(screen.getByRole('button', { name: 'Test connection' })).toBeDisabled();
    await fill(user, screen.getByLabelText(/IMAP server/), 'imap example.com');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('IMAP server must be a host name without spaces')).toBeVisible();
    expect(screen.getByText('SMTP server is required')).toBeVisible();
    expect(screen.getByText('Email is required')).toBeVisible();
    expect(api.find('PUT', '/api/settings/email')).toHaveLength(0);

    // What passes here but not on the server is shown on its field.
    await user.clear(screen.getByLabelText(/IMAP server/));
    await fill(user, screen.getByLabelText(/IMAP server/), 'imap.example.com');
    await fill(user, screen.getByLabelText(/IMAP username/), 'support');
    await fill(user, screen.getByLabelText(/SMTP server/), 'smtp.example.com');
    await fill(user, screen.getByLabelText(/From address/), 'support@example.com');
    await fill(user, screen.getByLabelText(/Sender name/), 'Support');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(
      await screen.findByText('must be a host name or address without spaces'),
    ).toBeInTheDocument();
  });

  it('shows the connection test per part in words', async () => {
    mockApi({
      'GET /api/settings/email': () => json(saved),
      'GET /api/settings/email/status': () => json(noStatus),
      'POST /api/settings/email/test': () =>
        json({
          imap: { ok: true, stage: null, explanation: null, detail: null },
          smtp: {
            ok: false,
            stage: 'auth',
            explanation: 'the username or password was not accepted',
            detail: '535 5.7.8 Authentication credentials invalid',
          },
        }),
    });
    const { user } = renderWithApp(<EmailSettingsPage />);
    await user.click(await screen.findByRole('button', { name: 'Test connection' }));
    const result = await screen.findByRole('status', { name: 'Connection test result' });
    expect(within(result).getByText('Incoming mail (IMAP): connected')).toBeInTheDocument();
    expect(within(result).getByText('Outgoing mail (SMTP): failed')).toBeInTheDocument();
    expect(
      within(result).getByText('The username or password was not accepted.'),
    ).toBeInTheDocument();
    expect(
      within(result).getByText(/The server said: 535 5.7.8 Authentication credentials invalid/),
    ).toBeInTheDocument();
  });

  it('shows the live status: last fetch, last error and next retry', async () => {
    mockApi({
      'GET /api/settings/email': () => json(saved),
      'GET /api/settings/email/status': () =>
        json({
          last_fetch_at: '2026-12-02T07:00:00Z',
          last_error: 'IMAP: the server could not be reached (Connection refused)',
          last_error_at: '2026-12-02T07:30:00Z',
          next_retry_at: '2026-12-02T07:31:00Z',
          consecutive_failures: 2,
        }),
    });
    renderWithApp(<EmailSettingsPage />);
    expect(
      await screen.findByText('IMAP: the server could not be reached (Connection refused)'),
    ).toBeInTheDocument();
    expect(screen.getByText('Reading mail fails')).toBeInTheDocument();
    expect(screen.getByText(/2 failed attempts in a row/)).toBeInTheDocument();
    expect(screen.getByText('Next retry:')).toBeInTheDocument();
    expect(screen.queryByText('never')).not.toBeInTheDocument();
  });
});
