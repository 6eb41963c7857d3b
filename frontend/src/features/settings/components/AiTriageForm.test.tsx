import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { AiSettings } from '@/lib/api/types';
import { apiError, json, mockApi } from '@/test/api';
import { renderWithApp } from '@/test/render';
import { AiSettingsPage } from '../routes/AiSettingsPage';

const defaults: AiSettings = {
  auto_triage: 'off',
  thresholds: { category: 0.8, priority: 0.8, assignee: 0.9 },
};

describe('AI triage settings', () => {
  it('shows the defaults and saves a new mode and thresholds', async () => {
    let current = defaults;
    const api = mockApi({
      'GET /api/settings/ai': () => json(current),
      'PUT /api/settings/ai': (request) => {
        current = request.body as AiSettings;
        return json(current);
      },
    });
    const { user } = renderWithApp(<AiSettingsPage />, { route: '/settings/ai' });
    expect(await screen.findByRole('radio', { name: 'Off' })).toBeChecked();
    expect(screen.getByLabelText('Priority threshold')).toHaveValue('0.8');
    expect(screen.getByText('Used in “Apply when confident” mode.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Save AI triage settings' })).toBeDisabled();

    await user.click(screen.getByRole('radio', { name: 'Apply when confident' }));
    expect(screen.getByText(/Used now: a field is set only when/)).toBeInTheDocument();
    const priority = screen.getByLabelText('Priority threshold');
    await user.clear(priority);
    await user.type(priority, '0.65');
    await user.click(screen.getByRole('button', { name: 'Save AI triage settings' }));

    expect(await screen.findByText('AI triage settings saved')).toBeInTheDocument();
    expect(api.find('PUT', '/api/settings/ai')[0]?.body).toEqual({
      auto_triage: 'apply',
      thresholds: { category: 0.8, priority: 0.65, assignee: 0.9 },
    });
  });

  it('refuses a threshold outside 0..1 and shows the server’s field errors', async () => {
    const api = mockApi({
      'GET /api/settings/ai': () => json(defaults),
      'PUT /api/settings/ai': () =>
        apiError(422, 'validation_failed', 'Invalid', {
          'thresholds.assignee': 'must be a number from 0 to 1',
        }),
    });
    const { user } = renderWithApp(<AiSettingsPage />, { route: '/settings/ai' });
    const category = await screen.findByLabelText('Category threshold');
    await user.clear(category);
    await user.click(screen.getByRole('button', { name: 'Save AI triage settings' }));
    expect(
      await screen.findByText('Category threshold must be a number from 0 to 1'),
    ).toBeInTheDocument();
    expect(api.find('PUT', '/api/settings/ai')).toHaveLength(0);

    await user.type(category, '0.7');
    await user.click(screen.getByRole('radio', { name: 'Suggest' }));
    await user.click(screen.getByRole('button', { name: 'Save AI triage settings' }));
    expect(await screen.findByText('must be a number from 0 to 1')).toBeInTheDocument();
  });
});
