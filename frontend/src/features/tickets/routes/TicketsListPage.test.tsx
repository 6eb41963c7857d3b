import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Ticket, TicketView } from '@/lib/api/types';
import { json, mockApi } from '@/test/api';
import { admin, agent, ticket, triagedTicket } from '@/test/fixtures';
import { renderWithApp } from '@/test/render';
import { formatDateTime } from '@/lib/format';
import { TicketsListPage } from './TicketsListPage';

const views: TicketView[] = [
  {
    id: 'my_open',
    name: 'My open',
    status: ['new', 'open', 'pending'],
    priority: [],
    assignee: 'me',
    sort: 'created',
    count: 3,
  },
  {
    id: 'unassigned',
    name: 'Unassigned',
    status: ['new', 'open', 'pending'],
    priority: [],
    assignee: 'unassigned',
    sort: 'created',
    count: 12,
  },
  {
    id: 'urgent_high',
    name: 'Urgent & high',
    status: ['new', 'open', 'pending'],
    priority: ['urgent', 'high'],
    assignee: null,
    sort: 'priority',
    count: 1042,
  },
  {
    id: 'all_open',
    name: 'All open',
    status: ['new', 'open', 'pending'],
    priority: [],
    assignee: null,
    sort: 'created',
    count: 15,
  },
  {
    id: 'replied',
    name: 'Replied',
    status: ['replied'],
    priority: [],
    assignee: null,
    sort: 'last_activity',
    count: 0,
  },
  {
    id: 'closed',
    name: 'Closed',
    status: ['closed'],
    priority: [],
    assignee: null,
    sort: 'last_activity',
    count: 7,
  },
] as TicketView[];

const urgent: Ticket = {
  ...triagedTicket,
  id: '0193a000-0000-7000-8000-00000000c002',
  number: 1042,
  subject: 'Checkout is down',
  priority: 'urgent',
  updated_at: '2026-11-26T08:30:00Z',
};

function server() {
  return mockApi({
    'GET /api/tickets/views': () => json({ items: views }),
    'GET /api/tickets': (request) => {
      const items = request.query.get('view') === 'urgent_high' ? [urgent] : [ticket, urgent];
      return json({ items, total: items.length, page: 1, page_size: 25 });
    },
    'GET /api/team': () => json({ items: [admin, agent] }),
  });
}

describe('TicketsListPage', () => {
  it('lists the views with their counts in the sidebar', async () => {
    server();
    renderWithApp(<TicketsListPage />, { route: '/tickets', path: '/tickets' });
    const nav = await screen.findByRole('navigation', { name: 'Views' });
    await within(nav).findByText('Urgent & high');
    for (const view of views) {
      const link = within(nav).getByTestId(`view-${view.id}`);
      expect(link).toHaveTextContent(view.name);
      expect(link).toHaveTextContent(view.count.toLocaleString());
    }
    expect(within(nav).getByRole('link', { name: 'All tickets' })).toHaveAttribute(
      'aria-current',
      'page',
    );
  });

  it('opens a view from the sidebar: URL, request, title and its default sort', async () => {
    const api = server();
    const { user } = renderWithApp(<TicketsListPage />, { route: '/tickets', path: '/tickets' });
    const nav = await screen.findByRole('navigation', { name: 'Views' });
    await user.click(await within(nav).findByTestId('view-urgent_high'));

    await waitFor(() =>
      expect(screen.getByTestId('location')).toHaveTextContent('/tickets?view=urgent_high'),
    );
    expect(await screen.findByRole('heading', { name: 'Urgent & high' })).toBeInTheDocument();
    await waitFor(() =>
      expect(
        api.find('GET', '/api/tickets').some((r) => r.query.get('view') === 'urgent_high'),
      ).toBe(true),
    );
    expect(await screen.findByRole('link', { name: urgent.subject })).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: ticket.subject })).not.toBeInTheDocument();
    expect(screen.getByRole('combobox', { name: 'Sort' })).toHaveValue('Priority');
    expect(within(nav).getByTestId('view-urgent_high')).toHaveAttribute('aria-current', 'page');
  });

  it('shows number and Updated column, links by number and keeps the sort in the URL', async () => {
    const api = server();
    const { user } = renderWithApp(<TicketsListPage />, {
      route: '/tickets?view=all_open',
      path: '/tickets',
    });
    const link = await screen.findByRole('link', { name: urgent.subject });
    expect(link).toHaveAttribute('href', '/tickets/1042');
    const row = link.closest('tr') as HTMLElement;
    expect(within(row).getByText('#1042')).toBeInTheDocument();
    expect(within(row).getByTestId('ticket-updated')).toHaveTextContent(
      formatDateTime(urgent.updated_at),
    );
    expect(screen.getByRole('columnheader', { name: 'Updated' })).toBeInTheDocument();

    await user.click(screen.getByRole('combobox', { name: 'Sort' }));
    await user.click(await screen.findByRole('option', { name: 'Oldest waiting' }));
    await waitFor(() =>
      expect(screen.getByTestId('location')).toHaveTextContent(
        '/tickets?view=all_open&sort=oldest_waiting',
      ),
    );
    await waitFor(() =>
      expect(
        api.find('GET', '/api/tickets').some((r) => r.query.get('sort') === 'oldest_waiting'),
      ).toBe(true),
    );
  });

  it('offers Best match only while searching, and numbers its pages past the cap', async () => {
    const api = mockApi({
      'GET /api/tickets/views': () => json({ items: views }),
      'GET /api/tickets': () =>
        json({
          items: [ticket],
          total: 1000,
          total_exact: false,
          next_cursor: null,
          page: 1,
          page_size: 25,
        }),
      'GET /api/team': () => json({ items: [admin, agent] }),
    });
    const { user } = renderWithApp(<TicketsListPage />, { route: '/tickets', path: '/tickets' });
    await screen.findByRole('link', { name: ticket.subject });
    await user.click(screen.getByRole('combobox', { name: 'Sort' }));
    expect(await screen.findByRole('option', { name: 'Oldest waiting' })).toBeInTheDocument();
    expect(screen.queryByRole('option', { name: 'Best match' })).not.toBeInTheDocument();
    await user.keyboard('{Escape}');

    await user.type(screen.getByRole('textbox', { name: /search/i }), 'refund');
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('q=refund'));
    await user.click(screen.getByRole('combobox', { name: 'Sort' }));
    await user.click(await screen.findByRole('option', { name: 'Best match' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('sort=relevance'));
    await waitFor(() =>
      expect(api.find('GET', '/api/tickets').some((r) => r.query.get('sort') === 'relevance')).toBe(
        true,
      ),
    );
    // Ranked results have no cursor: the first 1,000 are numbered pages.
    expect(await screen.findByRole('button', { name: '40' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Next page' })).not.toBeInTheDocument();
  });

  it('says 1,000+ past the counting cap and pages on by cursor', async () => {
    const api = mockApi({
      'GET /api/tickets/views': () => json({ items: views }),
      'GET /api/tickets': (request) =>
        request.query.get('cursor') === 't1.second'
          ? json({
              items: [urgent],
              total: 1000,
              total_exact: false,
              next_cursor: null,
              page: 1,
              page_size: 25,
            })
          : json({
              items: [ticket],
              total: 1000,
              total_exact: false,
              next_cursor: 't1.second',
              page: 1,
              page_size: 25,
            }),
      'GET /api/team': () => json({ items: [admin, agent] }),
    });
    const { user } = renderWithApp(<TicketsListPage />, { route: '/tickets', path: '/tickets' });
    expect(await screen.findByText('1,000+ tickets')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'First page' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Next page' }));
    await waitFor(() =>
      expect(screen.getByTestId('location')).toHaveTextContent('/tickets?cursor=t1.second'),
    );
    expect(await screen.findByRole('link', { name: urgent.subject })).toBeInTheDocument();
    expect(api.find('GET', '/api/tickets').some((r) => r.query.get('cursor') === 't1.second')).toBe(
      true,
    );
    expect(screen.getByRole('button', { name: 'Next page' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'First page' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent(/\/tickets$/));
  });

  it('selects rows (shift-click for a range) and changes them in one bulk request', async () => {
    const third: Ticket = {
      ...ticket,
      id: '0193a000-0000-7000-8000-00000000c003',
      number: 77,
      subject: 'Third one',
    };
    const api = mockApi({
      'GET /api/tickets/views': () => json({ items: views }),
      'GET /api/tickets': () =>
        json({
          items: [ticket, urgent, third],
          total: 3,
          total_exact: true,
          page: 1,
          page_size: 25,
        }),
      'GET /api/team': () => json({ items: [admin, agent] }),
      'POST /api/tickets/bulk': (request) => {
        const ids = (request.body as { ids: string[] }).ids;
        return json({
          results: ids.map((id) =>
            id === third.id
              ? { id, ok: false, error: { code: 'ticket_not_found', message: 'ticket not found' } }
              : { id, ok: true, ticket: { ...ticket, id, status: 'closed' } },
          ),
          updated: ids.length - 1,
          failed: 1,
        });
      },
    });
    const { user } = renderWithApp(<TicketsListPage />, { route: '/tickets', path: '/tickets' });
    await user.click(await screen.findByRole('checkbox', { name: `Select #${ticket.number}` }));
    await user.keyboard('{Shift>}');
    await user.click(screen.getByRole('checkbox', { name: 'Select #77' }));
    await user.keyboard('{/Shift}');
    const bar = await screen.findByRole('region', { name: 'Bulk actions' });
    expect(within(bar).getByText('3 selected')).toBeInTheDocument();
    await user.click(within(bar).getByRole('button', { name: 'Close' }));

    await waitFor(() => expect(api.find('POST', '/api/tickets/bulk')).toHaveLength(1));
    expect(api.find('POST', '/api/tickets/bulk')[0]?.body).toEqual({
      ids: [ticket.id, urgent.id, third.id],
      changes: { status: 'closed' },
    });
    expect(await screen.findByText('2 of 3 tickets updated')).toBeInTheDocument();
    expect(screen.getByText('1 not changed: ticket not found')).toBeInTheDocument();
    // The ticket that could not be changed stays selected.
    expect(
      within(screen.getByRole('region', { name: 'Bulk actions' })).getByText('1 selected'),
    ).toBeInTheDocument();
    expect(screen.getByRole('checkbox', { name: 'Select #77' })).toBeChecked();

    await user.click(screen.getByRole('checkbox', { name: 'Select all tickets shown' }));
    expect(
      within(screen.getByRole('region', { name: 'Bulk actions' })).getByText('3 selected'),
    ).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Clear selection' }));
    expect(screen.queryByRole('region', { name: 'Bulk actions' })).not.toBeInTheDocument();
  });
});
