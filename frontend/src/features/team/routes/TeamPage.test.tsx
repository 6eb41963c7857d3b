import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { User } from '@/lib/api/types';
import { apiError, json, mockApi } from '@/test/api';
import { admin, agent } from '@/test/fixtures';
import { renderWithApp } from '@/test/render';
import { TeamPage } from './TeamPage';

function server() {
  let users: User[] = [admin, agent];
  return mockApi({
    'GET /api/users': () => json({ items: users }),
    'POST /api/users': (request) => {
      const body = request.body as { name: string; email: string; role: User['role'] };
      if (body.email === ben())
        return apiError(409, 'email_taken', 'Email taken', {
          email: 'This email is already in use',
        });
      const created = { ...agent, id: 'new-user', ...body };
      users = [...users, created];
      return json({ user: created, temporary_password: 'Tmp-9xQ!r7vL2p' }, 201);
    },
    'POST /api/users/:id/password-reset': (request) => {
      const id = request.path.split('/')[3];
      if (!users.some((u) => u.id === id)) return apiError(404, 'user_not_found', 'User not found');
      return json({ temporary_password: 'Reset-4kW!m2Zq8v' });
    },
    'PATCH /api/users/:id': (request) => {
      const id = request.path.split('/').pop();
      const changes = request.body as Partial<User>;
      if (id === admin.id && (changes.role === 'agent' || changes.active === false))
        return apiError(409, 'last_admin', 'The workspace needs at least one active admin.');
      users = users.map((u) => (u.id === id ? { ...u, ...changes } : u));
      return json(users.find((u) => u.id === id));
    },
  });
}
const ben = () => agent.email;

describe('TeamPage', () => {
  it('lists users with name, email, role and status', async () => {
    server();
    renderWithApp(<TeamPage />);
    const rows = await screen.findAllByTestId('team-row');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toHaveTextContent('Ben Agent');
    expect(rows[1]).toHaveTextContent('ben@acme.test');
    expect(rows[1]).toHaveTextContent('Active');
    expect(within(rows[1]!).getByLabelText('Role of Ben Agent', { selector: 'input' })).toHaveValue(
      'Agent',
    );
  });

  it('adds a user and shows the temporary password once with a copy button', async () => {
    const api = server();
    const { user } = renderWithApp(<TeamPage />);
    await screen.findAllByTestId('team-row');
    await user.click(screen.getByRole('button', { name: 'Add user' }));
    const dialog = await screen.findByRole('dialog');
    await user.type(within(dialog).getByLabelText(/Name/), 'Cleo New');
    await user.type(within(dialog).getByLabelText(/Email/), 'cleo@acme.test');
    await user.click(within(dialog).getByRole('button', { name: 'Add user' }));

    expect(await within(dialog).findByTestId('temporary-password')).toHaveTextContent(
      'Tmp-9xQ!r7vL2p',
    );
    expect(within(dialog).getByRole('button', { name: 'Copy password' })).toBeInTheDocument();
    expect(api.find('POST', '/api/users')[0]?.body).toEqual({
      name: 'Cleo New',
      email: 'cleo@acme.test',
      role: 'agent',
    });
    await user.click(within(dialog).getByRole('button', { name: 'Done' }));
    await waitFor(() => expect(screen.queryByTestId('temporary-password')).not.toBeInTheDocument());
    expect(await screen.findByText('Cleo New')).toBeInTheDocument();
  });

  it('shows a duplicate email on the email field', async () => {
    server();
    const { user } = renderWithApp(<TeamPage />);
    await screen.findAllByTestId('team-row');
    await user.click(screen.getByRole('button', { name: 'Add user' }));
    const dialog = await screen.findByRole('dialog');
    await user.type(within(dialog).getByLabelText(/Name/), 'Ben Again');
    await user.type(within(dialog).getByLabelText(/Email/), agent.email);
    await user.click(within(dialog).getByRole('button', { name: 'Add user' }));
    expect(await within(dialog).findByText('This email is already in use')).toBeInTheDocument();
  });

  it('deactivates a user after confirming', async () => {
    const api = server();
    const { user } = renderWithApp(<TeamPage />);
    await screen.findAllByTestId('team-row');
    await user.click(screen.getByRole('button', { name: 'Deactivate Ben Agent' }));
    const dialog = await screen.findByRole('dialog', { name: 'Deactivate Ben Agent?' });
    await user.click(within(dialog).getByRole('button', { name: 'Deactivate' }));
    await waitFor(() =>
      expect(api.find('PATCH', `/api/users/${agent.id}`)[0]?.body).toEqual({ active: false }),
    );
    expect(await screen.findByText('Deactivated')).toBeInTheDocument();
  });

  it('explains why the last admin cannot be demoted', async () => {
    server();
    const { user } = renderWithApp(<TeamPage />);
    await screen.findAllByTestId('team-row');
    await user.click(screen.getByLabelText('Role of Ada Admin', { selector: 'input' }));
    await user.click(await screen.findByRole('option', { name: 'Agent' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The workspace needs at least one active admin.',
    );
  });

  it("resets a colleague's password after confirming and shows the new one once", async () => {
    const api = server();
    const { user } = renderWithApp(<TeamPage />);
    await screen.findAllByTestId('team-row');
    await user.click(screen.getByRole('button', { name: 'Reset password of Ben Agent' }));
    const dialog = await screen.findByRole('dialog', {
      name: 'Reset the password of Ben Agent?',
    });
    expect(api.find('POST', `/api/users/${agent.id}/password-reset`)).toHaveLength(0);
    await user.click(within(dialog).getByRole('button', { name: 'Reset password' }));
    expect(await within(dialog).findByTestId('temporary-password')).toHaveTextContent(
      'Reset-4kW!m2Zq8v',
    );
    expect(api.find('POST', `/api/users/${agent.id}/password-reset`)).toHaveLength(1);
    await user.click(within(dialog).getByRole('button', { name: 'Done' }));
    await waitFor(() => expect(screen.queryByTestId('temporary-password')).not.toBeInTheDocument());
  });

  it('offers no admin reset of your own password', async () => {
    server();
    renderWithApp(<TeamPage />);
    await screen.findAllByTestId('team-row');
    expect(screen.getByRole('button', { name: 'Reset password of Ben Agent' })).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Reset password of Ada Admin' }),
    ).not.toBeInTheDocument();
  });
});
