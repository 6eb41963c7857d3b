import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ReplyPolicies, ReplyPolicySettings } from '@/lib/api/types';
import { apiError, json, mockApi } from '@/test/api';
import { renderWithApp } from '@/test/render';
import { PoliciesSettingsPage } from '../routes/PoliciesSettingsPage';

const empty: ReplyPolicies = {
  sign_off: null,
  support_hours: null,
  status_page_url: null,
  languages: [],
  forbidden_commitments: [],
};

function settings(policies: ReplyPolicies): ReplyPolicySettings {
  return {
    policies,
    time_zones: ['Europe/Berlin', 'UTC'],
    engine_languages: ['en', 'es', 'de'],
  };
}

describe('Reply policies settings', () => {
  it('saves a sign-off, support hours, status page, languages and forbidden phrases', async () => {
    let current = settings(empty);
    const api = mockApi({
      'GET /api/settings/policies': () => json(current),
      'PUT /api/settings/policies': (request) => {
        current = settings(request.body as ReplyPolicies);
        return json(current);
      },
    });
    const { user } = renderWithApp(<PoliciesSettingsPage />, { route: '/settings/policies' });
    const signOff = await screen.findByLabelText('Sign-off');
    expect(screen.getByRole('button', { name: 'Save reply policies' })).toBeDisabled();
    expect(screen.queryByLabelText('Opens')).not.toBeInTheDocument();

    await user.click(signOff);
    await user.paste('Maria, Acme Support');
    await user.click(screen.getByRole('switch'));
    expect(screen.getByLabelText('Mon')).toBeChecked();
    expect(screen.getByLabelText('Sat')).not.toBeChecked();
    await user.click(screen.getByLabelText('Sat'));
    const closes = screen.getByLabelText('Closes');
    await user.clear(closes);
    await user.type(closes, '18:30');
    await user.click(screen.getByLabelText('Status page'));
    await user.paste('https://status.acme.example');
    await user.type(screen.getByPlaceholderText('en'), 'es{enter}en{enter}');
    await user.type(screen.getByPlaceholderText('refund'), 'refund{enter}');
    await user.click(screen.getByRole('button', { name: 'Save reply policies' }));

    expect(await screen.findByText('Reply policies saved')).toBeInTheDocument();
    expect(api.find('PUT', '/api/settings/policies')[0]?.body).toEqual({
      sign_off: 'Maria, Acme Support',
      support_hours: {
        days: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'],
        start: '09:00',
        end: '18:30',
        time_zone: 'UTC',
      },
      status_page_url: 'https://status.acme.example',
      languages: ['es', 'en'],
      forbidden_commitments: ['refund'],
    });
  });

  it('checks values before sending and shows the server’s field errors', async () => {
    const api = mockApi({
      'GET /api/settings/policies': () => json(settings(empty)),
      'PUT /api/settings/policies': () =>
        apiError(422, 'validation_failed', 'Invalid', {
          'languages[0]': '"xx" is not an ISO 639-1 language code (two letters, such as en or de)',
          'support_hours.time_zone': '"Mars/Olympus" is not a known IANA time zone',
        }),
    });
    const { user } = renderWithApp(<PoliciesSettingsPage />, { route: '/settings/policies' });
    const url = await screen.findByLabelText('Status page');
    await user.click(url);
    await user.paste('ftp://status.acme.example');
    await user.click(screen.getByRole('switch'));
    const closes = screen.getByLabelText('Closes');
    await user.clear(closes);
    await user.type(closes, '08:00');
    await user.click(screen.getByRole('button', { name: 'Save reply policies' }));
    expect(
      await screen.findByText('Status page must be an http:// or https:// URL'),
    ).toBeInTheDocument();
    expect(screen.getByText('Closing time must be after opening time')).toBeInTheDocument();
    expect(api.find('PUT', '/api/settings/policies')).toHaveLength(0);

    await user.clear(url);
    await user.clear(closes);
    await user.type(closes, '17:00');
    await user.type(screen.getByPlaceholderText('en'), 'xx{enter}');
    await user.click(screen.getByRole('button', { name: 'Save reply policies' }));
    expect(await screen.findByText(/"xx" is not an ISO 639-1 language code/)).toBeInTheDocument();
    expect(screen.getByText(/is not a known IANA time zone/)).toBeInTheDocument();
  });
});
