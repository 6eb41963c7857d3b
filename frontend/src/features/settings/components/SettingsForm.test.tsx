import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { apiError, json, mockApi } from '@/test/api';
import { tenant } from '@/test/fixtures';
import { renderWithApp } from '@/test/render';
import { SettingsPage } from '../routes/SettingsPage';

describe('SettingsPage', () => {
  it('saves the workspace name and policies and updates the top bar', async () => {
    let current = { ...tenant };
    const api = mockApi({
      'GET /api/tenant': () => json(current),
      'PATCH /api/tenant': (request) => {
        current = { ...current, ...(request.body as object), updated_at: '2026-11-25T12:00:00Z' };
        return json(current);
      },
    });
    const { user, auth } = renderWithApp(<SettingsPage />);
    const policies = await screen.findByLabelText('Policies');
    expect(policies).toHaveValue('No refunds after 30 days.');
    expect(screen.getByRole('button', { name: 'Save settings' })).toBeDisabled();

    await user.clear(screen.getByLabelText(/Workspace name/));
    await user.type(screen.getByLabelText(/Workspace name/), 'Acme Digital ');
    await user.type(policies, ' Support hours are 9-17 CET.');
    await user.click(screen.getByRole('button', { name: 'Save settings' }));

    expect(await screen.findByText('Settings saved')).toBeInTheDocument();
    expect(api.find('PATCH', '/api/tenant')[0]?.body).toEqual({
      name: 'Acme Digital',
      policies: 'No refunds after 30 days. Support hours are 9-17 CET.',
    });
    await waitFor(() =>
      expect(auth.updateTenant).toHaveBeenCalledWith(
        expect.objectContaining({ name: 'Acme Digital' }),
      ),
    );
  });

  it('validates the name and shows API field errors', async () => {
    mockApi({
      'GET /api/tenant': () => json(tenant),
      'PATCH /api/tenant': () =>
        apiError(422, 'validation_failed', 'Invalid', { policies: 'policies is too long' }),
    });
    const { user } = renderWithApp(<SettingsPage />);
    const name = await screen.findByLabelText(/Workspace name/);
    await user.clear(name);
    await user.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByText('Workspace name is required')).toBeInTheDocument();

    await user.type(name, 'Acme');
    await user.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByText('policies is too long')).toBeInTheDocument();
  });
});
