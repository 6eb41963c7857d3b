import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Ticket } from '@/lib/api/types';
import { apiError, json, mockApi } from '@/test/api';
import { admin, agent, aiDraft, ticket } from '@/test/fixtures';
import { renderWithApp } from '@/test/render';
import { TicketDetailPage } from './TicketDetailPage';

const sent = {
  ...aiDraft,
  id: 'reply-sent',
  author_type: 'human' as const,
  author_id: admin.id,
  draft: false,
  sent_at: '2026-11-25T11:00:00Z',
  body: 'We are on it.',
};

function server(patch?: (body: Partial<Ticket>) => ReturnType<typeof json> | undefined) {
  let current: Ticket = { ...ticket };
  return mockApi({
    'GET /api/tickets/:id': () =>
      json({ ticket: current, replies: [sent, aiDraft], latest_run: null }),
    'GET /api/team': () => json({ items: [admin, agent] }),
    'PATCH /api/tickets/:id': (request) => {
      const body = request.body as Partial<Ticket>;
      const refused = patch?.(body);
      if (refused) return refused;
      current = { ...current, ...body };
      return json(current);
    },
    'POST /api/tickets/:id/replies': (request) => {
      const body = request.body as { body: string; status?: Ticket['status'] };
      if (body.status) current = { ...current, status: body.status };
      return json({ ...sent, id: 'r2', body: body.body }, 201);
    },
  });
}

function renderDetail() {
  return renderWithApp(<TicketDetailPage />, {
    route: `/tickets/${ticket.id}`,
    path: '/tickets/:id',
  });
}

describe('TicketDetailPage', () => {
  it('loads a ticket by its number and shows the number in the header and page title', async () => {
    const api = server();
    renderWithApp(<TicketDetailPage />, {
      route: `/tickets/${ticket.number}`,
      path: '/tickets/:id',
    });
    expect(await screen.findByRole('heading', { name: ticket.subject })).toBeInTheDocument();
    expect(api.find('GET', `/api/tickets/${ticket.number}`)).toHaveLength(1);
    expect(screen.getByTestId('ticket-number')).toHaveTextContent(`Ticket #${ticket.number}`);
    await waitFor(() =>
      expect(document.title).toBe(`#${ticket.number} ${ticket.subject} · OpsFlow`),
    );
  });

  it('shows the customer message and tells sent replies from AI drafts', async () => {
    server();
    renderDetail();
    expect(await screen.findByRole('heading', { name: ticket.subject })).toBeInTheDocument();
    expect(screen.getByTestId('message-customer')).toHaveTextContent(ticket.body);
    expect(screen.getByTestId('message-agent')).toHaveTextContent('Ada Admin');
    expect(screen.getByTestId('message-agent')).toHaveTextContent('Agent reply · recorded');
    expect(screen.getByTestId('message-draft')).toHaveTextContent('AI draft · not sent');
  });

  it('saves header edits with PATCH', async () => {
    const api = server();
    const { user } = renderDetail();
    await screen.findByRole('heading', { name: ticket.subject });
    await user.click(screen.getByLabelText('Assignee', { selector: 'input' }));
    await user.click(await screen.findByRole('option', { name: 'Ben Agent' }));
    await waitFor(() =>
      expect(api.find('PATCH', `/api/tickets/${ticket.id}`)[0]?.body).toEqual({
        assignee_id: agent.id,
      }),
    );
    await user.click(screen.getByLabelText('Priority', { selector: 'input' }));
    await user.click(await screen.findByRole('option', { name: 'Urgent' }));
    await waitFor(() =>
      expect(api.find('PATCH', `/api/tickets/${ticket.id}`)[1]?.body).toEqual({
        priority: 'urgent',
      }),
    );
    expect(screen.getByLabelText('Priority', { selector: 'input' })).toHaveValue('Urgent');
    expect(screen.getByLabelText('Assignee', { selector: 'input' })).toHaveValue('Ben Agent');
  });

  it('edits the subject and customer, sending only what changed', async () => {
    const api = server();
    const { user } = renderDetail();
    await screen.findByRole('heading', { name: ticket.subject });
    await user.click(screen.getByRole('button', { name: 'Edit subject and customer' }));
    const form = screen.getByRole('form', { name: 'Edit subject and customer' });
    const subject = within(form).getByLabelText(/Subject/);
    expect(subject).toHaveValue(ticket.subject);

    // Client-side rules match the API's: nothing is sent while a field is invalid.
    await user.clear(subject);
    await user.clear(within(form).getByLabelText(/Customer email/));
    await user.type(within(form).getByLabelText(/Customer email/), 'not-an-email');
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    expect(await within(form).findByText('Subject is required')).toBeInTheDocument();
    expect(within(form).getByText('Enter a valid email address')).toBeInTheDocument();
    expect(api.find('PATCH', `/api/tickets/${ticket.id}`)).toHaveLength(0);

    await user.type(subject, '  Refund still missing  ');
    await user.clear(within(form).getByLabelText(/Customer email/));
    await user.type(within(form).getByLabelText(/Customer email/), ticket.customer_email);
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(api.find('PATCH', `/api/tickets/${ticket.id}`)[0]?.body).toEqual({
        subject: 'Refund still missing',
      }),
    );
    expect(
      await screen.findByRole('heading', { name: 'Refund still missing' }),
    ).toBeInTheDocument();
    expect(screen.queryByRole('form', { name: 'Edit subject and customer' })).toBeNull();
  });

  it("shows the API's field errors on the header fields and keeps the edit open", async () => {
    const api = server((body) =>
      body.customer_email
        ? apiError(422, 'validation_failed', 'Invalid input', {
            customer_email: 'must look like name@domain.tld',
          })
        : undefined,
    );
    const { user } = renderDetail();
    await screen.findByRole('heading', { name: ticket.subject });
    await user.click(screen.getByRole('button', { name: 'Edit subject and customer' }));
    const form = screen.getByRole('form', { name: 'Edit subject and customer' });
    const mail = within(form).getByLabelText(/Customer email/);
    await user.clear(mail);
    await user.type(mail, 'dana@shop.example');
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    expect(await within(form).findByText('must look like name@domain.tld')).toBeInTheDocument();
    expect(api.find('PATCH', `/api/tickets/${ticket.id}`)[0]?.body).toEqual({
      customer_email: 'dana@shop.example',
    });
    // Cancel leaves the ticket as it was.
    await user.click(within(form).getByRole('button', { name: 'Cancel' }));
    expect(screen.getByRole('heading', { name: ticket.subject })).toBeInTheDocument();
    expect(screen.getByText(ticket.customer_email, { exact: false })).toBeInTheDocument();
  });

  it('sends a manual reply and sets the status', async () => {
    const api = server();
    const { user } = renderDetail();
    await screen.findByRole('heading', { name: ticket.subject });
    const form = screen.getByRole('form', { name: 'Reply to customer' });
    await user.click(within(form).getByRole('button', { name: 'Save reply' }));
    expect(await within(form).findByText('Reply is required')).toBeInTheDocument();

    await user.type(within(form).getByLabelText(/Your reply/), 'Refund issued today.');
    await user.click(within(form).getByRole('button', { name: 'Save reply' }));
    await waitFor(() =>
      expect(api.find('POST', `/api/tickets/${ticket.id}/replies`)[0]?.body).toEqual({
        body: 'Refund issued today.',
        status: 'replied',
      }),
    );
    await waitFor(() => expect(within(form).getByLabelText(/Your reply/)).toHaveValue(''));
  });

  it('shows a missing ticket as not found, with the way back and no retry', async () => {
    mockApi({
      'GET /api/tickets/:id': () => apiError(404, 'ticket_not_found', 'Ticket not found'),
      'GET /api/team': () => json({ items: [admin] }),
    });
    renderWithApp(<TicketDetailPage />, { route: '/tickets/1042', path: '/tickets/:id' });
    const alert = await screen.findByRole('alert');
    expect(within(alert).getByRole('heading', { name: 'Ticket not found' })).toBeInTheDocument();
    expect(alert).toHaveTextContent('There is no ticket #1042 in this workspace.');
    expect(within(alert).getByRole('link', { name: 'Back to tickets' })).toHaveAttribute(
      'href',
      '/tickets',
    );
    expect(within(alert).queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument();
  });

  it('treats a malformed ticket id as not found', async () => {
    mockApi({
      'GET /api/tickets/:id': () =>
        apiError(400, 'validation_failed', 'invalid request', { id: 'is not a valid ticket id' }),
      'GET /api/team': () => json({ items: [admin] }),
    });
    renderWithApp(<TicketDetailPage />, { route: '/tickets/not-a-ticket', path: '/tickets/:id' });
    const alert = await screen.findByRole('alert');
    expect(within(alert).getByRole('heading', { name: 'Ticket not found' })).toBeInTheDocument();
    expect(alert).toHaveTextContent('This link does not lead to a ticket in this workspace.');
  });

  it('keeps a reply being typed across a remount (an expired session) until it is saved', async () => {
    server();
    const first = renderDetail();
    await screen.findByRole('heading', { name: ticket.subject });
    const box = () =>
      within(screen.getByRole('form', { name: 'Reply to customer' })).getByLabelText(/Your reply/);
    await first.user.type(box(), 'Half-written answer');
    first.unmount();

    const second = renderDetail();
    await screen.findByRole('heading', { name: ticket.subject });
    expect(box()).toHaveValue('Half-written answer');
    // Another user on this browser does not see it.
    second.unmount();
    renderWithApp(<TicketDetailPage />, {
      route: `/tickets/${ticket.id}`,
      path: '/tickets/:id',
      user: agent,
    });
    await screen.findByRole('heading', { name: ticket.subject });
    expect(box()).toHaveValue('');
  });

  it('forgets the kept reply once it is saved', async () => {
    server();
    const first = renderDetail();
    await screen.findByRole('heading', { name: ticket.subject });
    const form = () => screen.getByRole('form', { name: 'Reply to customer' });
    await first.user.type(within(form()).getByLabelText(/Your reply/), 'Done, thanks.');
    await first.user.click(within(form()).getByRole('button', { name: 'Save reply' }));
    await waitFor(() => expect(within(form()).getByLabelText(/Your reply/)).toHaveValue(''));
    first.unmount();
    renderDetail();
    await screen.findByRole('heading', { name: ticket.subject });
    expect(within(form()).getByLabelText(/Your reply/)).toHaveValue('');
  });

  it('adds an internal note with a mention and shows notes apart from replies', async () => {
    const note = {
      ...sent,
      id: 'note-1',
      author_type: 'note' as const,
      author_id: agent.id,
      body: `@${admin.name} please check the invoice`,
    };
    const api = mockApi({
      'GET /api/tickets/:id': () => json({ ticket, replies: [sent, note], latest_run: null }),
      'GET /api/team': () => json({ items: [admin, agent] }),
      'POST /api/tickets/:id/notes': (request) =>
        json({ ...note, id: 'note-2', body: (request.body as { body: string }).body }, 201),
    });
    const { user } = renderDetail();
    const shown = await screen.findByTestId('message-note');
    expect(within(shown).getByText('Internal note · team only')).toBeInTheDocument();
    expect(within(shown).getByTestId('mention')).toHaveTextContent(`@${admin.name}`);

    await user.click(screen.getByRole('tab', { name: 'Internal note' }));
    const form = screen.getByRole('form', { name: 'Internal note' });
    await user.type(within(form).getByRole('textbox', { name: 'Note' }), 'Customer is VIP,');
    await user.click(within(form).getByRole('combobox', { name: 'Mention a colleague' }));
    await user.click(await screen.findByRole('option', { name: agent.name }));
    expect(within(form).getByRole('textbox', { name: 'Note' })).toHaveValue(
      `Customer is VIP, @${agent.name} `,
    );
    await user.click(within(form).getByRole('button', { name: 'Add note' }));
    await waitFor(() =>
      expect(api.find('POST', `/api/tickets/${ticket.id}/notes`)).toHaveLength(1),
    );
    expect(api.find('POST', `/api/tickets/${ticket.id}/notes`)[0]?.body).toEqual({
      body: `Customer is VIP, @${agent.name}`,
    });
    expect(api.find('POST', `/api/tickets/${ticket.id}/replies`)).toHaveLength(0);
  });
});
