import { MantineProvider } from '@mantine/core';
import { QueryClientProvider } from '@tanstack/react-query';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import { AuthProvider } from '@/lib/auth/AuthProvider';
import { session } from '@/lib/auth/session';
import { apiError, json, mockApi } from '@/test/api';
import { admin, agent, tenant, ticket, triagedTicket } from '@/test/fixtures';
import { LocationProbe } from '@/test/render';
import { AppRoutes } from './AppRoutes';
import { createQueryClient } from './queryClient';
import { theme } from './theme';

function renderApp(route: string) {
  const client = createQueryClient();
  client.setDefaultOptions({ queries: { retry: false } });
  render(
    <MantineProvider theme={theme} env="test">
      <QueryClientProvider client={client}>
        <AuthProvider>
          <MemoryRouter initialEntries={[route]}>
            <AppRoutes />
            <LocationProbe />
          </MemoryRouter>
        </AuthProvider>
      </QueryClientProvider>
    </MantineProvider>,
  );
  return userEvent.setup();
}

const page = (items = [ticket]) => json({ items, total: items.length, page: 1, page_size: 25 });

describe('app routes and auth', () => {
  it('sends a signed-out visitor to login and back to the page they asked for', async () => {
    const api = mockApi({
      'POST /api/auth/login': () => json({ user: admin, tenant, access_token: 'tok-1' }),
      'GET /api/tickets/:id': () => json({ ticket, replies: [], latest_run: null }),
      'GET /api/team': () => json({ items: [admin] }),
    });
    const user = renderApp(`/tickets/${ticket.id}`);

    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeInTheDocument();
    await user.type(screen.getByLabelText(/Email/), 'ada@acme.test');
    await user.type(screen.getByLabelText(/Password/), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Log in' }));

    expect(await screen.findByRole('heading', { name: ticket.subject })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(`/tickets/${ticket.id}`);
    expect(session.getToken()).toBe('tok-1');
    const detail = api.find('GET', `/api/tickets/${ticket.id}`)[0];
    expect(detail?.headers.get('Authorization')).toBe('Bearer tok-1');
  });

  it('sends a user with an expired token to login with a message', async () => {
    session.setToken('expired-token');
    mockApi({ 'GET /api/auth/me': () => apiError(401, 'token_expired', 'Token expired') });
    renderApp('/tickets');
    expect(
      await screen.findByText('Your session has expired. Please log in again.'),
    ).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Log in' })).toBeInTheDocument();
    expect(session.getToken()).toBeNull();
  });

  it('logs out when the token expires mid-session', async () => {
    session.setToken('tok-1');
    let expired = false;
    mockApi({
      'GET /api/auth/me': () => json({ user: admin, tenant }),
      'GET /api/tickets': () =>
        expired ? apiError(401, 'token_expired', 'Token expired') : page(),
      'GET /api/team': () => json({ items: [admin] }),
      'GET /api/tickets/views': () => json({ items: [] }),
      'GET /api/tickets/:id': () => apiError(401, 'token_expired', 'Token expired'),
    });
    const user = renderApp('/tickets');
    expect(await screen.findByText(ticket.subject)).toBeInTheDocument();
    expired = true;
    await user.click(screen.getByRole('link', { name: ticket.subject }));
    expect(
      await screen.findByText('Your session has expired. Please log in again.'),
    ).toBeInTheDocument();
    expect(session.getToken()).toBeNull();
  });

  it('shows the workspace and user, and logs out from the user menu', async () => {
    session.setToken('tok-1');
    mockApi({
      'GET /api/auth/me': () => json({ user: admin, tenant }),
      'GET /api/tickets': () => page(),
      'GET /api/team': () => json({ items: [admin] }),
    });
    const user = renderApp('/tickets');
    expect(await screen.findByTestId('workspace-name')).toHaveTextContent('Acme Agency');
    const nav = screen.getByRole('navigation', { name: 'Main navigation' });
    expect(within(nav).getByRole('link', { name: 'Team' })).toBeInTheDocument();
    expect(within(nav).getByRole('link', { name: 'Settings' })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'User menu' }));
    await user.click(await screen.findByRole('menuitem', { name: 'Log out' }));
    expect(await screen.findByText('You have been logged out.')).toBeInTheDocument();
    expect(session.getToken()).toBeNull();
  });

  it('keeps agents out of Team and Settings', async () => {
    session.setToken('tok-agent');
    mockApi({
      'GET /api/auth/me': () => json({ user: agent, tenant }),
      'GET /api/tickets': () => page(),
      'GET /api/team': () => json({ items: [admin, agent] }),
    });
    renderApp('/team');
    expect(await screen.findByRole('heading', { name: 'Tickets' })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/tickets$/);
    expect(screen.getByText('That page is for workspace admins only.')).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Main navigation' });
    expect(within(nav).queryByRole('link', { name: 'Team' })).not.toBeInTheDocument();
    expect(within(nav).queryByRole('link', { name: 'Settings' })).not.toBeInTheDocument();
  });

  it('keeps agents out of the email settings, whose API is never asked', async () => {
    session.setToken('tok-agent');
    const api = mockApi({
      'GET /api/auth/me': () => json({ user: agent, tenant }),
      'GET /api/tickets': () => page(),
      'GET /api/team': () => json({ items: [admin, agent] }),
    });
    renderApp('/settings/email');
    expect(await screen.findByText('That page is for workspace admins only.')).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/tickets$/);
    expect(api.find('GET', '/api/settings/email')).toHaveLength(0);
  });

  it('keeps ticket filters in the URL and sends them to the API', async () => {
    session.setToken('tok-1');
    const api = mockApi({
      'GET /api/auth/me': () => json({ user: admin, tenant }),
      'GET /api/tickets': () => page([triagedTicket]),
      'GET /api/team': () => json({ items: [admin, agent] }),
    });
    const user = renderApp('/tickets?status=open&assignee=unassigned&q=refund&page=2');
    expect(await screen.findByText(triagedTicket.subject)).toBeInTheDocument();
    const first = api.find('GET', '/api/tickets')[0]!;
    expect(Object.fromEntries(first.query)).toEqual({
      status: 'open',
      assignee: 'unassigned',
      q: 'refund',
      page: '2',
      page_size: '25',
    });
    expect(screen.getByLabelText('Search')).toHaveValue('refund');

    await user.click(screen.getByLabelText('Priority', { selector: 'input' }));
    await user.click(await screen.findByRole('option', { name: 'Urgent' }));
    await waitFor(() =>
      expect(screen.getByTestId('location')).toHaveTextContent(
        '/tickets?status=open&assignee=unassigned&q=refund&priority=urgent',
      ),
    );
    await waitFor(() =>
      expect(api.find('GET', '/api/tickets').at(-1)?.query.get('priority')).toBe('urgent'),
    );
  });

  it('pages through tickets with the page in the URL', async () => {
    session.setToken('tok-1');
    const api = mockApi({
      'GET /api/auth/me': () => json({ user: admin, tenant }),
      'GET /api/team': () => json({ items: [admin] }),
      'GET /api/tickets': (request) =>
        json({
          items: [{ ...ticket, subject: `Ticket on page ${request.query.get('page')}` }],
          total: 60,
          page: Number(request.query.get('page')),
          page_size: 25,
        }),
    });
    const user = renderApp('/tickets?category=billing');
    expect(await screen.findByText('Ticket on page 1')).toBeInTheDocument();
    expect(screen.getByText('60 tickets')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: '3' }));
    expect(await screen.findByText('Ticket on page 3')).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent('/tickets?category=billing&page=3');
    expect(api.find('GET', '/api/tickets').at(-1)?.query.get('category')).toBe('billing');

    // Changing a filter goes back to the first page.
    await user.click(screen.getByLabelText('Status', { selector: 'input' }));
    await user.click(await screen.findByRole('option', { name: 'Open' }));
    expect(await screen.findByText('Ticket on page 1')).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(
      '/tickets?category=billing&status=open',
    );
  });

  it('says when the server cannot be reached and retries', async () => {
    session.setToken('tok-1');
    let down = true;
    mockApi({
      'GET /api/auth/me': () => json({ user: admin, tenant }),
      'GET /api/team': () => json({ items: [admin] }),
      'GET /api/tickets': () => page(),
    });
    const okFetch = globalThis.fetch;
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      if (down && url.includes('/api/tickets')) throw new TypeError('Failed to fetch');
      return okFetch(input, init);
    }) as typeof fetch;
    const user = renderApp('/tickets');
    expect(await screen.findByText('Network problem', {}, { timeout: 5000 })).toBeInTheDocument();
    down = false;
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText(ticket.subject)).toBeInTheDocument();
  });
});
