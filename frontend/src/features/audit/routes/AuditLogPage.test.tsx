import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { AuditEvent, Wire } from '@/lib/api/types';
import { apiError, json, mockApi, type RecordedRequest } from '@/test/api';
import { admin, agent } from '@/test/fixtures';
import { renderWithApp } from '@/test/render';
import { AUDIT_PAGE_SIZE, AuditLogPage } from './AuditLogPage';

function event(overrides: Partial<Wire<AuditEvent>>): AuditEvent {
  const base: Wire<AuditEvent> = {
    id: crypto.randomUUID(),
    at: '2026-12-02T06:00:00Z',
    kind: 'login_succeeded',
    actor_id: admin.id,
    actor_email: admin.email,
    target_user_id: admin.id,
    target_email: admin.email,
    ip: '192.0.2.10',
    detail: {},
  };
  return { ...base, ...overrides } as unknown as AuditEvent;
}

const roleChange = event({
  kind: 'role_changed',
  target_user_id: agent.id,
  target_email: agent.email,
  detail: { from_role: 'agent', to_role: 'admin' },
});
const failedLogin = event({
  kind: 'login_failed',
  actor_id: null,
  actor_email: null,
  target_user_id: agent.id,
  target_email: agent.email,
  ip: '203.0.113.9',
  detail: { reason: 'wrong_password' },
});
const settings = event({
  kind: 'settings_updated',
  target_user_id: null,
  target_email: null,
  ip: null,
  detail: { fields: 'name,policies' },
});

function server(total = 3) {
  return mockApi({
    'GET /api/audit': (request: RecordedRequest) => {
      const kinds = request.query.getAll('kind');
      const all = [roleChange, failedLogin, settings];
      const items = kinds.length ? all.filter((e) => kinds.includes(e.kind)) : all;
      const page = Number(request.query.get('page') ?? 1);
      return json({
        items,
        total: kinds.length ? items.length : total,
        page,
        per_page: Number(request.query.get('per_page')),
      });
    },
  });
}

describe('AuditLogPage', () => {
  it('shows time, who, what in words, target and address for each event', async () => {
    server();
    renderWithApp(<AuditLogPage />, { route: '/settings/audit' });
    const rows = await screen.findAllByTestId('audit-row');
    expect(rows).toHaveLength(3);
    expect(rows[0]).toHaveTextContent(admin.email);
    expect(rows[0]).toHaveTextContent('Changed the role from Agent to Admin');
    expect(rows[0]).toHaveTextContent(agent.email);
    expect(rows[0]).toHaveTextContent('192.0.2.10');
    expect(rows[0]).toHaveTextContent('2 Dec 2026');
    expect(rows[1]).toHaveTextContent('Not signed in');
    expect(rows[1]).toHaveTextContent('Failed to sign in (wrong password)');
    expect(rows[1]).toHaveTextContent(agent.email);
    expect(rows[2]).toHaveTextContent('Changed the workspace name and reply policies');
    expect(within(rows[2]!).getAllByText('—')).toHaveLength(2);
    expect(screen.getByText('3 events')).toBeInTheDocument();
    expect(screen.getByRole('tab', { name: 'Audit log' })).toHaveAttribute('aria-selected', 'true');
  });

  it('filters by kind and asks the server for those kinds only', async () => {
    const api = server();
    const { user } = renderWithApp(<AuditLogPage />, { route: '/settings/audit' });
    await screen.findAllByTestId('audit-row');
    await user.click(screen.getByRole('combobox', { name: 'Show only' }));
    await user.click(await screen.findByRole('option', { name: 'Failed sign-in' }));
    await waitFor(() => expect(screen.getAllByTestId('audit-row')).toHaveLength(1));
    expect(screen.getByTestId('audit-row')).toHaveTextContent('Failed to sign in');
    const last = api.find('GET', '/api/audit').at(-1)!;
    expect(last.query.getAll('kind')).toEqual(['login_failed']);
    expect(last.query.get('page')).toBe('1');
    expect(last.query.get('per_page')).toBe(String(AUDIT_PAGE_SIZE));
  });

  it('pages through a long log', async () => {
    const api = server(AUDIT_PAGE_SIZE * 2 + 1);
    const { user } = renderWithApp(<AuditLogPage />, { route: '/settings/audit' });
    await screen.findAllByTestId('audit-row');
    await user.click(screen.getByRole('button', { name: '2' }));
    await waitFor(() => expect(api.find('GET', '/api/audit').at(-1)?.query.get('page')).toBe('2'));
    expect(screen.getByRole('button', { name: '3' })).toBeInTheDocument();
  });

  it('explains a refusal instead of showing an empty log', async () => {
    mockApi({
      'GET /api/audit': () => apiError(403, 'forbidden', 'this action needs the admin role'),
    });
    renderWithApp(<AuditLogPage />, { route: '/settings/audit', user: agent });
    expect(await screen.findByText('this action needs the admin role')).toBeInTheDocument();
    expect(screen.queryByTestId('audit-row')).not.toBeInTheDocument();
  });
});
